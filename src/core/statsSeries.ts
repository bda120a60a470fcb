// Time series behind the Stats view: per-minute cells for the last day and per-hour cells for the rollup window,
// each split by model, config and provider. A cell carries counts, tokens, cost and latency histograms, so cells from
// several services (or several processes) merge exactly and percentiles can be read for any range.
import { rollupModel } from './usageRollup';
import type { RollupEvent } from './usageRollup';
import type { ServiceName } from './types';
import { addCost } from './pricing';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** Minute cells cover the 24 h chart plus slack for clock and timezone alignment. */
const MINUTE_KEEP_MS = 26 * HOUR_MS;
/** Histogram bins grow by this factor: percentiles are read to within about ±10 %. */
const HIST_BASE = 1.2;
const HIST_MAX_BIN = 90;

/** One (time bucket, model, config, provider) aggregate; `lat`/`ttfb` are sparse histograms (bin → count). */
export interface StatsCell {
  t: number;
  service: ServiceName;
  model: string;
  config: string;
  provider: string;
  requests: number;
  errors: number;
  errors_by_class: Record<string, number>;
  with_usage: number;
  input: number;
  output: number;
  reasoning: number;
  cached: number;
  cache_write: number;
  total: number;
  cost: Record<string, number>;
  priced: number;
  /** Requests with usage but no matching price rule. */
  unpriced: number;
  /** Durations of successful requests. */
  lat: Record<string, number>;
  ttfb: Record<string, number>;
  /** Generation time (duration − ttfb) and output tokens of successful requests with both, for tokens/s. */
  gen_ms: number;
  gen_output: number;
}

/** What `GET …/api/v1/stats?raw=1` returns and `buildStatsReport` reads. */
export interface StatsData {
  service: ServiceName;
  minute: StatsCell[];
  hour: StatsCell[];
}

/** Histogram bin of a duration in ms. */
export function histBin(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(HIST_MAX_BIN, Math.max(0, Math.floor(Math.log(ms) / Math.log(HIST_BASE))));
}

/** Representative value of a bin (its geometric middle). */
export function binValue(bin: number): number {
  return Math.pow(HIST_BASE, bin + 0.5);
}

/** Error class of a finished request, or undefined for a success: the proxy's class, else the HTTP status class. */
export function errorClassOf(status: number, errorClass: string | undefined): string | undefined {
  if (errorClass) return errorClass;
  if (status === 429) return 'http_429';
  if (status >= 400 && status < 500) return 'http_4xx';
  if (status >= 500) return 'http_5xx';
  if (!(status >= 200)) return 'no_status';
  return undefined;
}

/** A zeroed cell. */
export function emptyCell(t: number, service: ServiceName, model: string, config: string, provider: string): StatsCell {
  return {
    t, service, model, config, provider, requests: 0, errors: 0, errors_by_class: {}, with_usage: 0,
    input: 0, output: 0, reasoning: 0, cached: 0, cache_write: 0, total: 0, cost: {}, priced: 0, unpriced: 0,
    lat: {}, ttfb: {}, gen_ms: 0, gen_output: 0,
  };
}

function bump(h: Record<string, number>, k: string | number, by = 1): void {
  h[k] = (h[k] ?? 0) + by;
}

/** Adds one request to a cell. */
export function recordCell(c: StatsCell, e: RollupEvent): void {
  c.requests += 1;
  const cls = errorClassOf(e.status_code, e.error_class);
  if (cls) {
    c.errors += 1;
    bump(c.errors_by_class, cls);
  } else {
    bump(c.lat, histBin(e.duration_ms));
    if (e.ttfb_ms !== undefined && e.ttfb_ms > 0) bump(c.ttfb, histBin(e.ttfb_ms));
  }
  const u = e.usage;
  if (!u) return;
  c.with_usage += 1;
  c.input += u.input_tokens;
  c.output += u.output_tokens;
  c.reasoning += u.reasoning_tokens;
  c.cached += u.cached_input_tokens ?? 0;
  c.cache_write += u.cache_creation_input_tokens ?? 0;
  c.total += u.total_tokens || u.input_tokens + u.output_tokens;
  if (e.cost) {
    c.priced += 1;
    addCost(c.cost, e.cost.currency, e.cost.amount);
  } else c.unpriced += 1;
  if (!cls && e.ttfb_ms !== undefined && e.ttfb_ms > 0 && e.ttfb_ms < e.duration_ms && u.output_tokens > 0) {
    c.gen_ms += e.duration_ms - e.ttfb_ms;
    c.gen_output += u.output_tokens;
  }
}

/** Adds cell `b` into `a` in place (keys are not checked). */
export function mergeCell(a: StatsCell, b: StatsCell): void {
  a.requests += b.requests;
  a.errors += b.errors;
  for (const [k, v] of Object.entries(b.errors_by_class)) bump(a.errors_by_class, k, v);
  a.with_usage += b.with_usage;
  a.input += b.input;
  a.output += b.output;
  a.reasoning += b.reasoning;
  a.cached += b.cached;
  a.cache_write += b.cache_write;
  a.total += b.total;
  for (const [k, v] of Object.entries(b.cost)) addCost(a.cost, k, v);
  a.priced += b.priced;
  a.unpriced += b.unpriced;
  for (const [k, v] of Object.entries(b.lat)) bump(a.lat, k, v);
  for (const [k, v] of Object.entries(b.ttfb)) bump(a.ttfb, k, v);
  a.gen_ms += b.gen_ms;
  a.gen_output += b.gen_output;
}

function cloneCell(c: StatsCell): StatsCell {
  const out = emptyCell(c.t, c.service, c.model, c.config, c.provider);
  mergeCell(out, c);
  return out;
}

type Nested = Map<string, Map<string, Map<string, StatsCell>>>;

function child<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}

class CellStore {
  // time → model → config → provider: nested lookups, so the request path builds no key strings.
  private readonly byTime = new Map<number, Nested>();

  constructor(private readonly service: ServiceName, readonly bucketMs: number) {}

  record(e: RollupEvent): void {
    const t = Math.floor(e.ended_at_ms / this.bucketMs) * this.bucketMs;
    const model = rollupModel(e);
    const config = e.config_name ?? '-';
    const provider = e.provider_id ?? '-';
    const byConfig = child(child(this.byTime, t, (): Nested => new Map()), model, () => new Map<string, Map<string, StatsCell>>());
    const byProvider = child(byConfig, config, () => new Map<string, StatsCell>());
    const c = child(byProvider, provider, () => emptyCell(t, this.service, model, config, provider));
    recordCell(c, e);
  }

  prune(minT: number): void {
    for (const t of this.byTime.keys()) if (t < minT) this.byTime.delete(t);
  }

  list(sinceMs: number): StatsCell[] {
    const out: StatsCell[] = [];
    for (const [t, models] of this.byTime) {
      if (t + this.bucketMs <= sinceMs) continue;
      for (const configs of models.values()) for (const providers of configs.values()) for (const c of providers.values()) out.push(cloneCell(c));
    }
    return out.sort((a, b) => a.t - b.t);
  }
}

/** The series of one service; recording is two map lookups and a few additions, cheap enough for the request path. */
export class StatsSeries {
  private readonly minute: CellStore;
  private readonly hour: CellStore;

  constructor(readonly service: ServiceName, private readonly keepDays: number) {
    this.minute = new CellStore(service, MINUTE_MS);
    this.hour = new CellStore(service, HOUR_MS);
  }

  /** Accounts one finished request. */
  record(e: RollupEvent): void {
    this.minute.record(e);
    this.hour.record(e);
  }

  /** Drops minute cells older than a day and hour cells outside the rollup window. */
  prune(nowMs: number): void {
    this.minute.prune(nowMs - MINUTE_KEEP_MS);
    this.hour.prune(nowMs - this.keepDays * 24 * HOUR_MS);
  }

  /** Copies of the cells of the last `days` days (minute cells: at most the last day). */
  data(nowMs: number, days: number): StatsData {
    const since = nowMs - Math.max(1, days) * 24 * HOUR_MS;
    return { service: this.service, minute: this.minute.list(Math.max(since, nowMs - MINUTE_KEEP_MS)), hour: this.hour.list(since) };
  }
}
