// The VS Code side of the proxy worker: a ProxyEngine whose listeners, pipeline, state and logs live in a
// worker_thread. It hands the worker the secrets it names (in memory, on each change), turns worker log lines into
// our log, and when the worker dies it restarts it and re-binds the same ports. No `vscode` here.
// l10n-ignore-file: its errors describe the worker like Node's own errors do; what shows them wraps them in t().
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { Emitter } from '../core/events';
import type { Disposable, Event } from '../core/events';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { YOUNG_GENERATION_MB } from '../proxy/heapLimits';
import type { Logger, LogLevel } from '../proxy/logger';
import { ListenError } from '../proxy/proxyEngine';
import type { Listener, ListenerEvent, ListenOptions, ProxyEngine, ReloadOutcome } from '../proxy/proxyEngine';
import type { HostToWorker, WireError, WorkerCalls, WorkerInit, WorkerOp, WorkerToHost } from '../proxy/workerProtocol';

/** Where the worker gets the secret values it names; `load` may be slow (SecretStorage), `lookup` is not. */
export interface WorkerSecrets {
  load(names: readonly string[]): Promise<void>;
  lookup(name: string): string | undefined;
  onDidChange: Event<void>;
}

export interface ProxyWorkerOptions {
  /** Path of dist/proxyWorker.js. */
  script: string;
  init: WorkerInit;
  log: Logger;
  secrets?: WorkerSecrets;
  /** Told about every unexpected worker exit (before the restart); the UI shows the first one. */
  onCrash?: (error: WireError, willRestart: boolean) => void;
  /** Crashes allowed within `crashWindowMs` before the client stops restarting (default 5 in 60 s). */
  maxCrashes?: number;
  crashWindowMs?: number;
}

/** A worker that failed to start or died; `code` is stable (CONFIG_INVALID, WORKER_EXITED, …). */
export class WorkerError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** One live worker with its pending calls. */
interface Live {
  worker: Worker;
  pending: Map<number, Pending>;
  secretNames: string[];
}

/** Starts the worker and resolves once it is built and holds its secrets; rejects when it cannot be built. */
export async function startProxyWorker(opts: ProxyWorkerOptions): Promise<ProxyWorkerClient> {
  const client = new ProxyWorkerClient(opts);
  await client.boot();
  return client;
}

export class ProxyWorkerClient implements ProxyEngine {
  private live: Live | undefined;
  private nextId = 1;
  private readonly wanted = new Map<ServiceName, { options: ListenOptions; listener: Listener }>();
  private readonly changes: Record<ServiceName, Emitter<void>> = { codex: new Emitter(), claude: new Emitter() };
  private readonly reloads = new Emitter<void>();
  private readonly listenerEvents = new Emitter<{ service: ServiceName; e: ListenerEvent }>();
  private readonly crashes: number[] = [];
  private readonly offSecrets: Disposable | undefined;
  private restarting: Promise<void> | undefined;
  private disposed = false;

  constructor(private readonly opts: ProxyWorkerOptions) {
    this.offSecrets = opts.secrets?.onDidChange(() => this.pushSecrets());
  }

  get listeners(): Listener[] {
    return [...this.wanted.values()].map((w) => w.listener);
  }

  /** Thread id of the current worker (tests, diagnostics). */
  get threadId(): number | undefined {
    return this.live?.worker.threadId;
  }

  /** The V8 limits the current worker runs with (tests, diagnostics). */
  get resourceLimits(): ResourceLimits | undefined {
    return this.live?.worker.resourceLimits;
  }

  /** Spawns the worker and waits for `ready` (or its reason for failing). */
  async boot(): Promise<void> {
    const worker = new Worker(this.opts.script, {
      workerData: this.opts.init,
      env: this.opts.init.env,
      stdout: false,
      stderr: false,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const live: Live = { worker, pending: new Map(), secretNames: [] };
    const ready = new Promise<string[]>((resolve, reject) => {
      worker.on('message', (m: WorkerToHost) => {
        if (m.type === 'ready') resolve(m.secretNames);
        else if (m.type === 'initFailed') reject(new WorkerError(m.error.code, m.error.message));
        else this.onMessage(live, m);
      });
      worker.once('exit', (code) => {
        reject(new WorkerError('WORKER_EXITED', `the proxy worker exited (code ${code}) while starting`));
        this.onExit(live, code);
      });
      worker.on('error', (e) => this.opts.log.error(`proxy worker: ${e.stack ?? e.message}`));
    });
    const names = await ready;
    live.secretNames = names;
    this.live = live;
    if (this.opts.secrets) {
      await this.opts.secrets.load(names).catch((e: Error) => this.opts.log.warn(`secrets: ${e.message}`));
      this.pushSecrets();
    }
  }

  async listen(service: ServiceName, o: ListenOptions = {}): Promise<Listener> {
    if (this.wanted.has(service)) throw new ListenError('ALREADY_RUNNING', `${service} is already running`, 0);
    await this.restarting;
    if (!this.live && !this.disposed) {
      // It crashed too often and was given up on: an explicit start gets a fresh worker and a fresh crash budget.
      this.crashes.length = 0;
      await this.boot();
    }
    const listener = await this.call('listen', { service, options: o });
    this.wanted.set(service, { options: o, listener });
    return listener;
  }

  async stop(service?: ServiceName, graceMs?: number): Promise<void> {
    for (const s of service ? [service] : SERVICE_NAMES) this.wanted.delete(s);
    await this.restarting;
    if (this.live) await this.call('stop', { service, graceMs }).catch(() => undefined);
  }

  async dispose(graceMs?: number): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.offSecrets?.dispose();
    this.wanted.clear();
    await this.restarting?.catch(() => undefined);
    const live = this.live;
    if (!live) return;
    const exited = new Promise<void>((r) => live.worker.once('exit', () => r()));
    await this.call('dispose', { graceMs }).catch(() => undefined);
    // A worker that does not end by itself shortly after its dispose reply is ended here.
    const t = setTimeout(() => void live.worker.terminate(), 2000);
    await exited;
    clearTimeout(t);
  }

  onDidChange(service: ServiceName, listener: () => void): Disposable {
    return this.changes[service].event(listener);
  }

  onDidReload(listener: () => void): Disposable {
    return this.reloads.event(listener);
  }

  onDidChangeListener(listener: (service: ServiceName, e: ListenerEvent) => void): Disposable {
    return this.listenerEvents.event(({ service, e }) => listener(service, e));
  }

  async forceReload(): Promise<ReloadOutcome> {
    await this.restarting;
    return this.call('reload', {});
  }

  setLogLevel(level: LogLevel): void {
    this.post({ type: 'logLevel', level });
    this.opts.init.logLevel = level;
  }

  /** Makes the worker throw an uncaught error (the crash path on purpose). */
  crash(message = 'crash requested'): void {
    this.post({ type: 'crash', message });
  }

  /** Ends the worker thread abruptly, as a fatal error in it would. */
  async kill(): Promise<void> {
    await this.live?.worker.terminate();
  }

  private call<K extends WorkerOp>(op: K, args: WorkerCalls[K]['args']): Promise<WorkerCalls[K]['result']> {
    const live = this.live;
    if (!live) return Promise.reject(new ListenError('WORKER_EXITED', 'the proxy worker is not running', 0));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      live.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      live.worker.postMessage({ type: 'call', id, op, args } as HostToWorker);
    });
  }

  private post(m: HostToWorker): void {
    this.live?.worker.postMessage(m);
  }

  private pushSecrets(): void {
    const live = this.live;
    const secrets = this.opts.secrets;
    if (!live || !secrets) return;
    const values: Record<string, string> = {};
    for (const n of live.secretNames) {
      const v = secrets.lookup(n);
      if (v !== undefined) values[n] = v;
    }
    live.worker.postMessage({ type: 'secrets', values } satisfies HostToWorker);
  }

  private onMessage(live: Live, m: WorkerToHost): void {
    switch (m.type) {
      case 'reply': {
        const p = live.pending.get(m.id);
        live.pending.delete(m.id);
        if (!p) return;
        if (m.ok) p.resolve(m.result);
        else p.reject(new ListenError(m.error.code, m.error.message, m.error.port ?? 0));
        return;
      }
      case 'log':
        this.opts.log[m.level](m.msg);
        return;
      case 'changed':
        for (const s of m.services) this.changes[s].fire();
        return;
      case 'reloaded':
        live.secretNames = m.secretNames;
        this.reloads.fire();
        if (this.opts.secrets) void this.opts.secrets.load(m.secretNames).then(() => this.pushSecrets(), (e: Error) => this.opts.log.warn(`secrets: ${e.message}`));
        return;
      case 'fatal':
        this.opts.log.error(`proxy worker crashed: ${m.error.message} (${m.inFlight} in-flight request(s) answered with an error)`);
        return;
      default:
        return;
    }
  }

  private onExit(live: Live, exitCode: number): void {
    for (const p of live.pending.values()) p.reject(new ListenError('WORKER_EXITED', 'the proxy worker exited', 0));
    live.pending.clear();
    if (this.live !== live) return; // a worker that never became ready: boot() reports it
    this.live = undefined;
    if (this.disposed) return;
    const now = Date.now();
    this.crashes.push(now);
    const windowMs = this.opts.crashWindowMs ?? 60_000;
    while (this.crashes.length && this.crashes[0]! < now - windowMs) this.crashes.shift();
    const willRestart = this.crashes.length <= (this.opts.maxCrashes ?? 5);
    const error: WireError = { code: 'WORKER_EXITED', message: `the proxy worker stopped unexpectedly (exit code ${exitCode})` };
    this.opts.log.error(`${error.message}${willRestart ? '; restarting it on the same ports' : '; it keeps crashing, not restarting it'}`);
    this.opts.onCrash?.(error, willRestart);
    const code = willRestart ? error.code : 'WORKER_CRASHED';
    const message = willRestart ? error.message : `${error.message}; it keeps crashing and was not restarted`;
    for (const [s, w] of this.wanted) this.emit(s, { kind: 'lost', code, message, port: w.listener.port });
    if (!willRestart) {
      this.wanted.clear();
      return;
    }
    this.restarting = this.restart().finally(() => (this.restarting = undefined));
  }

  /** A new worker, its secrets, then every listener that was up, on its old port. */
  private async restart(): Promise<void> {
    try {
      await this.boot();
    } catch (e) {
      const err = e as WorkerError;
      this.opts.log.error(`the proxy worker could not be restarted: ${err.message}`);
      for (const [s, w] of this.wanted) this.emit(s, { kind: 'lost', code: err.code ?? 'WORKER_EXITED', message: err.message, port: w.listener.port });
      this.wanted.clear();
      return;
    }
    for (const [s, w] of [...this.wanted]) {
      const options = { ...w.options, port: w.listener.port };
      let lastError: ListenError | undefined;
      // The dead thread's sockets close as it is torn down; a bind can race that by a few milliseconds.
      for (let i = 0; i < 20 && !this.disposed; i++) {
        try {
          const listener = await this.call('listen', { service: s, options });
          if (this.wanted.get(s) !== w) {
            // Stopped while we re-bound it.
            await this.call('stop', { service: s, graceMs: 0 }).catch(() => undefined);
          } else {
            this.wanted.set(s, { options: w.options, listener });
            this.emit(s, { kind: 'restored', listener });
            this.opts.log.info(`${s} proxy listening again on ${listener.url}`);
          }
          lastError = undefined;
          break;
        } catch (e) {
          lastError = e as ListenError;
          if (lastError.code !== 'EADDRINUSE') break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (lastError) {
        this.wanted.delete(s);
        this.emit(s, { kind: 'lost', code: lastError.code, message: lastError.message, port: w.listener.port });
      }
    }
    for (const s of SERVICE_NAMES) this.changes[s].fire();
  }

  private emit(service: ServiceName, e: ListenerEvent): void {
    // A view failing must not stop the restart: the emitter isolates listener errors.
    this.listenerEvents.fire({ service, e });
  }
}
