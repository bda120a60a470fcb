// Composition of the headless proxy: one runtime config, one upstream pool, one request log, a service per
// client kind, and a listener per running service. The CLI and the VS Code extension both drive this class.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { combineDisposables } from '../core/events';
import type { Disposable } from '../core/events';
import type { SecretLookup } from '../core/auth';
import { readOwnFile, writeOwnFile } from '../io/ownFiles';
import { RequestLogWriter, retryTraceWriter } from '../io/requestLogWriter';
import { readEnvOptions } from '../core/envOptions';
import type { EnvOptions } from '../core/envOptions';
import type { ServiceName } from '../core/types';
import { ADMIN_PREFIX, handleAdmin } from './admin';
import { errorBody, streamErrorEvent } from './errors';
import { isPlainSse } from './forwardSuccess';
import type { AdminContext } from './admin';
import { hostHeaderCount, isLoopbackAddress, refusalReason, safetyPolicy, SafetyPolicyError } from './localSafety';
import type { SafetyPolicy } from './localSafety';
import type { Logger } from './logger';
import type { LastWords } from './pipelineDeps';
import { ProxyService } from './proxyService';
import { DEFAULT_PORTS, ListenError } from './proxyEngine';
import type { Listener, ListenOptions, ProxyEngine, ReloadOutcome } from './proxyEngine';
import { PriceBook } from './priceBook';
import { RuntimeConfig } from './runtimeConfig';
import { createUpstreamAgent, UpstreamAgents } from './upstream';
import { DEFAULT_TIMEOUTS } from '../core/timeouts';
import { UsageProviderPoller } from './usageProviders';
import { tunnelQuiet, tunnelUpgrade } from './wsTunnel';
import { capConnections, listenerLimits, serverOptions } from './listenerLimits';
import type { ListenerLimits } from './listenerLimits';
import { localNames } from './localNames';
import { settlePending } from './afterBurst';

const STATE_FILE = 'runtime-state.json';

export interface ProxyHostOptions {
  home: string;
  codexHome: string;
  claudeHome: string;
  /** The environment snapshot of the entry point (proxy modules parse their own knobs from it). */
  env: NodeJS.ProcessEnv;
  /** The typed knobs read from `env` by the entry point; read here from `env` when omitted (tests). */
  envOptions?: EnvOptions;
  log: Logger;
  secrets?: SecretLookup;
  /** Write logs/requests.jsonl (default true). */
  requestLog?: boolean;
  now?: () => number;
  healthChecks?: AdminContext['healthChecks'];
  /** Keep the in-flight responses so `failInFlight` can answer them (the worker; the CLI never needs it). */
  trackInFlight?: boolean;
  /** Overrides of the listener limits (tests use short timeouts). */
  limits?: Partial<ListenerLimits>;
}

export type { Listener, ListenOptions } from './proxyEngine';
export { DEFAULT_PORTS, ListenError } from './proxyEngine';

/** Owns the services and their listeners. */
export class ProxyHost implements ProxyEngine {
  readonly runtime: RuntimeConfig;
  readonly agent: Dispatcher;
  private readonly agents: UpstreamAgents;
  readonly services: Record<ServiceName, ProxyService>;
  readonly requestLog: RequestLogWriter | undefined;
  readonly prices: PriceBook;
  private readonly debugLog: RequestLogWriter | undefined;
  private readonly retryTrace: RequestLogWriter | undefined;
  private readonly servers = new Map<ServiceName, { server: Server; listener: Listener; policy: SafetyPolicy }>();
  private readonly reloadTimer: NodeJS.Timeout;
  private readonly usagePoller: UsageProviderPoller;
  private disposed = false;
  private readonly tunnels = new Map<ServiceName, Set<Duplex>>();
  /** Proxied responses not yet closed (and their requests): what `failInFlight` answers when the proxy must die. */
  private readonly inFlight = new Map<ServerResponse, { service: ServiceName; request?: LastWords }>();

  constructor(readonly opts: ProxyHostOptions) {
    this.runtime = new RuntimeConfig(opts.home, opts.log, 1000, opts.now, { codexHome: opts.codexHome, claudeHome: opts.claudeHome });
    this.agent = createUpstreamAgent({ connectTimeoutMs: DEFAULT_TIMEOUTS.connect_ms });
    this.agents = new UpstreamAgents(this.agent, DEFAULT_TIMEOUTS.connect_ms);
    const knobs = opts.envOptions ?? readEnvOptions(opts.env);
    const logs = join(opts.home, 'logs');
    const rotation = { maxBytes: knobs.requestLogMaxBytes, maxFiles: knobs.requestLogMaxFiles };
    const onError = (e: unknown) => opts.log.warn(`request log: ${(e as Error)?.message ?? e}`);
    this.prices = new PriceBook(() => this.runtime.loaded.config, opts.env, opts.log);
    this.requestLog = opts.requestLog === false ? undefined : new RequestLogWriter({ dir: logs, onError, ...rotation, onlyErrors: knobs.requestLogOnlyErrors });
    this.debugLog = opts.requestLog === false ? undefined : new RequestLogWriter({ dir: logs, fileName: 'requests_debug.jsonl', onError, ...rotation, onlyErrors: knobs.requestLogOnlyErrors });
    this.retryTrace = opts.requestLog === false ? undefined : retryTraceWriter({ dir: logs, onError, ...rotation }, knobs);
    const make = (service: ServiceName) =>
      new ProxyService({
        service,
        home: opts.home,
        codexHome: opts.codexHome,
        claudeHome: opts.claudeHome,
        env: opts.env,
        knobs,
        runtime: this.runtime,
        agent: this.agent,
        agentFor: (ms) => this.agents.get(ms),
        log: opts.log,
        requestLog: this.requestLog,
        debugLog: this.debugLog,
        retryTrace: this.retryTrace,
        secrets: opts.secrets,
        now: opts.now,
        price: this.prices.price,
      });
    this.services = { codex: make('codex'), claude: make('claude') };
    // A flush of the log (the periodic one, a test's, the last one at shutdown) takes the records still waiting too.
    if (this.requestLog) this.requestLog.beforeFlush = () => this.flushFinished();
    this.usagePoller = new UsageProviderPoller({ home: opts.home, log: opts.log, now: opts.now });
    for (const svc of Object.values(this.services)) {
      if (opts.trackInFlight) {
        svc.deps.onRequest = (res, request) => {
          const entry = this.inFlight.get(res);
          if (entry) entry.request = request;
        };
      }
      svc.deps.onUpstreamSuccess = (c, i, u, path, method) => this.usagePoller.onUpstreamSuccess(svc, c, i, u, path, method);
      svc.deps.onUsageExhausted = (c, i, u, path, method) => this.usagePoller.onUpstreamSuccess(svc, c, i, u, path, method);
    }
    this.restorePersistent();
    // The file is also watched without traffic so the UI and admin API see edits promptly.
    this.reloadTimer = setInterval(() => this.runtime.maybeReload(), 1000);
    this.reloadTimer.unref();
  }

  /** Accounts now for every finished request whose accounting still waits (see ProxyService). */
  flushFinished(): void {
    for (const svc of Object.values(this.services)) svc.state.flushFinished();
  }

  /**
   * Writes every record and log line still held in memory to disk (the request log's flush takes the waiting
   * accounting along: `beforeFlush`).
   */
  async flushLogs(): Promise<void> {
    await Promise.all([this.requestLog?.flush(), this.debugLog?.flush(), this.retryTrace?.flush()]);
  }

  /** The listeners currently running. */
  get listeners(): Listener[] {
    return [...this.servers.values()].map((s) => s.listener);
  }

  /** Starts the listener of `service`; rejects with a ListenError (code EADDRINUSE, …) when it cannot bind. */
  async listen(service: ServiceName, o: ListenOptions = {}): Promise<Listener> {
    if (this.disposed) throw new ListenError('DISPOSED', `${service}: the proxy host was shut down`, 0);
    if (this.servers.has(service)) throw new ListenError('ALREADY_RUNNING', `${service} is already running`, 0);
    const host = o.host ?? '127.0.0.1';
    const port = o.port ?? DEFAULT_PORTS[service];
    const allowRemote = !!o.allowRemote;
    if (!allowRemote && !isLoopbackAddress(host) && host !== 'localhost') {
      throw new ListenError('REMOTE_NOT_ALLOWED', `refusing to bind ${host}: not a loopback address (use --allow-remote)`, port);
    }
    let policy: SafetyPolicy;
    try {
      policy = safetyPolicy(host, allowRemote, this.opts.env, localNames);
    } catch (e) {
      if (e instanceof SafetyPolicyError) throw new ListenError(e.code, `${service}: ${e.message}`, port);
      throw e;
    }
    const svc = this.services[service];
    const ctx: AdminContext = {
      svc,
      runtime: this.runtime,
      persist: () => this.persist(service),
      healthChecks: this.opts.healthChecks,
      prices: () => this.prices.table(),
      models: () => svc.models.view(),
    };
    const limits = listenerLimits(this.opts.env, this.opts.limits);
    const server = createServer(serverOptions(limits), (req, res) => this.dispatch(ctx, policy, req, res));
    capConnections(server, limits, this.opts.log, service);
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      const dup = hostHeaderCount(req.rawHeaders) > 1;
      const why = dup ? 'refused: more than one Host header' : refusalReason(req.headers, req.socket.remoteAddress, false, policy);
      if (why) {
        const status = dup ? '400 Bad Request' : '403 Forbidden';
        socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(why)}\r\nconnection: close\r\n\r\n${why}`);
        return;
      }
      let set = this.tunnels.get(service);
      if (!set) this.tunnels.set(service, (set = new Set()));
      try {
        tunnelUpgrade(svc, req, socket, head, this.opts.log, set);
      } catch (e) {
        // An upgrade must never take the process down: log it and let the client fall back to HTTP.
        this.opts.log.error(`${service} websocket upgrade failed: ${(e as Error)?.stack ?? e}`);
        if (!socket.destroyed) socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      }
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return;
      // A head or body that did not arrive in time (headers / request timeout) is a 408, anything else malformed a 400.
      const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      socket.end(`HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nconnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        const what = e.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : e.message;
        reject(new ListenError(e.code ?? 'LISTEN_FAILED', `${service}: cannot listen: ${what}`, port));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    if (this.disposed || this.servers.has(service)) {
      // Shut down (or started twice) while binding: never leave a listener nobody owns.
      await new Promise<void>((r) => server.close(() => r()));
      throw this.disposed
        ? new ListenError('DISPOSED', `${service}: the proxy host was shut down`, port)
        : new ListenError('ALREADY_RUNNING', `${service} is already running`, port);
    }
    const addr = server.address() as AddressInfo;
    const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const listener: Listener = { service, host: addr.address, port: addr.port, url: `http://${shownHost}:${addr.port}` };
    policy.port = addr.port;
    this.servers.set(service, { server, listener, policy });
    if (allowRemote && !isLoopbackAddress(host)) {
      this.opts.log.warn(`${service} listens on ${host}: reachable from other machines; remote peers must send x-codex-helper-token ` +
        '(CODEX_HELPER_PROXY_TOKEN), which travels in plain HTTP: use this only on a network you trust');
    }
    return listener;
  }

  private dispatch(ctx: AdminContext, policy: SafetyPolicy, req: IncomingMessage, res: ServerResponse): void {
    const isAdmin = (req.url ?? '').startsWith(ADMIN_PREFIX);
    // Two Host headers are ambiguous (which one did the Host check see, which one would an upstream?): refuse.
    const dup = hostHeaderCount(req.rawHeaders) > 1;
    const why = dup ? 'refused: more than one Host header' : refusalReason(req.headers, req.socket.remoteAddress, isAdmin, policy);
    if (why) {
      if (dup) res.setHeader('connection', 'close');
      res.writeHead(dup ? 400 : 403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(why) });
      res.end(why);
      req.resume();
      return;
    }
    if (isAdmin) {
      // The admin API shows every request that arrived, also those whose beginning is not recorded yet.
      settlePending();
      void handleAdmin(ctx, req, res);
      return;
    }
    if (this.opts.trackInFlight) {
      this.inFlight.set(res, { service: ctx.svc.service });
      res.once('close', () => this.inFlight.delete(res));
    }
    void ctx.svc.handle(req, res);
  }

  onDidChange(service: ServiceName, listener: () => void): Disposable {
    const svc = this.services[service];
    return combineDisposables(svc.state.onDidChange(() => listener()), svc.lbStore.onDidChange(() => listener()));
  }

  onDidReload(listener: () => void): Disposable {
    return this.runtime.onDidReload(() => listener());
  }

  forceReload(): ReloadOutcome {
    return this.runtime.forceReload();
  }

  /**
   * Last words of a proxy that is about to die (an uncaught error in its thread): a request still waiting for its
   * upstream gets a 502 saying so, an SSE stream already running ends with the API's own error event, anything else
   * already started is cut (its client sees a disconnect, never a fake end). Each proxied request is recorded with
   * the status its client got and `proxy_restarting` (the log flush that follows writes it). Resolves once those
   * answers were handed to the sockets, or after `waitMs`.
   */
  async failInFlight(message: string, waitMs = 500): Promise<number> {
    const all = [...this.inFlight];
    const sent = all.map(([res, { service, request }]) => new Promise<void>((resolve) => {
      request?.recordLastWords(res.headersSent ? res.statusCode : 502, message);
      res.once('close', () => resolve());
      if (!res.headersSent) {
        const body = errorBody(service, { status: 502, type: 'proxy_restarting', message });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
        res.end(body, () => resolve());
      } else if (isPlainSse(res)) {
        res.end(streamErrorEvent(service, message), () => resolve());
      } else {
        res.destroy();
      }
    }));
    await Promise.race([Promise.all(sent), new Promise((r) => setTimeout(r, waitMs).unref())]);
    return all.length;
  }

  /** Stops one listener (or all): stops accepting, lets in-flight requests finish for up to `graceMs`. */
  async stop(service?: ServiceName, graceMs = 5000): Promise<void> {
    const names = service ? [service] : [...this.servers.keys()];
    await Promise.all(
      names.map(async (name) => {
        const entry = this.servers.get(name);
        if (!entry) return;
        this.servers.delete(name);
        const { server } = entry;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const svc = this.services[name];
        const deadline = Date.now() + graceMs;
        // Every proxied request counts from its arrival: one still reading its body or choosing its upstream too.
        // A WebSocket tunnel counts while it carries bytes: an idle one is closed (see TUNNEL_QUIET_MS).
        for (;;) {
          this.closeQuietTunnels(name);
          if (!svc.busy || Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, 25));
          server.closeIdleConnections();
        }
        server.closeAllConnections();
        for (const s of this.tunnels.get(name) ?? []) s.destroy();
        this.tunnels.delete(name);
        await closed;
      }),
    );
  }

  /** Closes the tunnels of `service` that carried nothing for `TUNNEL_QUIET_MS` (both sockets of each). */
  private closeQuietTunnels(service: ServiceName): void {
    const set = this.tunnels.get(service);
    if (!set) return;
    const now = Date.now();
    for (const s of set) if (tunnelQuiet(s, now)) s.destroy();
  }

  /** Stops everything and releases timers, pools and files. */
  async dispose(graceMs = 5000): Promise<void> {
    this.disposed = true;
    await this.stop(undefined, graceMs);
    // Requests cut off by the stop finish asynchronously (their sockets just closed): let them record themselves
    // before the log writers close, so requests.jsonl has every request.
    const deadline = Date.now() + 1000;
    while (Object.values(this.services).some((s) => s.busy) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    clearInterval(this.reloadTimer);
    for (const s of Object.values(this.services)) s.dispose();
    this.usagePoller.dispose();
    await Promise.all([this.requestLog?.close(), this.debugLog?.close(), this.retryTrace?.close()]);
    await Promise.all([this.agent.close().catch(() => undefined), this.agents.close()]);
  }

  /**
   * Writes runtime controls (global pins, config meta) to `<home>/runtime-state.json`; never config.toml. Only
   * `service`'s part is replaced (all parts without it): another process on the same home (the extension and a CLI)
   * may own the other service's pins, and they must survive this write.
   */
  persist(service?: ServiceName): void {
    const file = join(this.opts.home, STATE_FILE);
    try {
      const data: Record<string, unknown> = { ...this.readStateFile(file), version: 1 };
      const names = service ? [service] : (Object.keys(this.services) as ServiceName[]);
      for (const name of names) data[name] = this.services[name].state.exportPersistent();
      writeOwnFile(file, JSON.stringify(data, null, 2) + '\n');
    } catch (e) {
      this.opts.log.warn(`could not save runtime state: ${(e as Error).message}`);
    }
  }

  private readStateFile(file: string): Record<string, unknown> {
    try {
      const v: unknown = JSON.parse(readOwnFile(file));
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
      return {}; // absent or broken: this write starts it afresh
    }
  }

  private restorePersistent(): void {
    const file = join(this.opts.home, STATE_FILE);
    let text: string;
    try {
      text = readOwnFile(file);
    } catch {
      return;
    }
    try {
      const data = JSON.parse(text) as Record<string, unknown>;
      for (const [name, svc] of Object.entries(this.services)) {
        const part = data[name];
        if (part && typeof part === 'object') svc.state.importPersistent(part as never);
      }
    } catch (e) {
      this.opts.log.warn(`${file} is not valid JSON, ignoring it: ${(e as Error).message}`);
    }
  }
}
