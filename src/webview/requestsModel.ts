// Pure projection of the per-service admin snapshots into what the recent-requests page draws: rows (active first),
// filters, totals and per-minute chart buckets. No `vscode` here, so all of it is testable in plain node.
import type { ActiveRequest, FinishedRequest, ServiceName } from '../core/types';
import type {
  ChartBucket,
  HostMessage,
  RequestFilters,
  RequestRow,
  RequestTotals,
  SourceStatus,
  StatusClass,
  UpstreamStateView,
} from './protocol';
import { attemptCount, attemptRows, triesNote } from './retryChain';

export type UpdateMessage = Extract<HostMessage, { type: 'update' }>;

export type SourceData =
  | {
      service: ServiceName;
      ok: true;
      active: readonly ActiveRequest[];
      recent: readonly FinishedRequest[];
      url?: string;
      /** Upstream states by `service/config#index` (see upstreamHealth.ts). */
      states?: Record<string, UpstreamStateView>;
    }
  | { service: ServiceName; ok: false; message: string; url?: string };

export interface BuildOptions {
  filters: RequestFilters;
  maxRows: number;
  nowMs: number;
  /** Defaults to one minute. */
  bucketMs?: number;
  /** Defaults to 60 (one hour of minutes). */
  bucketCount?: number;
}

const MAX_SESSIONS = 50;
const HOST_CACHE_MAX = 256;

/** Which status bucket a finished request belongs to. */
export function statusClassOf(status: number, errorClass?: string): StatusClass {
  if (!Number.isInteger(status) || status < 200 || status > 599) return 'error';
  if (status < 300) return errorClass ? 'error' : '2xx';
  if (status < 400) return '3xx';
  return status < 500 ? '4xx' : '5xx';
}

/** True for the classes the UI counts and filters as errors. */
export function isErrorClass(c: StatusClass | undefined): boolean {
  return c === '4xx' || c === '5xx' || c === 'error';
}

const hostCache = new Map<string, string | undefined>();

/** `host[:port]` of a base URL: never the userinfo, path or query, which may carry credentials. */
export function upstreamHostOf(baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  if (hostCache.has(baseUrl)) return hostCache.get(baseUrl);
  let host: string | undefined;
  try {
    host = new URL(baseUrl).host || undefined;
  } catch {
    host = undefined;
  }
  if (hostCache.size >= HOST_CACHE_MAX) hostCache.clear();
  hostCache.set(baseUrl, host);
  return host;
}

const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi;
const SECRET_QUERY = /([?&](?:key|api[_-]?key|token|access[_-]?token|auth)=)[^&\s]*/gi;

/** Masks credentials that a base URL in a retry-chain entry could carry. */
export function redactChainEntry(entry: string): string {
  if (!entry.includes('@') && !entry.includes('=')) return entry;
  return entry.replace(USERINFO, '$1***@').replace(SECRET_QUERY, '$1***');
}

function setIf<K extends keyof RequestRow>(row: RequestRow, k: K, v: RequestRow[K] | undefined): void {
  if (v !== undefined && v !== '') row[k] = v;
}

/** The row for a finished request. */
export function rowFromFinished(r: FinishedRequest): RequestRow {
  const statusClass = statusClassOf(r.status_code, r.error_class);
  const chain = r.retry?.upstream_chain ?? [];
  const row: RequestRow = {
    key: `f:${r.service}:${r.id}:${r.ended_at_ms}`,
    active: false,
    service: r.service,
    timeMs: r.ended_at_ms,
    method: r.method,
    path: r.path,
    status: r.status_code,
    statusClass,
    durationMs: r.duration_ms,
    attempts: attemptCount(r),
    chain: chain.length ? chain.map(redactChainEntry) : [],
    triesNote: triesNote(r),
  };
  if (chain.length) row.attemptRows = attemptRows(r, redactChainEntry);
  setIf(row, 'sessionId', r.session_id);
  setIf(row, 'cwd', r.cwd);
  setIf(row, 'model', r.model);
  if (r.mapped_model && r.mapped_model !== r.model) row.mappedModel = r.mapped_model;
  setIf(row, 'effort', r.reasoning_effort);
  setIf(row, 'config', r.config_name);
  setIf(row, 'provider', r.provider_id);
  setIf(row, 'upstreamHost', upstreamHostOf(r.upstream_base_url));
  setIf(row, 'ttfbMs', r.ttfb_ms);
  setIf(row, 'errorClass', r.error_class);
  setIf(row, 'routeNote', r.route_note);
  setIf(row, 'errorHint', r.error_message ? `upstream: ${r.error_message}${r.error_hint ? ` — ${r.error_hint}` : ''}` : r.error_hint);
  if (r.cost && Number.isFinite(r.cost.amount)) row.cost = { amount: r.cost.amount, currency: r.cost.currency };
  if (r.usage) {
    const u = r.usage;
    row.tokens = {
      input: u.input_tokens,
      output: u.output_tokens,
      reasoning: u.reasoning_tokens,
      cached: u.cached_input_tokens ?? 0,
      total: u.total_tokens || u.input_tokens + u.output_tokens,
    };
  }
  return row;
}

/** The row for an in-flight request. */
export function rowFromActive(r: ActiveRequest): RequestRow {
  const row: RequestRow = {
    key: `a:${r.service}:${r.id}`,
    active: true,
    service: r.service,
    timeMs: r.started_at_ms,
    method: r.method,
    path: r.path,
    attempts: 1,
    chain: [],
  };
  setIf(row, 'sessionId', r.session_id);
  setIf(row, 'cwd', r.cwd);
  setIf(row, 'model', r.model);
  setIf(row, 'effort', r.reasoning_effort);
  setIf(row, 'config', r.config_name);
  setIf(row, 'provider', r.provider_id);
  setIf(row, 'upstreamHost', upstreamHostOf(r.upstream_base_url));
  return row;
}

/** The text a row's free-text filter searches, lower-cased. */
function haystack(row: RequestRow): string {
  return [
    row.service, row.model, row.mappedModel, row.effort, row.config, row.provider, row.upstreamHost, row.sessionId, row.cwd,
    row.status !== undefined ? String(row.status) : row.active ? 'active' : undefined, row.statusClass, row.errorClass,
    row.method, row.path,
  ].filter((x) => x !== undefined && x !== '').join('\n').toLowerCase();
}

/** Whether every whitespace-separated word of `text` occurs in the row (case-insensitive). */
export function matchesText(row: RequestRow, text: string | undefined): boolean {
  const words = (text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const h = haystack(row);
  return words.every((w) => h.includes(w));
}

/** Whether a row passes the filters; active rows have no status yet, so any status filter hides them. */
export function matchesFilters(row: RequestRow, f: RequestFilters): boolean {
  if (f.service !== 'all' && row.service !== f.service) return false;
  if (f.session !== '' && row.sessionId !== f.session) return false;
  if (!matchesText(row, f.text)) return false;
  if (f.status === 'all') return true;
  if (row.active) return false;
  if (f.status === 'error') return isErrorClass(row.statusClass);
  return row.statusClass === f.status;
}

/** Builds update messages; finished requests never change, so their rows are reused between updates. */
export class RequestsModel {
  private finishedRows = new Map<string, RequestRow>();
  private byKey = new Map<string, RequestRow>();

  /** The row last built under `key` (posted or trimmed), for `requestDetails` and `copy`. */
  row(key: string): RequestRow | undefined {
    return this.byKey.get(key);
  }

  /** Merges the sources into one `update` message for the page. */
  build(sources: readonly SourceData[], opts: BuildOptions): UpdateMessage {
    const bucketMs = opts.bucketMs ?? 60_000;
    const bucketCount = opts.bucketCount ?? 60;
    const maxRows = Math.max(1, Math.floor(opts.maxRows) || 1);
    const f = opts.filters;

    const active: RequestRow[] = [];
    const finished: RequestRow[] = [];
    const statuses: SourceStatus[] = [];
    const states: Record<string, UpstreamStateView> = {};
    const nextFinished = new Map<string, RequestRow>();
    for (const s of sources) {
      if (!s.ok) {
        statuses.push({ service: s.service, ok: false, message: s.message, ...(s.url ? { url: s.url } : {}) });
        continue;
      }
      statuses.push({ service: s.service, ok: true, ...(s.url ? { url: s.url } : {}) });
      if (s.states) Object.assign(states, s.states);
      for (const a of s.active) active.push(rowFromActive(a));
      for (const r of s.recent) {
        const key = `f:${r.service}:${r.id}:${r.ended_at_ms}`;
        const row = this.finishedRows.get(key) ?? rowFromFinished(r);
        nextFinished.set(key, row);
        finished.push(row);
      }
    }
    this.finishedRows = nextFinished;
    active.sort((a, b) => b.timeMs - a.timeMs);
    // Each source is already newest first; a stable sort keeps that order for equal end times.
    if (sources.length > 1) finished.sort((a, b) => b.timeMs - a.timeMs);

    const sessions: string[] = [];
    const seenSessions = new Set<string>();
    const noteSession = (row: RequestRow): void => {
      const sid = row.sessionId;
      if (sid !== undefined && sessions.length < MAX_SESSIONS && !seenSessions.has(sid)) {
        seenSessions.add(sid);
        sessions.push(sid);
      }
    };

    const totals: RequestTotals = {
      requests: 0,
      active: 0,
      errors: 0,
      inputTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
      cachedTokens: 0,
      totalTokens: 0,
    };
    const end = Math.floor(opts.nowMs / bucketMs) * bucketMs + bucketMs;
    const start = end - bucketCount * bucketMs;
    const buckets: ChartBucket[] = [];
    for (let i = 0; i < bucketCount; i++) buckets.push({ startMs: start + i * bucketMs, requests: 0, errors: 0, tokens: 0 });

    const rows: RequestRow[] = [];
    let matched = 0;
    this.byKey = new Map();
    for (const row of active) {
      noteSession(row);
      if (!matchesFilters(row, f)) continue;
      totals.active += 1;
      matched += 1;
      this.byKey.set(row.key, row);
      if (rows.length < maxRows) rows.push(row);
    }
    for (const row of finished) {
      noteSession(row);
      if (!matchesFilters(row, f)) continue;
      matched += 1;
      this.byKey.set(row.key, row);
      if (rows.length < maxRows) rows.push(row);
      const err = isErrorClass(row.statusClass);
      const t = row.tokens;
      totals.requests += 1;
      if (err) totals.errors += 1;
      if (row.cost) {
        totals.cost ??= {};
        totals.cost[row.cost.currency] = (totals.cost[row.cost.currency] ?? 0) + row.cost.amount;
      }
      if (t) {
        totals.inputTokens += t.input;
        totals.outputTokens += t.output;
        totals.reasoningTokens += t.reasoning;
        totals.cachedTokens += t.cached;
        totals.totalTokens += t.total;
      }
      if (row.timeMs >= start && row.timeMs < end) {
        const b = buckets[Math.floor((row.timeMs - start) / bucketMs)];
        if (b) {
          b.requests += 1;
          if (err) b.errors += 1;
          if (t) b.tokens += t.total;
        }
      }
    }

    return {
      type: 'update',
      nowMs: opts.nowMs,
      rows,
      hiddenRows: matched - rows.length,
      totals,
      bucketMs,
      buckets,
      sessions,
      sources: statuses,
      upstreamStates: states,
    };
  }
}
