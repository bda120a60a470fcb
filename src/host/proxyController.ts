// Lifecycle of our proxy (one ProxyEngine: the worker in VS Code, a ProxyHost in tests; a listener per service)
// and of "attached" services whose proxy runs in another process. Every consumer (tree, status bar, webview) reads
// through the same AdminClient and one change feed per service, so our proxy and an attached one share one code
// path. No `vscode` here.
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { AdminClient } from '../proxy/adminClient';
import type { Logger } from '../proxy/logger';
import type { ListenerEvent, ProxyEngine } from '../proxy/proxyEngine';

export type ServiceStatus =
  | { kind: 'stopped' }
  | { kind: 'running'; url: string; port: number }
  | { kind: 'attached'; url: string; port: number }
  | { kind: 'failed'; port: number; code: string; message: string };

export interface ProxyControllerOptions<H extends ProxyEngine = ProxyEngine> {
  /** Builds the proxy; may throw or reject (e.g. ConfigError for a broken config file). */
  createHost(): H | Promise<H>;
  log: Logger;
  /** Coalescing window for state events before consumers refetch (default 200 ms). */
  throttleMs?: number;
  /** Refetch interval for attached proxies, which have no events (default 2000 ms). */
  pollMs?: number;
  /** Hooks a new proxy (e.g. the worker's log level to the setting); returns the unhook. */
  bindHost?(host: H): () => void;
}

/**
 * The port a client may be pointed at: the one our proxy serves (running or attached), else the configured port
 * only if a codex-helper answers there (`probe`, e.g. isProxyListening); undefined when something else or nothing
 * holds it.
 */
export async function servedPort(status: ServiceStatus, configured: number, probe: (port: number) => Promise<boolean>): Promise<number | undefined> {
  if (status.kind === 'running' || status.kind === 'attached') return status.port;
  return (await probe(configured)) ? configured : undefined;
}

/** Coalesces bursts of events into at most one call per window; never starves under steady traffic. */
class ChangeFeed {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly windowMs: number) {}

  readonly poke = (): void => {
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const l of [...this.listeners]) {
        try {
          l();
        } catch {
          // A failing view must not stop the others.
        }
      }
    }, this.windowMs);
    this.timer.unref?.();
  };

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setPolling(ms: number | undefined): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    if (ms === undefined) return;
    this.poll = setInterval(this.poke, ms);
    this.poll.unref?.();
  }

  dispose(): void {
    this.setPolling(undefined);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}

/** Owns our proxy engine and the per-service status, clients and change feeds. */
export class ProxyController<H extends ProxyEngine = ProxyEngine> {
  private hostValue: H | undefined;
  private hostPending: Promise<H | undefined> | undefined;
  private hostErrorValue: Error | undefined;
  private unbindHost: Array<() => void> = [];
  private readonly statuses: Record<ServiceName, ServiceStatus> = { codex: { kind: 'stopped' }, claude: { kind: 'stopped' } };
  private readonly clients = new Map<ServiceName, AdminClient>();
  private readonly feeds: Record<ServiceName, ChangeFeed>;
  private readonly statusListeners = new Set<(service: ServiceName) => void>();
  private readonly pollMs: number;
  /** Tail of the operations queued per service (see `serial`). */
  private readonly queues: Record<ServiceName, Promise<void>> = { codex: Promise.resolve(), claude: Promise.resolve() };
  private disposed = false;

  constructor(private readonly opts: ProxyControllerOptions<H>) {
    const w = opts.throttleMs ?? 200;
    this.feeds = { codex: new ChangeFeed(w), claude: new ChangeFeed(w) };
    this.pollMs = opts.pollMs ?? 2000;
  }

  /** Our proxy, if it could be built. */
  get host(): H | undefined {
    return this.hostValue;
  }

  /** Why the in-process proxy could not be built (shown once; the UI keeps working). */
  get hostError(): Error | undefined {
    return this.hostErrorValue;
  }

  status(service: ServiceName): ServiceStatus {
    return this.statuses[service];
  }

  /** Admin client of a running or attached service. */
  client(service: ServiceName): AdminClient | undefined {
    return this.clients.get(service);
  }

  /** Called when a service's status changes (start, stop, attach, failure). */
  onDidChangeStatus(listener: (service: ServiceName) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Called (coalesced) when the data behind a service may have changed: refetch then. */
  subscribe(service: ServiceName, listener: () => void): () => void {
    return this.feeds[service].subscribe(listener);
  }

  /** Builds our proxy if needed (once, however many callers wait); undefined (error kept) when it cannot be built. */
  ensureHost(): Promise<H | undefined> {
    if (this.hostValue) return Promise.resolve(this.hostValue);
    if (this.disposed) return Promise.resolve(undefined);
    this.hostPending ??= this.buildHost().finally(() => (this.hostPending = undefined));
    return this.hostPending;
  }

  private async buildHost(): Promise<H | undefined> {
    try {
      const host = await this.opts.createHost();
      if (this.disposed) {
        await host.dispose(0);
        return undefined;
      }
      this.hostValue = host;
      this.hostErrorValue = undefined;
      for (const s of SERVICE_NAMES) this.unbindHost.push(host.onDidChange(s, this.feeds[s].poke));
      this.unbindHost.push(host.onDidReload(() => this.pokeAll()));
      if (host.onDidChangeListener) this.unbindHost.push(host.onDidChangeListener((s, e) => this.onListenerEvent(s, e)));
      if (this.opts.bindHost) this.unbindHost.push(this.opts.bindHost(host));
      return host;
    } catch (e) {
      this.hostErrorValue = e as Error;
      return undefined;
    }
  }

  /** A worker crash drops our listeners and its restart brings them back: the status follows both. */
  private onListenerEvent(service: ServiceName, e: ListenerEvent): void {
    const was = this.statuses[service];
    if (e.kind === 'lost' && (was.kind === 'running' || (was.kind === 'failed' && was.code === 'WORKER_RESTARTING'))) {
      this.set(service, { kind: 'failed', port: e.port, code: e.code === 'WORKER_EXITED' ? 'WORKER_RESTARTING' : e.code, message: e.message });
    } else if (e.kind === 'restored' && was.kind === 'failed' && was.port === e.listener.port) {
      this.set(service, { kind: 'running', url: e.listener.url, port: e.listener.port });
    }
  }

  /** Starts the in-process listener of `service` on `port`; a bind failure becomes a `failed` status. */
  start(service: ServiceName, port: number): Promise<ServiceStatus> {
    return this.serial([service], async () => {
      await this.stopNow(service);
      if (this.disposed) return this.set(service, { kind: 'failed', port, code: 'DISPOSED', message: 'Codex Helper is shutting down' });
      const host = await this.ensureHost();
      if (!host) {
        const e = this.hostErrorValue;
        return this.set(service, { kind: 'failed', port, code: (e as { code?: string })?.code ?? 'HOST_FAILED', message: e?.message ?? 'proxy could not start' });
      }
      try {
        const l = await host.listen(service, { host: '127.0.0.1', port });
        this.clients.set(service, new AdminClient(l.url));
        this.opts.log.info(`${service} proxy listening on ${l.url}`);
        return this.set(service, { kind: 'running', url: l.url, port: l.port });
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        return this.set(service, { kind: 'failed', port, code: typeof code === 'string' ? code : 'LISTEN_FAILED', message: (e as Error).message });
      }
    });
  }

  /** Uses the proxy already listening on `port` through its admin API (polled, it has no events for us). */
  attach(service: ServiceName, port: number): Promise<ServiceStatus> {
    return this.serial([service], async () => {
      await this.stopNow(service);
      const url = `http://127.0.0.1:${port}`;
      this.clients.set(service, new AdminClient(url));
      this.feeds[service].setPolling(this.pollMs);
      this.opts.log.info(`${service}: attached to the proxy already running at ${url}`);
      return this.set(service, { kind: 'attached', url, port });
    });
  }

  /** Stops the listener (or detaches); in-flight requests get a short grace period. */
  stop(service: ServiceName): Promise<void> {
    return this.serial([service], () => this.stopNow(service));
  }

  /** Stops everything and drops the in-process proxy (a new config home needs a new one). */
  disposeHost(): Promise<void> {
    return this.serial(SERVICE_NAMES, () => this.disposeHostNow());
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.disposeHost();
    for (const f of Object.values(this.feeds)) f.dispose();
    this.statusListeners.clear();
  }

  /**
   * Runs `op` after every earlier start/stop/attach/dispose of the same services, so that concurrent callers
   * (auto-start, settings changes, commands) can never interleave a bind with a stop or a dispose.
   */
  private serial<T>(services: readonly ServiceName[], op: () => Promise<T>): Promise<T> {
    const run = Promise.all(services.map((s) => this.queues[s])).then(op);
    const done = run.then(() => undefined, () => undefined);
    for (const s of services) this.queues[s] = done;
    return run;
  }

  private async stopNow(service: ServiceName): Promise<void> {
    const was = this.statuses[service];
    this.feeds[service].setPolling(undefined);
    this.clients.delete(service);
    if (was.kind === 'running' || (was.kind === 'failed' && was.code === 'WORKER_RESTARTING')) {
      await this.hostValue?.stop(service, 2000);
      this.opts.log.info(`${service} proxy stopped`);
    }
    if (was.kind !== 'stopped') this.set(service, { kind: 'stopped' });
  }

  private async disposeHostNow(): Promise<void> {
    await this.hostPending;
    for (const s of SERVICE_NAMES) await this.stopNow(s);
    for (const u of this.unbindHost) u();
    this.unbindHost = [];
    const host = this.hostValue;
    this.hostValue = undefined;
    this.hostErrorValue = undefined;
    await host?.dispose(2000);
  }

  private pokeAll(): void {
    for (const s of SERVICE_NAMES) this.feeds[s].poke();
  }

  private set(service: ServiceName, status: ServiceStatus): ServiceStatus {
    this.statuses[service] = status;
    for (const l of [...this.statusListeners]) {
      try {
        l(service);
      } catch {
        // Listeners are views; one failing must not break the lifecycle.
      }
    }
    this.feeds[service].poke();
    return status;
  }
}
