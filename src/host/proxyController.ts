// Lifecycle of our proxy (one ProxyEngine: the worker in VS Code, a ProxyHost in tests; a listener per service)
// and of "attached" services whose proxy runs in another process. Every consumer (tree, status bar, webview) reads
// through the same AdminClient and subscribes to the same per-service change events (coalesced per consumer by
// `subscribe`, the one coalescing point), so our proxy and an attached one share one code path. No `vscode` here.
import { combineDisposables, Emitter } from '../core/events';
import type { Disposable } from '../core/events';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { AdminClient } from '../proxy/adminClient';
import type { Logger } from '../proxy/logger';
import type { ListenerEvent, ProxyEngine } from '../proxy/proxyEngine';
import { Coalescer } from './coalescer';
import { t } from './l10n';

export type ServiceStatus =
  | { kind: 'stopped' }
  | { kind: 'running'; url: string; port: number }
  | { kind: 'attached'; url: string; port: number }
  | { kind: 'failed'; port: number; code: string; message: string };

export interface ProxyControllerOptions<H extends ProxyEngine = ProxyEngine> {
  /** Builds the proxy; may throw or reject (e.g. ConfigError for a broken config file). */
  createHost(): H | Promise<H>;
  log: Logger;
  /** Coalescing window of `subscribe`: least time between two refetches of one consumer (default 200 ms). */
  throttleMs?: number;
  /** Refetch interval for attached proxies, which have no events (default 2000 ms). */
  pollMs?: number;
  /** Hooks a new proxy (e.g. the worker's log level to the setting); disposing the result unhooks it. */
  bindHost?(host: H): Disposable;
}

/** A consumer's coalesced subscription: `schedule` asks for a run, `flush` runs now and waits for it. */
export interface ChangeSubscription extends Disposable {
  schedule(immediate?: boolean): void;
  flush(): Promise<void>;
}

export interface SubscribeOptions {
  /** This consumer's window instead of the controller's. */
  windowMs?: number;
  /** False while nobody could see the result: changes are dropped then (the consumer flushes when it can). */
  canRun?: () => boolean;
  onError?: (error: unknown) => void;
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

/** Owns our proxy engine and the per-service status, clients and change events. */
export class ProxyController<H extends ProxyEngine = ProxyEngine> {
  private hostValue: H | undefined;
  private hostPending: Promise<H | undefined> | undefined;
  private hostErrorValue: Error | undefined;
  private unbindHost: Disposable[] = [];
  private readonly statuses: Record<ServiceName, ServiceStatus> = { codex: { kind: 'stopped' }, claude: { kind: 'stopped' } };
  private readonly clients = new Map<ServiceName, AdminClient>();
  /** Raw: fires on every change of a service's data or status; consumers get it coalesced through `subscribe`. */
  private readonly changes: Record<ServiceName, Emitter<void>> = { codex: new Emitter(), claude: new Emitter() };
  private readonly polls = new Map<ServiceName, ReturnType<typeof setInterval>>();
  private readonly statusChanges = new Emitter<ServiceName>();
  private readonly windowMs: number;
  private readonly pollMs: number;
  /** Tail of the operations queued per service (see `serial`). */
  private readonly queues: Record<ServiceName, Promise<void>> = { codex: Promise.resolve(), claude: Promise.resolve() };
  private disposed = false;

  constructor(private readonly opts: ProxyControllerOptions<H>) {
    this.windowMs = opts.throttleMs ?? 200;
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

  /** Fires when a service's status changes (start, stop, attach, failure). */
  readonly onDidChangeStatus = this.statusChanges.event;

  /**
   * Runs `work` (a refetch) when the data or status behind any of `services` may have changed: coalesced, at most
   * once per window, never two runs at once, and a change during a run becomes one more run after it.
   */
  subscribe(services: ServiceName | readonly ServiceName[], work: () => unknown, o: SubscribeOptions = {}): ChangeSubscription {
    const c = new Coalescer(work, { windowMs: o.windowMs ?? this.windowMs, canRun: o.canRun, onError: o.onError });
    const subs = (typeof services === 'string' ? [services] : services).map((s) => this.changes[s].event(() => c.schedule()));
    return {
      schedule: (immediate) => c.schedule(immediate),
      flush: () => c.flush(),
      dispose: () => {
        combineDisposables(...subs).dispose();
        c.dispose();
      },
    };
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
      for (const s of SERVICE_NAMES) this.unbindHost.push(host.onDidChange(s, () => this.changes[s].fire()));
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
      if (this.disposed) return this.set(service, { kind: 'failed', port, code: 'DISPOSED', message: t('Codex Helper is shutting down') });
      const host = await this.ensureHost();
      if (!host) {
        const e = this.hostErrorValue;
        return this.set(service, { kind: 'failed', port, code: (e as { code?: string })?.code ?? 'HOST_FAILED', message: e?.message ?? t('proxy could not start') });
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
      this.setPolling(service, this.pollMs);
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
    for (const s of SERVICE_NAMES) this.changes[s].dispose();
    this.statusChanges.dispose();
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
    this.setPolling(service, undefined);
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
    combineDisposables(...this.unbindHost).dispose();
    this.unbindHost = [];
    const host = this.hostValue;
    this.hostValue = undefined;
    this.hostErrorValue = undefined;
    await host?.dispose(2000);
  }

  private pokeAll(): void {
    for (const s of SERVICE_NAMES) this.changes[s].fire();
  }

  /** An attached proxy has no events for us: its data is refetched every `ms` instead. */
  private setPolling(service: ServiceName, ms: number | undefined): void {
    clearInterval(this.polls.get(service));
    this.polls.delete(service);
    if (ms === undefined) return;
    const poll = setInterval(() => this.changes[service].fire(), ms);
    poll.unref?.();
    this.polls.set(service, poll);
  }

  private set(service: ServiceName, status: ServiceStatus): ServiceStatus {
    this.statuses[service] = status;
    // Listeners are views; the emitter keeps one failing from breaking the lifecycle.
    this.statusChanges.fire(service);
    this.changes[service].fire();
    return status;
  }
}
