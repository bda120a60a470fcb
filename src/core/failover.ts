// The retry decision: what to do after one failed attempt, as a pure function of the plan, where the request
// stands and the failure. The pipeline only carries the decision out (sleep, record, pick, answer), so changing how
// retries behave means opening this file and its table of tests (test/unit/failover.test.ts).
//
// Layers (README "Retry and failover"):
// - upstream layer (`[retry.upstream]`): retry the same upstream (strategy `same_upstream`) or move to another
//   upstream of the same config (strategy `failover`), up to `max_attempts` attempts;
// - provider layer (`[retry.provider]`): cool the upstream down and move on to the next upstream, then the next
//   config, up to `max_attempts` configs;
// - otherwise the answer is passed through to the client as it is.
// A transport failure matches the class `upstream_transport_error`; a timeout before the first byte matches
// `upstream_timeout` and, at the provider layer only, `upstream_transport_error` (a hung upstream is not retried in
// place unless `upstream_timeout` is listed in `[retry.upstream].on_class`).
import {
  backoffDelayMs,
  cooldownSecsForClass,
  retryAfterMs,
  retryDelayMs,
  shouldNeverRetry,
  shouldRetryClass,
  shouldRetryStatus,
} from './retry';
import type { RetryLayerOptions, RetryPlan } from './retry';

export interface AttemptFailure {
  /** HTTP status of the answer; for failures without one, the status the client would get (502, 504). */
  status: number;
  /** Error class (`classify.ts`, or `upstream_transport_error` / `upstream_timeout`). */
  cls?: string;
  /** No HTTP answer at all: refused, reset, DNS, TLS or timed out. */
  transport?: boolean;
  /** The upstream's base_url cannot be used at all: move on at once, no retry, no cooldown. */
  badTarget?: boolean;
  /** The upstream's `Retry-After` header, as sent. */
  retryAfter?: string | string[];
  /** The request names a model (so a model-scoped failure can cool only that model). */
  model?: string;
}

export interface AttemptState {
  /** 0-based number of the attempt that just failed on this upstream. */
  attemptOnUpstream: number;
  /** Configs that got at least one request so far, the current one included. */
  configsTried: number;
  /** Another upstream of this config can still be tried in this request. */
  otherUpstreamInConfig: boolean;
  /** Another config can still be tried in this request. */
  otherConfig: boolean;
  /** The attempt was a trial of an upstream whose cooldown ended (or was still running): one request decides. */
  trial?: boolean;
}

/** What the load balancer should remember about the failed upstream. */
export type FailureRecord =
  | { kind: 'none' }
  /** Counts toward the failure threshold (3 → cooldown). */
  | { kind: 'soft' }
  /** Cools the upstream (or only `model` on it) at once, for `secs` before backoff. */
  | { kind: 'cooldown'; secs: number; reason: string; model?: string };

export type Decision =
  | { action: 'retry_same'; delayMs: number; record: FailureRecord }
  | { action: 'next_upstream'; delayMs: number; record: FailureRecord }
  | { action: 'next_config'; delayMs: number; record: FailureRecord }
  /** Give up and hand the failure to the client as it is. */
  | { action: 'pass_through'; record: FailureRecord };

/** Classes whose failure concerns one model of the upstream, not the upstream. */
const MODEL_SCOPED = new Set(['rate_limited', 'model_not_available']);

/** A rate limit or "model not available" that names no account-wide cause concerns only the request's model. */
export function isModelScoped(f: AttemptFailure): boolean {
  if (f.model === undefined || f.transport) return false;
  if (f.cls !== undefined) return MODEL_SCOPED.has(f.cls);
  return f.status === 429;
}
/** A model the upstream does not serve will not appear in seconds. */
export const MODEL_NOT_AVAILABLE_COOLDOWN_SECS = 300;
const RETRY_AFTER_COOLDOWN_MAX_SECS = 3600;

/** The class a failure matches in a layer's `on_class` (a timeout matches two at the provider layer). */
function matchesClass(layer: RetryLayerOptions, f: AttemptFailure, provider: boolean): boolean {
  if (f.cls === 'upstream_timeout') {
    return shouldRetryClass(layer, 'upstream_timeout') || (provider && shouldRetryClass(layer, 'upstream_transport_error'));
  }
  return shouldRetryClass(layer, f.cls);
}

function retryableIn(layer: RetryLayerOptions, f: AttemptFailure, provider: boolean): boolean {
  if (f.transport) return matchesClass(layer, f, provider);
  return shouldRetryStatus(layer, f.status) || matchesClass(layer, f, provider);
}

/** The cooldown a provider-layer failover leaves on the upstream (or on its model). */
export function cooldownFor(plan: RetryPlan, f: AttemptFailure, nowMs: number): FailureRecord {
  const cls = f.transport && f.cls === undefined ? 'upstream_transport_error' : f.cls;
  const reason = cls ?? `status_${f.status}`;
  const model = isModelScoped(f) ? f.model : undefined;
  let secs = cls === 'model_not_available' ? MODEL_NOT_AVAILABLE_COOLDOWN_SECS : cooldownSecsForClass(plan, cls);
  const after = retryAfterSecs(f.retryAfter, nowMs);
  if (after !== undefined && (f.status === 429 || f.status === 503 || f.status === 529)) secs = Math.max(1, after);
  return model === undefined ? { kind: 'cooldown', secs, reason } : { kind: 'cooldown', secs, reason, model };
}

// Only the cap is read: Retry-After in seconds or as an HTTP-date, at most an hour.
const RETRY_AFTER_LAYER: RetryLayerOptions = {
  max_attempts: 1, base_backoff_ms: 0, max_backoff_ms: RETRY_AFTER_COOLDOWN_MAX_SECS * 1000,
  jitter_ms: 0, retry_status_ranges: [], retry_error_classes: [], strategy: 'failover',
};

function retryAfterSecs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const ms = retryAfterMs(value, RETRY_AFTER_LAYER, nowMs);
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/** Where to go after a failed attempt. `random` and `nowMs` are injected so the table tests are exact. */
export function decide(
  plan: RetryPlan,
  at: AttemptState,
  f: AttemptFailure,
  random: () => number = Math.random,
  nowMs: number = Date.now(),
): Decision {
  const moveOn = (record: FailureRecord, delayMs = 0): Decision => {
    if (at.otherUpstreamInConfig) return { action: 'next_upstream', delayMs, record };
    if (at.otherConfig && at.configsTried < plan.provider.max_attempts) {
      return { action: 'next_config', delayMs: delayMs + backoffDelayMs(plan.provider, at.configsTried - 1, random), record };
    }
    return { action: 'pass_through', record };
  };

  if (f.badTarget) return moveOn({ kind: 'none' });
  // Never-retry answers (a malformed request…) go back to the client; the seed counts them as a soft failure.
  if (!f.transport && shouldNeverRetry(plan, f.status, f.cls)) return { action: 'pass_through', record: { kind: 'soft' } };

  if (!at.trial && retryableIn(plan.upstream, f, false) && at.attemptOnUpstream + 1 < plan.upstream.max_attempts) {
    const delayMs = retryDelayMs(plan.upstream, at.attemptOnUpstream, f.retryAfter, random, nowMs);
    if (plan.upstream.strategy === 'failover' && at.otherUpstreamInConfig) {
      return { action: 'next_upstream', delayMs, record: { kind: 'soft' } };
    }
    return { action: 'retry_same', delayMs, record: plan.upstream.strategy === 'failover' ? { kind: 'soft' } : { kind: 'none' } };
  }

  // A model this upstream does not serve says nothing about the request: another upstream may serve it.
  if (retryableIn(plan.provider, f, true) || (f.cls === 'model_not_available' && isModelScoped(f))) {
    return moveOn(cooldownFor(plan, f, nowMs));
  }
  // Neither layer retries it: a broken connection still counts against the upstream.
  return { action: 'pass_through', record: f.transport ? { kind: 'soft' } : { kind: 'none' } };
}

/** When nothing healthy is left: wait for the soonest cooldown to end, or send a trial to that upstream now. */
export function decideWhenAllCooling(plan: RetryPlan, soonestUntilMs: number, nowMs: number): { action: 'wait'; ms: number } | { action: 'trial' } {
  const left = soonestUntilMs - nowMs;
  if (left > 0 && left <= plan.max_wait_ms) return { action: 'wait', ms: left };
  return { action: 'trial' };
}
