// A local proxy holds the user's API keys, so only local callers may use it: the Host header must name a loopback
// host (DNS rebinding), a browser Origin must be loopback (cross-site requests), and admin routes answer loopback
// peers only.
import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** Host part of a Host header value (`[::1]:3211` → `::1`, `localhost:3211` → `localhost`). */
function hostPart(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(':');
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

/** True when a Host header value names this machine by a loopback name or address. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const h = hostPart(host).replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}

/** True when an Origin header is absent or names a loopback origin. */
export function isAllowedOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    const u = new URL(origin);
    // VS Code webviews and extension hosts have their own schemes and never call the proxy over HTTP.
    return (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackHostHeader(u.host);
  } catch {
    return false;
  }
}

export interface SafetyPolicy {
  /** Set when the user bound a non-loopback address with --allow-remote: Host checks are relaxed. */
  allowRemote: boolean;
  /** Optional token that lets a non-loopback peer use the admin API (header x-codex-helper-admin-token). */
  adminToken?: string;
}

/** Returns a refusal reason for a request, or undefined when it may proceed. */
export function refusalReason(
  headers: Record<string, string | string[] | undefined>,
  remoteAddress: string | undefined,
  isAdmin: boolean,
  policy: SafetyPolicy,
): string | undefined {
  const host = headers['host'];
  if (!policy.allowRemote && !isLoopbackHostHeader(typeof host === 'string' ? host : undefined)) {
    return `refused: Host header '${String(host ?? '')}' is not a loopback name (DNS rebinding protection)`;
  }
  const origin = headers['origin'];
  if (!isAllowedOrigin(typeof origin === 'string' ? origin : undefined)) {
    return `refused: cross-origin request from '${String(origin)}'`;
  }
  if (isAdmin && !isLoopbackAddress(remoteAddress)) {
    const token = headers['x-codex-helper-admin-token'];
    if (!policy.adminToken || token !== policy.adminToken) {
      return 'refused: the admin API answers loopback peers only (or send x-codex-helper-admin-token matching CODEX_HELPER_ADMIN_TOKEN)';
    }
  }
  return undefined;
}
