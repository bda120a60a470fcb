// The bounded list of recently finished requests behind ProxyState.listRecent().
//
// Kept in columns, not as the entries themselves: an entry stays in the ring for thousands of requests, so a kept
// object (the entry, its usage and cost) would survive the young-generation collector, be copied into the old
// generation and die there, which costs CPU at every scavenge and grows the heap between full collections. Numbers
// go into one Float64Array, strings (most of them the config's own, the rest interned) into one array, and `list()`
// builds the entries again when someone asks (the admin API and the dashboard, at human pace).
import type { RequestCost } from './pricing';
import type { FinishedRequest, RetryInfo, ServiceName, UsageMetrics } from './types';

// Number columns; NaN is "absent".
const N_ID = 0;
const N_STATUS = 1;
const N_DURATION = 2;
const N_ENDED = 3;
const N_TTFB = 4;
const N_INPUT = 5;
const N_OUTPUT = 6;
const N_REASONING = 7;
const N_TOTAL = 8;
const N_CACHED = 9;
const N_CACHE_CREATION = 10;
const N_COST = 11;
const NUMS = 12;

// String columns; undefined is "absent".
const S_SERVICE = 0;
const S_METHOD = 1;
const S_PATH = 2;
const S_SESSION = 3;
const S_CWD = 4;
const S_MODEL = 5;
const S_MAPPED = 6;
const S_EFFORT = 7;
const S_CONFIG = 8;
const S_PROVIDER = 9;
const S_BASE = 10;
const S_ERROR_CLASS = 11;
const S_ERROR_HINT = 12;
const S_ERROR_MESSAGE = 13;
const S_ROUTE_NOTE = 14;
const S_CURRENCY = 15;
const S_RULE = 16;
const STRS = 17;

/** Distinct short strings kept for reuse (paths, models, sessions, efforts); the table starts over when full. */
const INTERN_MAX = 4096;
/** Longer strings are rare per request (error messages) and not worth a lookup. */
const INTERN_MAX_LENGTH = 200;

const num = (v: number | undefined): number => (v === undefined ? NaN : v);

/** Fixed-capacity ring, newest first on read. */
export class RecentRing {
  private readonly nums: Float64Array;
  private readonly strs: Array<string | undefined>;
  /** Retry chains are only there when a request was retried or failed over: kept as they are. */
  private readonly retries: Array<RetryInfo | undefined>;
  private readonly interned = new Map<string, string>();
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.nums = new Float64Array(capacity * NUMS);
    this.strs = new Array<string | undefined>(capacity * STRS).fill(undefined);
    this.retries = new Array<RetryInfo | undefined>(capacity).fill(undefined);
  }

  /** Stores `r`, overwriting the oldest entry once full. */
  push(r: FinishedRequest): void {
    const slot = this.head;
    const n = this.nums;
    const o = slot * NUMS;
    n[o + N_ID] = r.id;
    n[o + N_STATUS] = r.status_code;
    n[o + N_DURATION] = r.duration_ms;
    n[o + N_ENDED] = r.ended_at_ms;
    n[o + N_TTFB] = num(r.ttfb_ms);
    const u = r.usage;
    n[o + N_INPUT] = u ? u.input_tokens : NaN;
    n[o + N_OUTPUT] = u ? u.output_tokens : NaN;
    n[o + N_REASONING] = u ? u.reasoning_tokens : NaN;
    n[o + N_TOTAL] = u ? u.total_tokens : NaN;
    n[o + N_CACHED] = u ? num(u.cached_input_tokens) : NaN;
    n[o + N_CACHE_CREATION] = u ? num(u.cache_creation_input_tokens) : NaN;
    n[o + N_COST] = r.cost ? r.cost.amount : NaN;
    const s = this.strs;
    const p = slot * STRS;
    s[p + S_SERVICE] = r.service;
    s[p + S_METHOD] = r.method;
    s[p + S_PATH] = this.intern(r.path);
    s[p + S_SESSION] = this.intern(r.session_id);
    s[p + S_CWD] = this.intern(r.cwd);
    s[p + S_MODEL] = this.intern(r.model);
    s[p + S_MAPPED] = r.mapped_model;
    s[p + S_EFFORT] = this.intern(r.reasoning_effort);
    s[p + S_CONFIG] = r.config_name;
    s[p + S_PROVIDER] = r.provider_id;
    s[p + S_BASE] = r.upstream_base_url;
    s[p + S_ERROR_CLASS] = r.error_class;
    s[p + S_ERROR_HINT] = r.error_hint;
    s[p + S_ERROR_MESSAGE] = r.error_message;
    s[p + S_ROUTE_NOTE] = r.route_note;
    s[p + S_CURRENCY] = r.cost?.currency;
    s[p + S_RULE] = r.cost?.rule;
    this.retries[slot] = r.retry;
    this.head = (slot + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  /** Up to `limit` entries, newest first; each a new object, equal to the one pushed. */
  list(limit: number): FinishedRequest[] {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.size);
    const out: FinishedRequest[] = new Array<FinishedRequest>(n);
    for (let i = 0; i < n; i++) out[i] = this.entry((this.head - 1 - i + this.capacity * 2) % this.capacity);
    return out;
  }

  /** Forgets every entry; returns how many there were. */
  clear(): number {
    const n = this.size;
    this.strs.fill(undefined);
    this.retries.fill(undefined);
    this.interned.clear();
    this.head = 0;
    this.size = 0;
    return n;
  }

  /** The same string as an earlier one with the same text, so a request's own copy can be collected young. */
  private intern(v: string | undefined): string | undefined {
    if (v === undefined || v.length > INTERN_MAX_LENGTH) return v;
    const known = this.interned.get(v);
    if (known !== undefined) return known;
    if (this.interned.size >= INTERN_MAX) this.interned.clear();
    this.interned.set(v, v);
    return v;
  }

  private entry(slot: number): FinishedRequest {
    const n = this.nums;
    const o = slot * NUMS;
    const s = this.strs;
    const p = slot * STRS;
    const f: FinishedRequest = {
      id: n[o + N_ID]!,
      service: s[p + S_SERVICE] as ServiceName,
      method: s[p + S_METHOD]!,
      path: s[p + S_PATH]!,
      status_code: n[o + N_STATUS]!,
      duration_ms: n[o + N_DURATION]!,
      ended_at_ms: n[o + N_ENDED]!,
    };
    const str = (k: keyof FinishedRequest, col: number): void => {
      const v = s[p + col];
      if (v !== undefined) (f as unknown as Record<string, unknown>)[k] = v;
    };
    str('session_id', S_SESSION);
    str('cwd', S_CWD);
    str('model', S_MODEL);
    str('mapped_model', S_MAPPED);
    str('reasoning_effort', S_EFFORT);
    str('config_name', S_CONFIG);
    str('provider_id', S_PROVIDER);
    str('upstream_base_url', S_BASE);
    if (!Number.isNaN(n[o + N_INPUT]!)) {
      const u: UsageMetrics = {
        input_tokens: n[o + N_INPUT]!,
        output_tokens: n[o + N_OUTPUT]!,
        reasoning_tokens: n[o + N_REASONING]!,
        total_tokens: n[o + N_TOTAL]!,
      };
      if (!Number.isNaN(n[o + N_CACHED]!)) u.cached_input_tokens = n[o + N_CACHED]!;
      if (!Number.isNaN(n[o + N_CACHE_CREATION]!)) u.cache_creation_input_tokens = n[o + N_CACHE_CREATION]!;
      f.usage = u;
    }
    const retry = this.retries[slot];
    if (retry !== undefined) f.retry = retry;
    if (!Number.isNaN(n[o + N_TTFB]!)) f.ttfb_ms = n[o + N_TTFB]!;
    str('error_class', S_ERROR_CLASS);
    str('error_hint', S_ERROR_HINT);
    str('error_message', S_ERROR_MESSAGE);
    str('route_note', S_ROUTE_NOTE);
    if (!Number.isNaN(n[o + N_COST]!)) {
      const cost: RequestCost = { amount: n[o + N_COST]!, currency: s[p + S_CURRENCY]!, rule: s[p + S_RULE]! };
      f.cost = cost;
    }
    return f;
  }
}
