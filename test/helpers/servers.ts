// Real loopback servers for tests: fake upstreams that misbehave on purpose, and a proxy in a temporary home.
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/proxy/logger';
import type { Logger } from '../../src/proxy/logger';
import { ProxyHost } from '../../src/proxy/proxyHost';
import type { ServiceName } from '../../src/core/types';
import { HealthChecker } from '../../src/proxy/healthcheck';
import type { ListenerLimits } from '../../src/proxy/listenerLimits';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer, n: number) => void | Promise<void>;

export interface FakeUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  handler: UpstreamHandler;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Starts a fake upstream on 127.0.0.1:0; `handler` can be swapped at any time. */
export async function startUpstream(handler: UpstreamHandler, path = ''): Promise<FakeUpstream> {
  const sockets = new Set<Socket>();
  const up: FakeUpstream = {
    url: '',
    port: 0,
    requests: [],
    handler,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      up.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      void up.handler(req, res, body, up.requests.length);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  up.port = (server.address() as AddressInfo).port;
  up.url = `http://127.0.0.1:${up.port}${path}`;
  return up;
}

/** A JSON answer. */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** SSE events written with `gapMs` between them. */
export async function sse(res: ServerResponse, events: string[], gapMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) {
    res.write(e);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  res.end();
}

export interface TestProxy {
  host: ProxyHost;
  home: string;
  codexHome: string;
  claudeHome: string;
  url: (service?: ServiceName) => string;
  writeConfig(text: string): void;
  close(): Promise<void>;
}

/** Starts a proxy (both services on port 0) in a fresh temporary home with `configToml` as its config. */
export async function startProxy(
  configToml: string | undefined,
  opts: {
    env?: NodeJS.ProcessEnv;
    services?: ServiceName[];
    log?: Logger;
    requestLog?: boolean;
    /** Listener limits (short timeouts, a small connection cap). */
    limits?: Partial<ListenerLimits>;
    /** Runs before the proxy starts (e.g. to write the clients' own settings). */
    prepare?: (dirs: { home: string; codexHome: string; claudeHome: string }) => void;
  } = {},
): Promise<TestProxy> {
  const root = mkdtempSync(join(tmpdir(), 'chp-test-'));
  const home = join(root, 'helper');
  const codexHome = join(root, 'codex');
  const claudeHome = join(root, 'claude');
  for (const d of [home, codexHome, claudeHome]) mkdirSync(d, { recursive: true });
  const writeConfig = (text: string) => writeFileSync(join(home, 'config.toml'), text);
  if (configToml !== undefined) writeConfig(configToml);
  opts.prepare?.({ home, codexHome, claudeHome });
  const env = { ...(opts.env ?? {}) };
  const log = opts.log ?? silentLogger;
  const host = new ProxyHost({ home, codexHome, claudeHome, env, log, requestLog: opts.requestLog ?? true, healthChecks: new HealthChecker(env, log), limits: opts.limits });
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const s of opts.services ?? ['codex', 'claude']) urls[s] = (await host.listen(s, { port: 0 })).url;
  return {
    host,
    home,
    codexHome,
    claudeHome,
    url: (s = 'codex') => urls[s]!,
    writeConfig,
    close: async () => {
      await host.dispose(1000);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

/** A plain node:http request (no shared pool with the proxy's undici agent). */
export function call(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; signal?: AbortSignal } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? (opts.body ? 'POST' : 'GET'), headers: opts.headers, agent: false, signal: opts.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: <T>() => JSON.parse(text) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

/** Polls `cond` until it holds (or fails after `timeoutMs`). */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Upstreams and a proxy for the tests of one `describe`, closed after each test. */
export function serversPerTest(): { proxy: TestProxy | undefined; upstream: (h: UpstreamHandler, path?: string) => Promise<FakeUpstream> } {
  const ups: FakeUpstream[] = [];
  const s = {
    proxy: undefined as TestProxy | undefined,
    upstream: async (h: UpstreamHandler, path?: string) => {
      const u = await startUpstream(h, path);
      ups.push(u);
      return u;
    },
  };
  afterEach(async () => {
    await s.proxy?.close();
    s.proxy = undefined;
    await Promise.all(ups.splice(0).map((u) => u.close()));
  });
  return s;
}
