// The Stats view's numbers, computed from the cells of one or more services: totals for today / 7 / 30 days, the
// picked range broken down per model, config and provider, latency and TTFB percentiles, output tokens per second,
// errors by class and chart buckets. Pure: the admin API, the webview host and the CLI all call it.
import { HOUR_MS, MINUTE_MS, binValue, emptyCell, mergeCell } from './statsSeries';
import type { StatsCell, StatsData } from './statsSeries';

export type StatsRange = '1h' | '24h' | '7d' | '30d';
export const STATS_RANGES: readonly StatsRange[] = ['1h', '24h', '7d', '30d'];
const DAY_MS = 24 * HOUR_MS;

const RANGE: Record<StatsRange, { ms: number; bucketMs: number; fine: boolean }> = {
  '1h': { ms: HOUR_MS, bucketMs: MINUTE_MS, fine: true },
  '24h': { ms: DAY_MS, bucketMs: 30 * MINUTE_MS, fine: true },
  '7d': { ms: 7 * DAY_MS, bucketMs: 2 * HOUR_MS, fine: false },
  '30d': { ms: 30 * DAY_MS, bucketMs: DAY_MS, fine: false },
};

export interface StatsTotals {
  requests: number;
  errors: number;
  /** errors / requests, 0 when there were none. */
  error_rate: number;
  errors_by_class: Record<string, number>;
  tokens: { input: number; output: number; reasoning: number; cached: number; cache_write: number; total: number };
  /** Estimated cost by currency. */
  cost: Record<string, number>;
  priced: number;
  unpriced: number;
  p50_ms?: number;
  p95_ms?: number;
  ttfb_p50_ms?: number;
  ttfb_p95_ms?: number;
  /** Output tokens per second of generation (after the first byte). */
  output_tps?: number;
}

export interface StatsGroup {
  key: string;
  /** For configs: the providers that answered; for models: the configs that served them. */
  via: string[];
  totals: StatsTotals;
}

export interface StatsChartBucket {
  start_ms: number;
  requests: number;
  errors: number;
  tokens: number;
  cost: Record<string, number>;
}

export interface StatsReport {
  now_ms: number;
  /** `1h`, `24h`, `7d`, `30d`, or `<n>d` for a `days` report. */
  range: string;
  range_ms: number;
  today: StatsTotals;
  last_7d: StatsTotals;
  last_30d: StatsTotals;
  period: StatsTotals;
  by_model: StatsGroup[];
  by_config: StatsGroup[];
  by_provider: StatsGroup[];
  chart: { bucket_ms: number; buckets: StatsChartBucket[] };
}

export interface StatsReportOptions {
  nowMs: number;
  range: StatsRange;
  /** Instead of `range`: the last `days` days in day buckets (the CLI's `--days`). */
  days?: number;
  /** Minutes to add to UTC for local time (e.g. +120 for CEST); days and day buckets start at local midnight. */
  tzOffsetMin?: number;
}

function percentile(hist: Record<string, number>, p: number): number | undefined {
  const entries = Object.entries(hist).map(([k, v]) => [Number(k), v] as const).sort((a, b) => a[0] - b[0]);
  const n = entries.reduce((s, [, v]) => s + v, 0);
  if (n === 0) return undefined;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (const [bin, v] of entries) {
    seen += v;
    if (seen >= rank) return Math.round(binValue(bin));
  }
  return undefined;
}

/** Totals of a merged cell. */
export function totalsOf(c: StatsCell): StatsTotals {
  const t: StatsTotals = {
    requests: c.requests,
    errors: c.errors,
    error_rate: c.requests > 0 ? c.errors / c.requests : 0,
    errors_by_class: { ...c.errors_by_class },
    tokens: { input: c.input, output: c.output, reasoning: c.reasoning, cached: c.cached, cache_write: c.cache_write, total: c.total },
    cost: { ...c.cost },
    priced: c.priced,
    unpriced: c.unpriced,
  };
  const set = (k: 'p50_ms' | 'p95_ms' | 'ttfb_p50_ms' | 'ttfb_p95_ms', v: number | undefined) => {
    if (v !== undefined) t[k] = v;
  };
  set('p50_ms', percentile(c.lat, 0.5));
  set('p95_ms', percentile(c.lat, 0.95));
  set('ttfb_p50_ms', percentile(c.ttfb, 0.5));
  set('ttfb_p95_ms', percentile(c.ttfb, 0.95));
  if (c.gen_ms > 0) t.output_tps = (c.gen_output * 1000) / c.gen_ms;
  return t;
}

function sum(cells: Iterable<StatsCell>): StatsCell {
  const acc = emptyCell(0, 'codex', '', '', '');
  for (const c of cells) mergeCell(acc, c);
  return acc;
}

function groups(cells: StatsCell[], key: (c: StatsCell) => string, via: (c: StatsCell) => string): StatsGroup[] {
  const m = new Map<string, { cell: StatsCell; via: Set<string> }>();
  for (const c of cells) {
    const k = key(c);
    let g = m.get(k);
    if (!g) m.set(k, (g = { cell: emptyCell(0, c.service, '', '', ''), via: new Set() }));
    mergeCell(g.cell, c);
    const v = via(c);
    if (v && v !== '-') g.via.add(v);
  }
  return [...m.entries()]
    .map(([k, g]) => ({ key: k, via: [...g.via].sort(), totals: totalsOf(g.cell) }))
    .sort((a, b) => b.totals.requests - a.totals.requests || b.totals.tokens.total - a.totals.tokens.total || (a.key < b.key ? -1 : 1));
}

/** Start of the local day containing `nowMs`. */
export function localDayStart(nowMs: number, tzOffsetMin = 0): number {
  const off = tzOffsetMin * MINUTE_MS;
  return Math.floor((nowMs + off) / DAY_MS) * DAY_MS - off;
}

/** Builds the report from the cells of every service given. */
export function buildStatsReport(data: readonly StatsData[], opts: StatsReportOptions): StatsReport {
  const now = opts.nowMs;
  const off = (opts.tzOffsetMin ?? 0) * MINUTE_MS;
  const minute = data.flatMap((d) => d.minute);
  const hour = data.flatMap((d) => d.hour);
  const hourSince = (since: number) => hour.filter((c) => c.t >= Math.floor(since / HOUR_MS) * HOUR_MS && c.t <= now);
  const days = opts.days !== undefined ? Math.max(1, Math.min(366, Math.floor(opts.days))) : undefined;
  const r = days !== undefined ? { ms: days * DAY_MS, bucketMs: DAY_MS, fine: false } : RANGE[opts.range];
  const inRange = r.fine
    ? minute.filter((c) => c.t >= Math.floor((now - r.ms) / MINUTE_MS) * MINUTE_MS + MINUTE_MS && c.t <= now)
    : hourSince(now - r.ms + HOUR_MS);

  // Chart buckets end with the one holding `now`; day buckets start at local midnight.
  const align = (t: number) => Math.floor((t + off) / r.bucketMs) * r.bucketMs - off;
  const count = Math.round(r.ms / r.bucketMs);
  const first = align(now) - (count - 1) * r.bucketMs;
  const buckets: StatsChartBucket[] = [];
  for (let i = 0; i < count; i++) buckets.push({ start_ms: first + i * r.bucketMs, requests: 0, errors: 0, tokens: 0, cost: {} });
  const chartCells = r.fine ? minute : hour;
  for (const c of chartCells) {
    if (c.t < first) continue;
    const b = buckets[Math.floor((c.t - first) / r.bucketMs)];
    if (!b) continue;
    b.requests += c.requests;
    b.errors += c.errors;
    b.tokens += c.total;
    for (const [cur, v] of Object.entries(c.cost)) b.cost[cur] = (b.cost[cur] ?? 0) + v;
  }

  return {
    now_ms: now,
    range: days !== undefined ? `${days}d` : opts.range,
    range_ms: r.ms,
    today: totalsOf(sum(hourSince(localDayStart(now, opts.tzOffsetMin)))),
    last_7d: totalsOf(sum(hourSince(now - 7 * DAY_MS + HOUR_MS))),
    last_30d: totalsOf(sum(hourSince(now - 30 * DAY_MS + HOUR_MS))),
    period: totalsOf(sum(inRange)),
    by_model: groups(inRange, (c) => c.model, (c) => c.config),
    by_config: groups(inRange, (c) => c.config, (c) => c.provider),
    by_provider: groups(inRange, (c) => c.provider, (c) => c.config),
    chart: { bucket_ms: r.bucketMs, buckets },
  };
}

/** Parses a range name; undefined when it is not one of 1h, 24h, 7d, 30d. */
export function parseStatsRange(v: unknown): StatsRange | undefined {
  return typeof v === 'string' && (STATS_RANGES as readonly string[]).includes(v) ? (v as StatsRange) : undefined;
}
