// The one message channel between the VS Code side and the proxy worker (see workerMain.ts, ProxyWorkerClient).
// Calls carry an id and get exactly one reply; everything else is a one-way notice. Secrets cross it only as
// in-memory values the worker asked for by name; nothing here is ever persisted.
import type { LogLevel } from './logger';
import type { Listener, ListenOptions, ReloadOutcome } from './proxyEngine';
import type { ServiceName } from '../core/types';

/** What the worker is built from (its `workerData`). */
export interface WorkerInit {
  home: string;
  codexHome: string;
  claudeHome: string;
  env: Record<string, string | undefined>;
  logLevel: LogLevel;
  /** Write logs/requests.jsonl (default true). */
  requestLog?: boolean;
  /** Coalescing window of change notices, so a busy proxy costs the host thread one message per window. */
  changeWindowMs?: number;
}

/** Request and result of every call the host can make. */
export interface WorkerCalls {
  listen: { args: { service: ServiceName; options: ListenOptions }; result: Listener };
  stop: { args: { service?: ServiceName; graceMs?: number }; result: null };
  dispose: { args: { graceMs?: number }; result: null };
  reload: { args: Record<string, never>; result: ReloadOutcome };
}
export type WorkerOp = keyof WorkerCalls;

/** An error as it crosses the channel: a stable code, a message, and the port when it is about a listener. */
export interface WireError {
  code: string;
  message: string;
  port?: number;
}

export type HostToWorker =
  | { [K in WorkerOp]: { type: 'call'; id: number; op: K; args: WorkerCalls[K]['args'] } }[WorkerOp]
  /** The full set of secret values the worker asked for (a missing name is not set). */
  | { type: 'secrets'; values: Record<string, string> }
  | { type: 'logLevel'; level: LogLevel }
  /** Raises an uncaught error inside the worker: the crash path, on purpose (tests, "restart" drills). */
  | { type: 'crash'; message: string };

export type WorkerToHost =
  /** Built and ready for calls; `secretNames` are the secrets its config names. */
  | { type: 'ready'; secretNames: string[] }
  /** Could not be built (e.g. a broken config.toml); the worker exits after this. */
  | { type: 'initFailed'; error: WireError }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: WireError }
  | { type: 'log'; level: Exclude<LogLevel, 'off'>; msg: string }
  /** The data behind these services may have changed (coalesced). */
  | { type: 'changed'; services: ServiceName[] }
  /** The config was reloaded; these are the secrets it now names. */
  | { type: 'reloaded'; secretNames: string[] }
  /** An uncaught error: in-flight requests were answered, the worker exits next. */
  | { type: 'fatal'; error: WireError; inFlight: number };

/** An error as a WireError, keeping its `code` (and `port`) when it has one. */
export function toWire(e: unknown, fallbackCode = 'INTERNAL'): WireError {
  const err = e as { code?: unknown; message?: unknown; port?: unknown } | undefined;
  const code = typeof err?.code === 'string' && err.code ? err.code : fallbackCode;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return typeof err?.port === 'number' ? { code, message, port: err.port } : { code, message };
}
