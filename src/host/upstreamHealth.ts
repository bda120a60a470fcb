// The one answer to "how is this upstream doing?", shared by the tree, the status bar, the quick picks and the
// webview so they can never disagree. Traffic (the load balancer's view) and health probes both feed it: whichever
// happened last wins, except that a running cooldown always shows (requests really are held off then). No `vscode`.
import type { ConfigHealth, UpstreamHealth } from '../core/state';
import type { LbConfigView, LbUpstreamView } from '../core/lb';

export type HealthKind = 'healthy' | 'cooling' | 'failing' | 'exhausted' | 'unknown';

export interface UpstreamHealthState {
  kind: HealthKind;
  /** State first and short enough for the default sidebar width: `healthy`, `cooling 12 s`, `failing: HTTP 502`. */
  text: string;
  /** Why it is failing or cooling, in a few words (`HTTP 502`, `connection refused`). */
  reason?: string;
  /** Epoch ms when a cooldown ends, so views can refresh exactly then instead of polling. */
  coolingUntilMs?: number;
  /** Where the state comes from, for tooltips. */
  source: 'traffic' | 'probe' | 'none';
}

const CLASS_REASON: Record<string, string> = {
  upstream_transport_error: 'connection error',
  cloudflare_timeout: 'Cloudflare timeout',
  cloudflare_challenge: 'Cloudflare challenge',
  upstream_stream_error: 'stream broke',
  client_error_non_retryable: 'rejected request',
};

const ERRNO_REASON: Array<[RegExp, string]> = [
  [/ECONNREFUSED|connection refused/i, 'connection refused'],
  [/ENOTFOUND|EAI_AGAIN|getaddrinfo/i, 'host not found'],
  [/ECONNRESET|socket hang up|other side closed/i, 'connection reset'],
  [/ETIMEDOUT|timed? ?out|timeout/i, 'timed out'],
  [/certificate|CERT_|SSL|TLS/i, 'TLS error'],
  [/EHOSTUNREACH|ENETUNREACH/i, 'unreachable'],
];

const MAX_REASON = 22;

/** A few words out of a load-balancer error (`status_502`, a class) or a raw probe error. */
export function shortReason(error: string | undefined, status?: number): string | undefined {
  if (error) {
    const m = /^status_(\d{3})$/.exec(error);
    if (m) return `HTTP ${m[1]}`;
    if (CLASS_REASON[error]) return CLASS_REASON[error];
    for (const [re, text] of ERRNO_REASON) if (re.test(error)) return text;
    const http = /\b(?:HTTP|status)[ =:]*(\d{3})\b/i.exec(error);
    if (http) return `HTTP ${http[1]}`;
  }
  if (status !== undefined && status >= 400) return `HTTP ${status}`;
  if (!error) return undefined;
  const first = error.split(/[:;\n(]/)[0]!.replace(/_/g, ' ').trim() || error;
  return first.length > MAX_REASON ? `${first.slice(0, MAX_REASON - 1)}…` : first;
}

/** `8 s`, `2m 05s`, `1h 04m`: short, so a state with its time fits the default sidebar width. */
export function formatDuration(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The newest probe of the upstream at `baseUrl` (probe records of a config are appended, newest last). */
export function latestProbe(health: ConfigHealth | undefined, baseUrl: string): UpstreamHealth | undefined {
  const list = health?.upstreams ?? [];
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.base_url === baseUrl && list[i]!.ok !== undefined) return list[i];
  return undefined;
}

/**
 * State of one upstream. `snapshotAtMs` is when the proxy computed `lb` (its cooldowns are relative to then).
 * A probe newer than the last request decides healthy/failing; a running cooldown always wins.
 */
export function upstreamHealth(lb: LbUpstreamView | undefined, probe: UpstreamHealth | undefined, snapshotAtMs: number,
  nowMs: number): UpstreamHealthState {
  if (lb?.cooldown_remaining_secs !== undefined) {
    const until = snapshotAtMs + lb.cooldown_remaining_secs * 1000;
    const left = Math.ceil((until - nowMs) / 1000);
    if (left > 0) {
      const reason = shortReason(lb.last_error, lb.last_status);
      return { kind: 'cooling', text: `cooling ${formatDuration(left)}`, coolingUntilMs: until, source: 'traffic', ...(reason ? { reason } : {}) };
    }
  }
  if (lb?.usage_exhausted) return { kind: 'exhausted', text: 'usage exhausted', source: 'traffic' };
  const probeAt = probe?.checked_at_ms ?? 0;
  const usedAt = lb?.last_used_at_ms ?? 0;
  if (probe && probe.ok !== undefined && (probeAt >= usedAt || !lb)) {
    if (probe.ok) return { kind: 'healthy', text: 'healthy', source: 'probe' };
    const reason = shortReason(probe.error, probe.status_code) ?? 'probe failed';
    return { kind: 'failing', text: `failing: ${reason}`, reason, source: 'probe' };
  }
  if (!lb || (lb.last_used_at_ms === undefined && lb.failure_count === 0)) return { kind: 'unknown', text: 'no traffic', source: 'none' };
  if (lb.failure_count > 0) {
    const reason = shortReason(lb.last_error, lb.last_status) ?? `${lb.failure_count} failures`;
    return { kind: 'failing', text: `failing: ${reason}`, reason, source: 'traffic' };
  }
  return { kind: 'healthy', text: 'healthy', source: 'traffic' };
}

/** States of every upstream of a config, by index. */
export function configHealthStates(baseUrls: readonly string[], lb: LbConfigView | undefined, health: ConfigHealth | undefined,
  snapshotAtMs: number, nowMs: number): UpstreamHealthState[] {
  return baseUrls.map((u, i) => upstreamHealth(lb?.upstreams[i], latestProbe(health, u), snapshotAtMs, nowMs));
}

/** One line for a whole config: `2 healthy`, `1 cooling, 1 failing`, `no traffic`. */
export function configHealthSummary(states: readonly UpstreamHealthState[]): { kind: HealthKind; text: string } {
  if (states.length === 0) return { kind: 'unknown', text: 'no upstreams' };
  const order: HealthKind[] = ['cooling', 'failing', 'exhausted', 'healthy', 'unknown'];
  const counts = new Map<HealthKind, number>();
  for (const s of states) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  const kind: HealthKind = states.every((s) => s.kind === 'cooling') ? 'cooling'
    : states.some((s) => s.kind === 'healthy') ? 'healthy'
      : states.some((s) => s.kind === 'failing' || s.kind === 'cooling') ? 'failing'
        : order.find((k) => counts.has(k))!;
  if (counts.size === 1) {
    const only = states[0]!;
    return { kind, text: states.length === 1 ? only.text : kind === 'unknown' ? 'no traffic' : `all ${kind === 'cooling' ? 'cooling' : kind}` };
  }
  const text = order.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k === 'unknown' ? 'no traffic' : k}`).join(', ');
  return { kind, text };
}
