// What a proxied request needs from the service that owns it (state, load balancers, config, logs, hooks).
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { CredentialLookup, SecretLookup } from '../core/auth';
import type { LbStateStore } from '../core/lb';
import type { RetryPlan } from '../core/retry';
import type { RouteBook } from '../core/routes';
import type { ConfigChoice } from '../core/routing';
import type { ProxyState } from '../core/state';
import type { ResolvedTimeouts } from '../core/timeouts';
import type { ServiceConfig, ServiceName, UpstreamConfig } from '../core/types';
import type { RequestFilter } from '../io/requestFilter';
import type { RequestLogWriter } from '../io/requestLogWriter';
import type { SessionCwdResolver } from '../io/sessionCwd';
import type { HttpDebugOptions } from './httpDebug';
import type { Logger } from './logger';
import type { RuntimeConfig } from './runtimeConfig';

/** Everything the pipeline needs, passed in by the service that owns it. */
export interface PipelineDeps {
  service: ServiceName;
  runtime: RuntimeConfig;
  state: ProxyState;
  lbStore: LbStateStore;
  filter: RequestFilter;
  credentials: CredentialLookup;
  cwd?: SessionCwdResolver;
  agent: Dispatcher;
  /** The agent for an upstream's connect timeout (defaults to `agent`). */
  agentFor?: (connectMs: number) => Dispatcher;
  /** Resolved `[timeouts]` of the current config. */
  timeouts: () => ResolvedTimeouts;
  /** Sticky failover routes per session and the service's failover status. */
  routes: RouteBook;
  env: NodeJS.ProcessEnv;
  secrets?: SecretLookup;
  log: Logger;
  requestLog?: RequestLogWriter;
  /** requests_debug.jsonl, when http_debug blobs are split out of requests.jsonl. */
  debugLog?: RequestLogWriter;
  /** logs/retry_trace.jsonl, only when CODEX_HELPER_RETRY_TRACE is on. */
  retryTrace?: RequestLogWriter;
  httpDebug: HttpDebugOptions;
  maxBodyBytes: number;
  retryPlan: () => RetryPlan;
  /** The configs that may serve a request of this session, in order. */
  choose: (sessionId: string | undefined) => ConfigChoice;
  now: () => number;
  /** Called for each usage-exhausted upstream a request could not use, so its quota is re-checked (throttled). */
  onUsageExhausted?: (config: ServiceConfig, index: number, upstream: UpstreamConfig, path: string, method: string) => void;
  /** Called after a 2xx answer started streaming (usage-provider polling hooks in here). */
  onUpstreamSuccess?: (config: ServiceConfig, index: number, upstream: UpstreamConfig, path: string, method: string) => void;
  /** Called as each proxied request starts (the worker keeps them, to record the last answers of a crash). */
  onRequest?: (res: ServerResponse, request: LastWords) => void;
}

/** What a request in flight can still do when the proxy is about to die (see ProxyHost.failInFlight). */
export interface LastWords {
  /** Records the request as answered with `status` and `proxy_restarting`, and stops it (its upstream call too). */
  recordLastWords(status: number, message: string): void;
}
