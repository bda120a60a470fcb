// What the VS Code side needs from a running proxy, whether it lives on this thread (ProxyHost) or in a worker
// (ProxyWorkerClient). Reads go through the admin API (AdminClient); this is only lifecycle and change signals.
import type { Disposable } from '../core/events';
import type { ServiceName } from '../core/types';

export const DEFAULT_PORTS: Record<ServiceName, number> = { codex: 3211, claude: 3210 };

export interface ListenOptions {
  host?: string;
  port?: number;
  allowRemote?: boolean;
}

export interface Listener {
  service: ServiceName;
  url: string;
  host: string;
  port: number;
}

/** A listener that could not start; `code` is stable (EADDRINUSE, REMOTE_NOT_ALLOWED, DISPOSED, WORKER_EXITED, …). */
export class ListenError extends Error {
  constructor(readonly code: string, message: string, readonly port: number) {
    super(message);
  }
}

export interface ReloadOutcome {
  reloaded: boolean;
  error?: { message: string };
}

/** A listener's fate after the proxy under it died: gone for now, or back on the same port. */
export type ListenerEvent =
  | { kind: 'lost'; code: string; message: string; port: number }
  | { kind: 'restored'; listener: Listener };

/** Lifecycle and change signals of one proxy (both services). */
export interface ProxyEngine {
  readonly listeners: readonly Listener[];
  /** Starts the listener of `service`; rejects with an error carrying a `code` (EADDRINUSE, …). */
  listen(service: ServiceName, o?: ListenOptions): Promise<Listener>;
  /** Stops one listener (or all), letting in-flight requests finish for up to `graceMs`. */
  stop(service?: ServiceName, graceMs?: number): Promise<void>;
  dispose(graceMs?: number): Promise<void>;
  /** Called when the data behind `service` may have changed (state, load-balancer health). */
  onDidChange(service: ServiceName, listener: () => void): Disposable;
  /** Called after every successful config reload. */
  onDidReload(listener: () => void): Disposable;
  /** Reloads config.toml now; a broken file keeps the last good config and reports why. */
  forceReload(): ReloadOutcome | Promise<ReloadOutcome>;
  /** Only proxies that can die on their own (a worker) report lost and restored listeners. */
  onDidChangeListener?(listener: (service: ServiceName, e: ListenerEvent) => void): Disposable;
}
