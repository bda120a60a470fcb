// The retry chain of a finished request as readable attempts. The chain entries keep codex-helper's string format
// (`main:https://… (idx=0) status=502 class=- model=gpt-5`) for API compatibility; this reads them back into
// fields, keeping only the upstream's host (a base URL may carry credentials). No `vscode` here.
import type { FinishedRequest, RetryAttemptDetail } from '../core/types';
import type { AttemptRow } from './protocol';

const HEAD = /^(.+?):((?:https?|wss?):\/\/\S*?) \(idx=(\d+)\)(?: (.*))?$/;
const MAX_TEXT = 300;

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

function clip(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

/** Splits `… model=X` off the end of a free-text field (the text itself may contain spaces). */
function withModel(rest: string, key: string): { text: string; model?: string } {
  const body = rest.slice(key.length + 1);
  const i = body.lastIndexOf(' model=');
  return i >= 0 ? { text: body.slice(0, i), model: body.slice(i + 7) } : { text: body };
}

/** One chain entry as an attempt row (without its number). */
export function parseChainEntry(entry: string): Omit<AttemptRow, 'n'> {
  if (entry.startsWith('all_upstreams_avoided')) return { result: 'skipped', outcome: 'every upstream was avoided or cooling' };
  const m = HEAD.exec(entry);
  if (!m) return { result: 'failed', outcome: clip(entry) };
  const [, config, url, idx, rest = ''] = m;
  const base: Omit<AttemptRow, 'n' | 'result' | 'outcome'> = { config: config!, upstreamIndex: Number(idx) };
  const host = hostOf(url!);
  if (host) base.upstreamHost = host;
  const st = /^status=(\d+)(?: class=(\S+))?(?: model=(.*))?$/.exec(rest);
  if (st) {
    const status = Number(st[1]);
    const ok = status >= 200 && status < 300;
    const cls = st[2] && st[2] !== '-' ? st[2] : undefined;
    const row: Omit<AttemptRow, 'n'> = { ...base, status, result: ok ? 'ok' : 'failed', outcome: cls ? `HTTP ${status} · ${cls}` : `HTTP ${status}` };
    if (st[3] && st[3] !== '-') row.model = st[3];
    return row;
  }
  const skipped = /^skipped_unsupported_model=(.*)$/.exec(rest);
  if (skipped) return { ...base, result: 'skipped', outcome: `does not serve ${skipped[1]}` };
  for (const [key, what] of [['transport_error', 'connection error'], ['body_read_error', 'error reading the answer'], ['target_build_error', 'bad base_url']] as const) {
    if (rest.startsWith(`${key}=`)) {
      const { text, model } = withModel(rest, key);
      const row: Omit<AttemptRow, 'n'> = { ...base, result: 'failed', outcome: what, message: clip(text) };
      if (model && model !== '-') row.model = model;
      return row;
    }
  }
  return { ...base, result: 'failed', outcome: clip(rest || entry) };
}

function applyDetail(row: AttemptRow, d: RetryAttemptDetail | undefined): void {
  if (!d) return;
  if (d.started_at_ms !== undefined) row.atMs = d.started_at_ms;
  if (d.duration_ms !== undefined) row.durationMs = d.duration_ms;
  if (d.upstream_message) row.message = clip(d.upstream_message);
  if (d.retry_after) row.retryAfter = d.retry_after;
  if (d.cooldown_secs !== undefined) row.cooldownSecs = d.cooldown_secs;
}

/** How many upstream attempts a request made: 0 when it was answered before any upstream was tried. */
export function attemptCount(r: FinishedRequest): number {
  if (r.retry) return r.retry.attempts;
  return r.upstream_base_url || r.config_name ? 1 : 0;
}

/**
 * Attempt rows of a finished request (empty for a plain one-attempt answer). The last attempt gets the final
 * answer's hint as its message when the chain carries none.
 */
export function attemptRows(r: FinishedRequest, redact: (s: string) => string): AttemptRow[] {
  const chain = r.retry?.upstream_chain ?? [];
  const details = r.retry?.attempt_details ?? [];
  const rows = chain.map((e, i) => {
    const row: AttemptRow = { n: i + 1, ...parseChainEntry(redact(e)) };
    applyDetail(row, details[i]);
    return row;
  });
  const last = [...rows].reverse().find((x) => x.result !== 'skipped');
  if (last && last.result === 'failed' && !last.message && r.error_hint) last.message = r.error_hint;
  return rows;
}

/** One sentence on how the request went, correct for zero, one and many attempts. */
export function triesNote(r: FinishedRequest): string {
  const n = attemptCount(r);
  const ok = r.status_code >= 200 && r.status_code < 300 && !r.error_class;
  if (n === 0) return `No upstream was tried${r.error_hint ? `: ${r.error_hint}` : r.error_class ? ` (${r.error_class})` : '.'}`;
  if (n === 1) return ok ? 'Answered on the first attempt.' : `One attempt; the upstream answered ${r.status_code || 'with an error'}, which was not retried.`;
  const moved = new Set((r.retry?.upstream_chain ?? []).map((e) => HEAD.exec(e)?.slice(1, 4).join('|')).filter(Boolean)).size > 1;
  return `${n} attempts${moved ? ' across upstreams (failover)' : ' on the same upstream'}; ${ok ? 'the last one succeeded' : 'none succeeded'}.`;
}
