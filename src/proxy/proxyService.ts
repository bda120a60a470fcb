// One service (codex or claude): its state, load-balancer health, filter and credential fallback, and the
// pipeline deps that bind them. Both services share the runtime config, the upstream pool and the request log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { credentialFileFor } from '../io/credentialFile';
import type { SecretLookup } from '../core/auth';
import type { CredentialFile } from '../io/credentialFile';
import { resolveRetry } from '../core/config';
import { RequestFilter } from '../io/requestFilter';
import { LbStateStore } from '../core/lb';
import type { RequestLogWriter } from '../io/requestLogWriter';
import { tailOf } from '../io/tailLines';
import type { EnvOptions } from '../core/envOptions';
import { httpDebugOptions } from './httpDebug';
import { retryPlan } from '../core/retry';
import type { RetryPlan } from '../core/retry';
import { SessionCwdResolver } from '../io/sessionCwd';
import { ProxyState } from '../core/state';
import { displayUrl } from '../core/urlMask';
import type { PriceFn } from '../core/state';
import { chooseConfigs } from '../core/routing';
import { RouteBook } from '../core/routes';
import { resolveTimeouts } from '../core/timeouts';
import type { ResolvedTimeouts } from '../core/timeouts';
import type { ConfigChoice } from '../core/routing';
import type { ProxyConfig, ServiceConfig, ServiceConfigManager, ServiceName, UpstreamConfig } from '../core/types';
import type { Logger } from './logger';
import { handleProxyRequest } from './pipeline';
import { afterBurst, settlePending } from './afterBurst';
import { ModelCatalog } from './modelCatalog';
import type { PipelineDeps } from './pipelineDeps';
import type { RuntimeConfig } from './runtimeConfig';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ProxyServiceOptions {
  service: ServiceName;
  home: string;
  codexHome: string;
  claudeHome: string;
  env: NodeJS.ProcessEnv;
  knobs: EnvOptions;
  runtime: RuntimeConfig;
  agent: Dispatcher;
  /** The agent for an upstream's connect timeout. */
  agentFor?: (connectMs: number) => Dispatcher;
  log: Logger;
  requestLog?: RequestLogWriter;
  debugLog?: RequestLogWriter;
  retryTrace?: RequestLogWriter;
  secrets?: SecretLookup;
  now?: () => number;
  onUpstreamSuccess?: PipelineDeps['onUpstreamSuccess'];
  /** Prices finished requests (see PriceBook). */
  price?: PriceFn;
}

/** The per-service half of the proxy. */
export class ProxyService {
  readonly service: ServiceName;
  readonly state: ProxyState;
  readonly lbStore: LbStateStore;
  readonly routes: RouteBook;
  readonly credentials: CredentialFile;
  readonly deps: PipelineDeps;
  readonly models: ModelCatalog;
  private planCache: { cfg: ProxyConfig; plan: RetryPlan } | undefined;
  private timeoutCache: { cfg: ProxyConfig; timeouts: ResolvedTimeouts } | undefined;
  private choiceCache: { cfg: ProxyConfig; version: number; choice: ConfigChoice } | undefined;
  private routingVersion = 0;
  private readonly pruneTimer: NodeJS.Timeout;
  /** Proxied requests from their arrival to their answer's end (the state counts them only once their record began). */
  private handling = 0;
  private readonly handled = (): void => {
    this.handling--;
  };

  constructor(readonly opts: ProxyServiceOptions) {
    const now = opts.now ?? Date.now;
    this.service = opts.service;
    const cwd = opts.service === 'codex' ? new SessionCwdResolver(opts.codexHome, { now, ...cwdCache(opts.knobs) }) : undefined;
    this.state = new ProxyState(opts.service, {
      now,
      cwdResolver: cwd,
      price: opts.price,
      recentMax: opts.knobs.recentFinishedMax,
      sessionTtlMs: opts.knobs.sessionOverrideTtlSecs === undefined ? undefined : opts.knobs.sessionOverrideTtlSecs * 1000,
      rollupKeepDays: opts.knobs.usageRollupKeepDays,
      // A finished request's accounting (the state's entry, rollups, session totals, the log line) waits for the
      // burst too: streams end in bursts and their clients' next requests come in right behind. Every read of the
      // state accounts for what waits.
      scheduleFlush: afterBurst,
      // A clean answer's own record waits for the burst as well (see RequestAnswer.finishSoon()).
      settlePending,
      onFlushError: (e) => opts.log.error(`${opts.service}: could not record a finished request: ${(e as Error)?.stack ?? e}`),
    });
    this.lbStore = new LbStateStore(now);
    this.routes = new RouteBook(now);
    this.credentials = credentialFileFor(opts.service, opts.codexHome, opts.claudeHome);
    this.deps = {
      service: opts.service,
      runtime: opts.runtime,
      state: this.state,
      lbStore: this.lbStore,
      filter: new RequestFilter(join(opts.home, 'filter.json'), now),
      credentials: this.credentials,
      cwd,
      agent: opts.agent,
      agentFor: opts.agentFor,
      timeouts: () => this.timeouts(),
      routes: this.routes,
      env: opts.env,
      secrets: opts.secrets,
      log: opts.log,
      requestLog: opts.requestLog,
      debugLog: opts.debugLog,
      retryTrace: opts.retryTrace,
      httpDebug: httpDebugOptions(opts.env),
      maxBodyBytes: MAX_BODY_BYTES,
      retryPlan: () => this.retryPlan(),
      choose: (sessionId) => this.choose(sessionId),
      now,
      onUpstreamSuccess: opts.onUpstreamSuccess,
    };
    this.models = new ModelCatalog(this, { home: opts.home, log: opts.log, now });
    this.state.onDidChange((e) => {
      if (e.kind === 'meta' || e.kind === 'override') this.routingVersion++;
    });
    this.pruneTimer = setInterval(() => this.state.prune(), 30_000);
    this.pruneTimer.unref();
  }

  /** The config manager of this service in the current snapshot. */
  get manager(): ServiceConfigManager {
    return this.opts.runtime.loaded.config[this.service];
  }

  /** The resolved retry plan of the current config (computed once per config snapshot). */
  retryPlan(): RetryPlan {
    const cfg = this.opts.runtime.loaded.config;
    if (this.planCache?.cfg !== cfg) this.planCache = { cfg, plan: retryPlan(resolveRetry(cfg.retry)) };
    return this.planCache.plan;
  }

  /** The resolved `[timeouts]` of the current config (computed once per config snapshot). */
  timeouts(): ResolvedTimeouts {
    const cfg = this.opts.runtime.loaded.config;
    if (this.timeoutCache?.cfg !== cfg) this.timeoutCache = { cfg, timeouts: resolveTimeouts(cfg.timeouts) };
    return this.timeoutCache.timeouts;
  }

  /**
   * The configs that serve a request, in order. Without a session pin the answer only changes with the config
   * snapshot, the global pin or config meta, so it is computed once per change instead of once per request.
   */
  choose(sessionId: string | undefined): ConfigChoice {
    const pinned = this.state.pinnedConfig(sessionId);
    if (pinned?.source === 'session') return chooseConfigs(this.manager, pinned, this.state.getConfigMeta());
    const cfg = this.opts.runtime.loaded.config;
    const c = this.choiceCache;
    if (c && c.cfg === cfg && c.version === this.routingVersion) return c.choice;
    const choice = chooseConfigs(cfg[this.service], pinned, this.state.getConfigMeta());
    this.choiceCache = { cfg, version: this.routingVersion, choice };
    return choice;
  }

  /** Handles one proxied (non-admin) request. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Model discovery is answered from the union of the upstreams, never from whichever one is first.
    if (this.models.matches(req)) return this.models.handle(req, res);
    this.handling++;
    return handleProxyRequest(this.deps, req, res).then(this.handled);
  }

  /**
   * Whether a proxied request is still being handled (reading its body, choosing its upstream, waiting for or
   * forwarding its answer), or the state counts something active (a request whose record began, a WebSocket
   * tunnel). A graceful stop waits for these.
   */
  get busy(): boolean {
    return this.handling > 0 || this.state.activeCount > 0;
  }

  /** Finds an upstream by config name and index in the current snapshot. */
  upstream(config: string, index: number): { config: ServiceConfig; upstream: UpstreamConfig } | undefined {
    const cfg = Object.hasOwn(this.manager.configs, config) ? this.manager.configs[config] : undefined;
    const up = cfg?.upstreams[index];
    return cfg && up ? { config: cfg, upstream: up } : undefined;
  }

  /** Replays the request log into the usage rollups (called once at start). */
  replayUsage(): number {
    if (!this.opts.knobs.usageReplayOnStartup) return 0;
    const providers: Record<string, string> = {};
    for (const c of Object.values(this.manager.configs)) {
      // requests.jsonl holds base URLs as shown (secret query values masked).
      for (const u of c.upstreams) if (u.tags['provider_id']) providers[displayUrl(u.base_url)] = u.tags['provider_id'];
    }
    try {
      const knobs = this.opts.knobs;
      const limits = { maxBytes: knobs.usageReplayMaxBytes, maxLines: knobs.usageReplayMaxLines };
      return this.state.replayRequestsLog(tailOf(join(this.opts.home, 'logs', 'requests.jsonl')), providers, limits);
    } catch (e) {
      this.opts.log.warn(`usage replay skipped: ${(e as Error).message}`);
      return 0;
    }
  }

  dispose(): void {
    clearInterval(this.pruneTimer);
    this.state.flushFinished();
  }
}

/** The session-cwd cache limits from the knobs (unset: the resolver's defaults). */
function cwdCache(k: EnvOptions): { ttlMs?: number; maxEntries?: number } {
  return {
    ttlMs: k.sessionCwdCacheTtlSecs === undefined ? undefined : k.sessionCwdCacheTtlSecs * 1000,
    maxEntries: k.sessionCwdCacheMaxEntries,
  };
}
