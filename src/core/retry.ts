// The retry plan: resolved `[retry]` settings turned into clamped, pre-parsed options, plus the predicates and sleep
// arithmetic the request loop consults on every attempt. Everything here is allocation-free on the hot path.
//
// Differences from the seed (see routing reference §0b):
// - `Retry-After` also accepts the HTTP-date form (a date in the past means "retry now").
// - `cooldownSecsForClass` picks the Cloudflare cooldowns for Cloudflare classes instead of always using
//   `transport_cooldown_secs`.

import type { ResolvedRetryConfig, ResolvedRetryLayer, RetryInfo, RetryStrategy } from './types';

export interface RetryLayerOptions {
  max_attempts: number;
  base_backoff_ms: number;
  max_backoff_ms: number;
  jitter_ms: number;
  retry_status_ranges: Array<[number, number]>;
  retry_error_classes: string[];
  strategy: RetryStrategy;
}

export interface RetryPlan {
  upstream: RetryLayerOptions;
  provider: RetryLayerOptions;
  never_status_ranges: Array<[number, number]>;
  never_error_classes: string[];
  cloudflare_challenge_cooldown_secs: number;
  cloudflare_timeout_cooldown_secs: number;
  transport_cooldown_secs: number;
  cooldown_backoff_factor: number;
  cooldown_backoff_max_secs: number;
  /** When every candidate is cooling: the longest wait for the soonest cooldown to end (0 = never wait). */
  max_wait_ms: number;
  /** Hold a 2xx stream's content-free opening events at most this long / this many bytes (0 ms = never hold). */
  hold_preamble_ms: number;
  hold_preamble_bytes: number;
}

const MAX_U16 = 65535;
const MAX_EXPONENT = 20;

function clamp(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return value > 0 ? max : min;
  return Math.min(max, Math.max(min, value));
}

function layerOptions(layer: ResolvedRetryLayer): RetryLayerOptions {
  return {
    max_attempts: clamp(layer.max_attempts, 1, 8),
    base_backoff_ms: layer.backoff_ms,
    max_backoff_ms: layer.backoff_max_ms,
    jitter_ms: layer.jitter_ms,
    retry_status_ranges: parseStatusRanges(layer.on_status),
    retry_error_classes: [...layer.on_class],
    strategy: layer.strategy,
  };
}

/** Builds the per-request retry plan from a resolved config, clamping attempts and cooldown backoff. */
export function retryPlan(resolved: ResolvedRetryConfig): RetryPlan {
  return {
    upstream: layerOptions(resolved.upstream),
    provider: layerOptions(resolved.provider),
    never_status_ranges: parseStatusRanges(resolved.never_on_status),
    never_error_classes: [...resolved.never_on_class],
    cloudflare_challenge_cooldown_secs: resolved.cloudflare_challenge_cooldown_secs,
    cloudflare_timeout_cooldown_secs: resolved.cloudflare_timeout_cooldown_secs,
    transport_cooldown_secs: resolved.transport_cooldown_secs,
    cooldown_backoff_factor: clamp(resolved.cooldown_backoff_factor, 1, 16),
    cooldown_backoff_max_secs: clamp(resolved.cooldown_backoff_max_secs, 0, 86400),
    max_wait_ms: clamp(resolved.max_wait_ms ?? 0, 0, 600_000),
    hold_preamble_ms: clamp(resolved.hold_preamble_ms ?? 0, 0, 60_000),
    hold_preamble_bytes: clamp(resolved.hold_preamble_bytes ?? 0, 0, 4 * 1024 * 1024),
  };
}

// Mirrors Rust's `str::parse::<u16>()`: optional `+`, ASCII digits only, in range.
function parseU16(s: string): number | undefined {
  if (!/^\+?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_U16 ? n : undefined;
}

/** Parses `"429,500-599"` into inclusive ranges; unparsable items are skipped, reversed ranges are swapped. */
export function parseStatusRanges(spec: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const dash = item.indexOf('-');
    if (dash >= 0) {
      const a = parseU16(item.slice(0, dash).trim());
      const b = parseU16(item.slice(dash + 1).trim());
      if (a === undefined || b === undefined) continue;
      out.push([Math.min(a, b), Math.max(a, b)]);
    } else {
      const c = parseU16(item);
      if (c !== undefined) out.push([c, c]);
    }
  }
  return out;
}

function inRanges(ranges: ReadonlyArray<readonly [number, number]>, code: number): boolean {
  for (const [lo, hi] of ranges) if (code >= lo && code <= hi) return true;
  return false;
}

/** True when the layer retries this HTTP status. */
export function shouldRetryStatus(opt: RetryLayerOptions, code: number): boolean {
  return inRanges(opt.retry_status_ranges, code);
}

/** True when the layer retries this error class; an absent class never retries. */
export function shouldRetryClass(opt: RetryLayerOptions, cls: string | undefined): boolean {
  return cls !== undefined && opt.retry_error_classes.includes(cls);
}

/** True when the status is on the plan's never-retry list. */
export function shouldNeverRetryStatus(plan: RetryPlan, code: number): boolean {
  return inRanges(plan.never_status_ranges, code);
}

/** True when the class is on the plan's never-retry list. */
export function shouldNeverRetryClass(plan: RetryPlan, cls: string | undefined): boolean {
  return cls !== undefined && plan.never_error_classes.includes(cls);
}

/**
 * Seed semantics: a never-class always wins; a never-status blocks retries unless the class is explicitly retryable
 * in either layer (a Cloudflare challenge served as 403/413 must still fail over).
 */
export function shouldNeverRetry(plan: RetryPlan, code: number, cls: string | undefined): boolean {
  if (shouldNeverRetryClass(plan, cls)) return true;
  if (!shouldNeverRetryStatus(plan, code)) return false;
  return !(shouldRetryClass(plan.upstream, cls) || shouldRetryClass(plan.provider, cls));
}

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};
// The three forms RFC 9110 §5.6.7 requires recipients to accept; Date.parse alone is too lenient ("1" → 2001).
const IMF_FIXDATE = /^[a-z]{3}, (\d{1,2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const RFC850_DATE = /^[a-z]{6,9}, (\d{1,2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const ASCTIME_DATE = /^[a-z]{3} ([a-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

function utc(year: string, month: string, day: string, h: string, m: string, s: string): number | undefined {
  const mon = MONTHS[month.toLowerCase()];
  if (mon === undefined) return undefined;
  return Date.UTC(Number(year), mon, Number(day), Number(h), Number(m), Number(s));
}

/** Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) to epoch ms. */
export function parseHttpDate(value: string): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(value);
  if (m) {
    const yy = Number(m[3]);
    return utc(String(yy < 70 ? 2000 + yy : 1900 + yy), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(m[6]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!);
  return undefined;
}

function retryCap(opt: RetryLayerOptions): number {
  return Math.max(opt.max_backoff_ms, opt.base_backoff_ms);
}

/** Milliseconds asked for by a `Retry-After` header (seconds or HTTP-date), capped at the layer's backoff cap. */
export function retryAfterMs(
  value: string | string[] | undefined,
  opt: RetryLayerOptions,
  nowMs: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (v === '') return undefined;
  let ms: number;
  if (/^\+?[0-9]+$/.test(v)) {
    ms = Number(v) * 1000;
  } else {
    const at = parseHttpDate(v);
    if (at === undefined || !Number.isFinite(at)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, retryCap(opt));
}

function jitter(opt: RetryLayerOptions, random: () => number): number {
  if (opt.jitter_ms <= 0) return 0;
  return Math.min(opt.jitter_ms, Math.floor(random() * (opt.jitter_ms + 1)));
}

/** Exponential backoff for the 0-based attempt: 0 when the layer has no base, else capped base·2^n plus jitter. */
export function backoffDelayMs(opt: RetryLayerOptions, attemptIndex: number, random: () => number = Math.random): number {
  if (opt.base_backoff_ms <= 0) return 0;
  const exp = Math.min(Math.max(0, attemptIndex), MAX_EXPONENT);
  const capped = Math.min(opt.base_backoff_ms * 2 ** exp, retryCap(opt));
  return capped + jitter(opt, random);
}

/** Delay before the next attempt: a `Retry-After` (plus capped jitter) wins over exponential backoff. */
export function retryDelayMs(
  opt: RetryLayerOptions,
  attemptIndex: number,
  retryAfterHeader: string | string[] | undefined,
  random: () => number = Math.random,
  nowMs: number = Date.now(),
): number {
  const after = retryAfterMs(retryAfterHeader, opt, nowMs);
  if (after === undefined) return backoffDelayMs(opt, attemptIndex, random);
  if (opt.jitter_ms > 0) return Math.min(after + jitter(opt, random), retryCap(opt));
  return after;
}

/** Cooldown (seconds) for an upstream that failed with this class; Cloudflare classes get their own values. */
export function cooldownSecsForClass(plan: RetryPlan, cls: string | undefined): number {
  if (cls === 'cloudflare_challenge') return plan.cloudflare_challenge_cooldown_secs;
  if (cls === 'cloudflare_timeout') return plan.cloudflare_timeout_cooldown_secs;
  return plan.transport_cooldown_secs;
}

/** Retry info for a finished request, or undefined when only one real attempt was made. */
export function retryInfoForChain(chain: string[]): RetryInfo | undefined {
  let attempts = chain.length;
  const last = chain[attempts - 1];
  if (last !== undefined && last.startsWith('all_upstreams_avoided')) attempts -= 1;
  if (attempts <= 1) return undefined;
  return { attempts, upstream_chain: [...chain] };
}
