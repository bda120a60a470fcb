// Limits of a listening socket. Node's `requestTimeout: 0` also switches the headers timeout off, so a peer that
// never finishes its headers (or sends them a byte a second) held a socket forever, and nothing capped how many
// sockets it could hold. The request timeout bounds the time to *receive* a request (head and body); answers are not
// bounded here (a 15-minute SSE answer is normal).
import type { Server, ServerOptions } from 'node:http';
import type { Logger } from './logger';

export interface ListenerLimits {
  /** Time to receive the request head. */
  headersTimeoutMs: number;
  /** Time to receive the whole request (head and body), not to answer it. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections (HTTP and WebSocket tunnels); beyond it new ones are closed at once. */
  maxConnections: number;
  /** How often Node checks the two receive timeouts. */
  checkIntervalMs: number;
}

export const DEFAULT_LIMITS: ListenerLimits = {
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 300_000,
  // Longer than the 60 s idle timeout of common HTTP client pools, so the proxy is never the side closing first.
  keepAliveTimeoutMs: 65_000,
  maxConnections: 1024,
  checkIntervalMs: 1_000,
};

function positive(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && v.trim() !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The limits: defaults, then `CODEX_HELPER_MAX_CONNECTIONS` / `CODEX_HELPER_HEADERS_TIMEOUT_MS`, then `over`. */
export function listenerLimits(env: NodeJS.ProcessEnv, over: Partial<ListenerLimits> = {}): ListenerLimits {
  const l: ListenerLimits = {
    ...DEFAULT_LIMITS,
    maxConnections: positive(env['CODEX_HELPER_MAX_CONNECTIONS']) ?? DEFAULT_LIMITS.maxConnections,
    headersTimeoutMs: positive(env['CODEX_HELPER_HEADERS_TIMEOUT_MS']) ?? DEFAULT_LIMITS.headersTimeoutMs,
    ...over,
  };
  // Node refuses a headers timeout longer than the request timeout.
  l.requestTimeoutMs = Math.max(l.requestTimeoutMs, l.headersTimeoutMs);
  return l;
}

/** Options for `createServer`. */
export function serverOptions(l: ListenerLimits): ServerOptions {
  return {
    keepAliveTimeout: l.keepAliveTimeoutMs,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    connectionsCheckingInterval: l.checkIntervalMs,
  };
}

/** Applies the connection cap and logs (at most every 10 s) when connections are being turned away. */
export function capConnections(server: Server, l: ListenerLimits, log: Logger, what: string): void {
  server.maxConnections = l.maxConnections;
  // Answers may take many minutes: no socket inactivity timeout on top of the receive timeouts.
  server.timeout = 0;
  let dropped = 0;
  let lastLog = -Infinity;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastLog < 10_000) return;
    lastLog = now;
    log.warn(`${what}: connection limit reached (${l.maxConnections} open; CODEX_HELPER_MAX_CONNECTIONS): refused ${dropped} connection(s) so far`);
  });
}
