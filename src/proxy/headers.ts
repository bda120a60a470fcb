// Header hygiene, applied before anything else touches a message: hop-by-hop headers, the ones a `Connection`
// header names, `host`, `content-length` and the proxy's own token headers never cross the proxy.
import { memoByString } from '../core/memo';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  // Node already answered `100 Continue` to the client; undici refuses to send it again.
  'expect',
  'host',
  'content-length',
  // The proxy's own tokens (remote mode, admin API) are for the proxy, never for an upstream.
  'x-codex-helper-token',
  'x-codex-helper-admin-token',
]);

type HeaderValue = string | string[] | undefined;

function connectionTokens(v: HeaderValue): ReadonlySet<string> | undefined {
  if (v === undefined) return undefined;
  return tokensOf(Array.isArray(v) ? v.join(',') : v);
}

/** The names a `Connection` value lists; values repeat (nearly always `keep-alive` or `close`): split once each. */
const tokensOf = memoByString(splitTokens, 64);

function splitTokens(s: string): Set<string> | undefined {
  const out = new Set<string>();
  for (const t of s.split(',')) {
    const name = t.trim().toLowerCase();
    if (name) out.add(name);
  }
  return out.size ? out : undefined;
}

/**
 * Copies `headers` (lower-case names, node style) without hop-by-hop headers and without any in `extraDrop`.
 * Returns a flat `[name, value, name, value…]` list (undici accepts it and it keeps repeated headers).
 */
export function forwardableHeaders(headers: Record<string, HeaderValue>, extraDrop?: ReadonlySet<string>): string[] {
  const named = connectionTokens(headers['connection']);
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name) || extraDrop?.has(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) out.push(name, item);
    else out.push(name, v);
  }
  return out;
}

/** Response headers safe to send back to the client (hop-by-hop and Connection-named ones removed). */
export function forwardableResponseHeaders(
  headers: Record<string, HeaderValue>,
  extraDrop?: ReadonlySet<string>,
): Record<string, string | string[]> {
  const named = connectionTokens(headers['connection']);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name) || extraDrop?.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** First value of a header. */
export function headerValue(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The headers of a WebSocket upgrade to send upstream: the same hygiene as any request, then the two hop-by-hop
 * headers an upgrade needs back (`connection: Upgrade` and the client's `upgrade`).
 */
export function upgradeRequestHeaders(headers: Record<string, HeaderValue>): string[] {
  const out = forwardableHeaders(headers);
  out.push('connection', 'Upgrade', 'upgrade', headerValue(headers, 'upgrade') ?? 'websocket');
  return out;
}
