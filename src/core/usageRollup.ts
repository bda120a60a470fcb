// Usage rollups of one service (since start, per day, per config, per provider) and their rebuild from the tail of
// requests.jsonl after a restart. Mirrors the seed's `UsageRollup` and `replay_usage_from_requests_log`.
import type { ServiceName, UsageMetrics } from './types';
import { addCost, mergeCosts } from './pricing';
import type { RequestCost } from './pricing';

const DAY_MS = 86_400_000;

/** The non-blank complete lines of the last `maxBytes` of a log; undefined when it cannot be read (src/io/tailLines.ts). */
export type TailReader = (maxBytes: number) => string[] | undefined;

export interface UsageBucket {
  requests_total: number;
  requests_error: number;
  duration_ms_total: number;
  requests_with_usage: number;
  duration_ms_with_usage_total: number;
  generation_ms_total: number;
  ttfb_ms_total: number;
  ttfb_samples: number;
  usage: UsageMetrics;
  /** Estimated cost by currency of the priced requests (empty when nothing was priced). */
  /** Optional in the type: proxies of earlier versions (and the seed) do not send it. */
  cost?: Record<string, number>;
  /** Requests with usage that a price rule matched; the others are in `requests_with_usage` only. */
  requests_priced?: number;
}

/** Tuples serialise as `[key, bucket]` arrays, exactly like the seed's `Vec<(K, UsageBucket)>`. */
export interface UsageRollupView {
  since_start: UsageBucket;
  by_day: Array<[number, UsageBucket]>;
  by_config: Array<[string, UsageBucket]>;
  by_config_day: Record<string, Array<[number, UsageBucket]>>;
  by_provider: Array<[string, UsageBucket]>;
  by_provider_day: Record<string, Array<[number, UsageBucket]>>;
  /** Per model the client asked for (`-` when unknown); an addition to the seed's shape. */
  by_model?: Array<[string, UsageBucket]>;
  by_model_day?: Record<string, Array<[number, UsageBucket]>>;
}

/**
 * One finished request as the rollups see it (a finished request is one as it is): an unknown config or provider
 * is counted under `'-'`, and a request without a model under the model it was sent as.
 */
export interface RollupEvent {
  ended_at_ms: number;
  status_code: number;
  duration_ms: number;
  config_name?: string;
  provider_id?: string;
  usage?: UsageMetrics;
  ttfb_ms?: number;
  model?: string;
  /** Model sent upstream when a mapping changed it. */
  mapped_model?: string;
  cost?: RequestCost;
  error_class?: string;
  session_id?: string;
}

/** The model a request is counted under: as asked, else as sent, else `'-'`. */
export function rollupModel(e: RollupEvent): string {
  return e.model || e.mapped_model || '-';
}

/** A zeroed usage record. */
export function emptyUsage(): UsageMetrics {
  return { input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, total_tokens: 0 };
}

/** Adds `b` into `a` in place; cache fields only appear once some request reported them. */
export function addUsage(a: UsageMetrics, b: UsageMetrics): void {
  a.input_tokens += b.input_tokens || 0;
  a.output_tokens += b.output_tokens || 0;
  a.reasoning_tokens += b.reasoning_tokens || 0;
  a.total_tokens += b.total_tokens || 0;
  if (b.cached_input_tokens !== undefined) a.cached_input_tokens = (a.cached_input_tokens ?? 0) + b.cached_input_tokens;
  if (b.cache_creation_input_tokens !== undefined) {
    a.cache_creation_input_tokens = (a.cache_creation_input_tokens ?? 0) + b.cache_creation_input_tokens;
  }
}

function emptyBucket(): UsageBucket {
  return {
    requests_total: 0, requests_error: 0, duration_ms_total: 0, requests_with_usage: 0,
    duration_ms_with_usage_total: 0, generation_ms_total: 0, ttfb_ms_total: 0, ttfb_samples: 0, usage: emptyUsage(),
    cost: {}, requests_priced: 0,
  };
}

function cloneBucket(b: UsageBucket): UsageBucket {
  return { ...b, usage: { ...b.usage }, cost: { ...b.cost } };
}

function recordBucket(b: UsageBucket, e: RollupEvent): void {
  b.requests_total += 1;
  if (e.status_code >= 400) b.requests_error += 1;
  b.duration_ms_total += e.duration_ms;
  if (!e.usage) return;
  b.requests_with_usage += 1;
  b.duration_ms_with_usage_total += e.duration_ms;
  const ttfb = e.ttfb_ms;
  b.generation_ms_total += ttfb !== undefined && ttfb > 0 && ttfb < e.duration_ms ? e.duration_ms - ttfb : e.duration_ms;
  if (ttfb !== undefined && ttfb > 0) {
    b.ttfb_ms_total += ttfb;
    b.ttfb_samples += 1;
  }
  addUsage(b.usage, e.usage);
  if (e.cost) {
    b.requests_priced = (b.requests_priced ?? 0) + 1;
    addCost((b.cost ??= {}), e.cost.currency, e.cost.amount);
  }
}

/** Adds bucket `b` into `a` in place. */
export function mergeBucket(a: UsageBucket, b: UsageBucket): void {
  a.requests_total += b.requests_total;
  a.requests_error += b.requests_error;
  a.duration_ms_total += b.duration_ms_total;
  a.requests_with_usage += b.requests_with_usage;
  a.duration_ms_with_usage_total += b.duration_ms_with_usage_total;
  a.generation_ms_total += b.generation_ms_total;
  a.ttfb_ms_total += b.ttfb_ms_total;
  a.ttfb_samples += b.ttfb_samples;
  addUsage(a.usage, b.usage);
  a.requests_priced = (a.requests_priced ?? 0) + (b.requests_priced ?? 0);
  a.cost ??= {};
  mergeCosts(a.cost, b.cost);
}

function bucketIn<K>(m: Map<K, UsageBucket>, k: K): UsageBucket {
  let b = m.get(k);
  if (!b) {
    b = emptyBucket();
    m.set(k, b);
  }
  return b;
}

function dayMapIn(m: Map<string, Map<number, UsageBucket>>, k: string): Map<number, UsageBucket> {
  let d = m.get(k);
  if (!d) {
    d = new Map();
    m.set(k, d);
  }
  return d;
}

function lastDays(m: Map<number, UsageBucket>, days: number): Array<[number, UsageBucket]> {
  const keys = [...m.keys()].sort((a, b) => a - b);
  return keys.slice(Math.max(0, keys.length - days)).map((k) => [k, cloneBucket(m.get(k) as UsageBucket)]);
}

function topByTokens(m: Map<string, UsageBucket>, topN: number): Array<[string, UsageBucket]> {
  return [...m.entries()]
    .sort((a, b) => b[1].usage.total_tokens - a[1].usage.total_tokens || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, Math.max(0, topN))
    .map(([k, v]) => [k, cloneBucket(v)]);
}

/** The rollup maps of one service; recording is a handful of map lookups, so it stays on the request path. */
export class UsageRollups {
  private readonly since_start = emptyBucket();
  private readonly by_day = new Map<number, UsageBucket>();
  private readonly by_config = new Map<string, UsageBucket>();
  private readonly by_config_day = new Map<string, Map<number, UsageBucket>>();
  private readonly by_provider = new Map<string, UsageBucket>();
  private readonly by_provider_day = new Map<string, Map<number, UsageBucket>>();
  private readonly by_model = new Map<string, UsageBucket>();
  private readonly by_model_day = new Map<string, Map<number, UsageBucket>>();

  /** Accounts one finished request in every rollup it belongs to. */
  record(e: RollupEvent): void {
    const day = Math.floor(e.ended_at_ms / DAY_MS);
    recordBucket(this.since_start, e);
    recordBucket(bucketIn(this.by_day, day), e);
    const config = e.config_name ?? '-';
    const provider = e.provider_id ?? '-';
    recordBucket(bucketIn(this.by_config, config), e);
    recordBucket(bucketIn(dayMapIn(this.by_config_day, config), day), e);
    recordBucket(bucketIn(this.by_provider, provider), e);
    recordBucket(bucketIn(dayMapIn(this.by_provider_day, provider), day), e);
    const model = rollupModel(e);
    recordBucket(bucketIn(this.by_model, model), e);
    recordBucket(bucketIn(dayMapIn(this.by_model_day, model), day), e);
  }

  /** Drops per-day buckets older than the last `keepDays` days (today included). */
  prune(now: number, keepDays: number): void {
    const minDay = Math.floor(now / DAY_MS) - (keepDays - 1);
    for (const d of this.by_day.keys()) if (d < minDay) this.by_day.delete(d);
    for (const dm of [this.by_config_day, this.by_provider_day, this.by_model_day]) {
      for (const [k, days] of dm) {
        for (const d of days.keys()) if (d < minDay) days.delete(d);
        if (days.size === 0) dm.delete(k);
      }
    }
  }

  /** The last `days` days, and the `topN` configs/providers by total tokens (copies). */
  view(topN: number, days: number): UsageRollupView {
    const byConfig = topByTokens(this.by_config, topN);
    const byProvider = topByTokens(this.by_provider, topN);
    const byConfigDay: Record<string, Array<[number, UsageBucket]>> = {};
    for (const [k] of byConfig) byConfigDay[k] = lastDays(this.by_config_day.get(k) ?? new Map(), days);
    const byProviderDay: Record<string, Array<[number, UsageBucket]>> = {};
    for (const [k] of byProvider) byProviderDay[k] = lastDays(this.by_provider_day.get(k) ?? new Map(), days);
    const byModel = topByTokens(this.by_model, topN);
    const byModelDay: Record<string, Array<[number, UsageBucket]>> = {};
    for (const [k] of byModel) byModelDay[k] = lastDays(this.by_model_day.get(k) ?? new Map(), days);
    return {
      since_start: cloneBucket(this.since_start),
      by_day: lastDays(this.by_day, days),
      by_config: byConfig,
      by_config_day: byConfigDay,
      by_provider: byProvider,
      by_provider_day: byProviderDay,
      by_model: byModel,
      by_model_day: byModelDay,
    };
  }

  /**
   * Seed `replay_usage_from_requests_log`: rebuilds the rollups from the tail of requests.jsonl.
   * Skipped when the rollups already hold requests or the file is missing; returns the number of events replayed.
   */
  replayRequestsLog(
    readTail: TailReader,
    service: ServiceName,
    providerByBaseUrl: Record<string, string>,
    opts: { maxBytes?: number; maxLines?: number } = {},
    sink?: (e: RollupEvent) => void,
  ): number {
    if (this.since_start.requests_total > 0) return 0;
    const maxBytes = Math.max(1, opts.maxBytes ?? 8 * 1024 * 1024);
    const maxLines = Math.max(1, opts.maxLines ?? 20_000);
    const lines = readTail(maxBytes);
    if (!lines) return 0;
    let count = 0;
    for (const line of lines.slice(Math.max(0, lines.length - maxLines))) {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      const e = toReplayEvent(v, service, providerByBaseUrl);
      if (!e) continue;
      // The caller prices old lines (and feeds its own series) before the rollups count them.
      sink?.(e);
      this.record(e);
      count += 1;
    }
    return count;
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function toUsage(v: unknown): UsageMetrics | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const u: UsageMetrics = {
    input_tokens: num(o.input_tokens) ?? 0,
    output_tokens: num(o.output_tokens) ?? 0,
    reasoning_tokens: num(o.reasoning_tokens) ?? 0,
    total_tokens: num(o.total_tokens) ?? 0,
  };
  const cached = num(o.cached_input_tokens);
  if (cached !== undefined) u.cached_input_tokens = cached;
  const creation = num(o.cache_creation_input_tokens);
  if (creation !== undefined) u.cache_creation_input_tokens = creation;
  return u;
}

/** One requests.jsonl record as a rollup event of `service`; undefined for other services and malformed lines. */
export function toReplayEvent(v: unknown, service: ServiceName, providerByBaseUrl: Record<string, string>): RollupEvent | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (o.service !== service) return undefined;
  const ended = num(o.timestamp_ms);
  const status = num(o.status_code);
  const duration = num(o.duration_ms);
  if (ended === undefined || status === undefined || duration === undefined) return undefined;
  const baseUrl = typeof o.upstream_base_url === 'string' ? o.upstream_base_url : undefined;
  const provider =
    typeof o.provider_id === 'string' && o.provider_id
      ? o.provider_id
      : (baseUrl !== undefined && Object.prototype.hasOwnProperty.call(providerByBaseUrl, baseUrl) ? providerByBaseUrl[baseUrl] : undefined);
  const e: RollupEvent = {
    ended_at_ms: ended,
    status_code: status,
    duration_ms: duration,
    config_name: typeof o.config_name === 'string' && o.config_name ? o.config_name : '-',
    provider_id: provider || '-',
    usage: toUsage(o.usage),
    ttfb_ms: num(o.ttfb_ms),
  };
  const model = typeof o.model === 'string' && o.model ? o.model : typeof o.mapped_model === 'string' && o.mapped_model ? o.mapped_model : undefined;
  if (model) e.model = model;
  if (typeof o.mapped_model === 'string' && o.mapped_model && o.mapped_model !== model) e.mapped_model = o.mapped_model;
  if (typeof o.error_class === 'string' && o.error_class) e.error_class = o.error_class;
  if (typeof o.session_id === 'string' && o.session_id) e.session_id = o.session_id;
  const cost = toCost(o.cost);
  if (cost && e.usage) e.cost = cost;
  return e;
}

/** The cost a log line carries (priced when it was written; later price edits do not rewrite history). */
function toCost(v: unknown): RequestCost | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const amount = num(o.amount);
  if (amount === undefined || typeof o.currency !== 'string' || !o.currency) return undefined;
  return { amount, currency: o.currency, rule: typeof o.rule === 'string' ? o.rule : '' };
}
