// A local proxy holds the user's API keys, so only its own callers may use it:
// - the Host header must name this proxy (a loopback name, or in remote mode an allowed name): DNS rebinding;
// - browsers are refused: Codex, Claude Code and the extension send neither `Origin` nor `Sec-Fetch-Site`, so any
//   Origin other than the proxy's own and any Sec-Fetch-Site other than `none` / `same-origin` is a web page;
// - a peer that is not loopback (remote mode only) must send the proxy token on every route;
// - admin routes also accept the older admin token from non-loopback peers.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { memoByString } from '../core/memo';

/** Our own header for the proxy token (`Authorization` belongs to the upstream). */
export const PROXY_TOKEN_HEADER = 'x-codex-helper-token';
export const ADMIN_TOKEN_HEADER = 'x-codex-helper-admin-token';
/** Tokens shorter than this are refused at start: remote mode exposes the user's keys to a network. */
export const MIN_TOKEN_LENGTH = 16;

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** Host part of a Host header value (`[::1]:3211` → `::1`, `localhost:3211` → `localhost`), lower-cased. */
export function hostPart(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(':');
  return (colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h).replace(/\.$/, '');
}

/** True when a Host header value names this machine by a loopback name or address. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  return !!host && loopbackHost(host);
}
// Every request is checked and a client sends the same Host each time: each value is decided once.
const loopbackHost = memoByString((host: string): boolean => {
  const h = hostPart(host);
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}, 64);

// A peer's address is checked on every request; a proxy has a handful of peers: each address is decided once.
const loopbackPeer = memoByString(isLoopbackAddress, 64);

export interface SafetyPolicy {
  /** Set when the user bound a non-loopback address with --allow-remote. */
  allowRemote: boolean;
  /** Lets a non-loopback peer use the admin API (header x-codex-helper-admin-token). */
  adminToken?: string;
  /** Required from non-loopback peers on every route in remote mode (header x-codex-helper-token). */
  proxyToken?: string;
  /** Host names/addresses accepted in `Host` besides loopback ones (remote mode: bound address + configured names). */
  allowedHosts?: ReadonlySet<string>;
  /** The listening port, once bound: the proxy's own origin is `http://<allowed host>:<port>`. */
  port?: number;
}

/** True when `host` (a Host header value) names this proxy under `policy`. */
function isAllowedHost(host: string | undefined, policy: SafetyPolicy): boolean {
  if (isLoopbackHostHeader(host)) return true;
  return !!host && policy.allowRemote && !!policy.allowedHosts?.has(hostPart(host));
}

/** True when an Origin header is absent or is the proxy's own origin. */
export function isAllowedOrigin(origin: string | undefined, policy: SafetyPolicy = { allowRemote: false }): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' || u.origin === 'null') return false;
    const port = u.port === '' ? 80 : Number(u.port);
    return policy.port !== undefined && port === policy.port && isAllowedHost(u.host, policy);
  } catch {
    return false;
  }
}

/** Compares two secrets in constant time (hashing first so that the length does not leak either). */
export function tokensEqual(given: string | string[] | undefined, expected: string | undefined): boolean {
  if (typeof given !== 'string' || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The number of `Host` headers in a raw header list (a request with more than one is ambiguous: 400). */
export function hostHeaderCount(rawHeaders: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Only a four-letter name can be Host: the others are not lower-cased (a new string each) to find out.
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}

/** Returns a refusal reason for a request, or undefined when it may proceed. */
export function refusalReason(
  headers: Record<string, string | string[] | undefined>,
  remoteAddress: string | undefined,
  isAdmin: boolean,
  policy: SafetyPolicy,
): string | undefined {
  const host = headers['host'];
  if (!isAllowedHost(typeof host === 'string' ? host : undefined, policy)) {
    const hint = policy.allowRemote ? ' nor an allowed name (CODEX_HELPER_ALLOWED_HOSTS)' : '';
    return `refused: Host header '${String(host ?? '').slice(0, 200)}' is not a loopback name${hint} (DNS rebinding protection)`;
  }
  const origin = headers['origin'];
  if (origin !== undefined && !isAllowedOrigin(typeof origin === 'string' ? origin : '', policy)) {
    return `refused: a browser request from origin '${String(origin).slice(0, 200)}' (only the proxy's own origin may call it)`;
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none' && site !== 'same-origin') {
    return `refused: a browser request (Sec-Fetch-Site: ${String(site).slice(0, 40)})`;
  }
  if (!(remoteAddress !== undefined && loopbackPeer(remoteAddress))) {
    const proxyOk = tokensEqual(headers[PROXY_TOKEN_HEADER], policy.proxyToken);
    const adminOk = isAdmin && tokensEqual(headers[ADMIN_TOKEN_HEADER], policy.adminToken);
    if (!proxyOk && !adminOk) {
      return isAdmin
        ? `refused: the admin API answers loopback peers only, or peers sending ${PROXY_TOKEN_HEADER} (CODEX_HELPER_PROXY_TOKEN) or ${ADMIN_TOKEN_HEADER} (CODEX_HELPER_ADMIN_TOKEN)`
        : `refused: a remote peer must send ${PROXY_TOKEN_HEADER} matching CODEX_HELPER_PROXY_TOKEN`;
    }
  }
  return undefined;
}

/** A remote-mode set-up that must not start (no token, a weak token, a token with a line break). */
export class SafetyPolicyError extends Error {
  constructor(readonly code: 'REMOTE_NEEDS_TOKEN' | 'TOKEN_INVALID', message: string) {
    super(message);
  }
}

function checkToken(name: string, v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (/[\r\n\0]/.test(v)) throw new SafetyPolicyError('TOKEN_INVALID', `${name} contains a line break or NUL character`);
  return v;
}

/**
 * The policy of one listener. `bindHost` is the address it binds; `localNames` the names this machine answers to
 * when it binds every interface (its addresses and host name). Remote mode on a non-loopback address needs
 * CODEX_HELPER_PROXY_TOKEN (at least 16 characters); CODEX_HELPER_ALLOWED_HOSTS adds names accepted in `Host`.
 */
export function safetyPolicy(bindHost: string, allowRemote: boolean, env: NodeJS.ProcessEnv, localNames: () => string[]): SafetyPolicy {
  const adminToken = checkToken('CODEX_HELPER_ADMIN_TOKEN', env['CODEX_HELPER_ADMIN_TOKEN']);
  const proxyToken = checkToken('CODEX_HELPER_PROXY_TOKEN', env['CODEX_HELPER_PROXY_TOKEN']);
  const remote = allowRemote && !isLoopbackAddress(bindHost) && bindHost !== 'localhost';
  if (remote && proxyToken === undefined) {
    throw new SafetyPolicyError('REMOTE_NEEDS_TOKEN',
      `refusing to listen on ${bindHost} without a token: set CODEX_HELPER_PROXY_TOKEN (at least ${MIN_TOKEN_LENGTH} characters); ` +
        `remote clients then send it in the ${PROXY_TOKEN_HEADER} header`);
  }
  if (remote && proxyToken !== undefined && proxyToken.length < MIN_TOKEN_LENGTH) {
    throw new SafetyPolicyError('TOKEN_INVALID', `CODEX_HELPER_PROXY_TOKEN is too short: use at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const allowedHosts = new Set<string>();
  if (remote) {
    const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '';
    for (const n of wildcard ? localNames() : [bindHost]) allowedHosts.add(hostPart(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n));
    for (const n of (env['CODEX_HELPER_ALLOWED_HOSTS'] ?? '').split(',')) if (n.trim()) allowedHosts.add(hostPart(n));
  }
  return { allowRemote: remote, adminToken, proxyToken, allowedHosts };
}
