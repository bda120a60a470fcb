import * as assert from 'node:assert/strict';
import { resolveRetry } from '../../src/core/config';
import { decide, decideWhenAllCooling, isModelScoped, MODEL_NOT_AVAILABLE_COOLDOWN_SECS } from '../../src/core/failover';
import type { AttemptFailure, AttemptState, Decision } from '../../src/core/failover';
import { retryPlan } from '../../src/core/retry';
import type { RetryConfig } from '../../src/core/types';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const noJitter = () => 0;

function plan(retry: RetryConfig = {}) {
  // Jitter off so delays are exact.
  return retryPlan(resolveRetry({ ...retry, upstream: { jitter_ms: 0, ...retry.upstream }, provider: { jitter_ms: 0, ...retry.provider } }));
}

const first: AttemptState = { attemptOnUpstream: 0, configsTried: 1, otherUpstreamInConfig: true, otherConfig: true };
const second: AttemptState = { ...first, attemptOnUpstream: 1 };
const lastInConfig: AttemptState = { ...second, otherUpstreamInConfig: false };
const lastOfAll: AttemptState = { ...lastInConfig, otherConfig: false };

const refused: AttemptFailure = { status: 502, cls: 'upstream_transport_error', transport: true };
const timedOut: AttemptFailure = { status: 504, cls: 'upstream_timeout', transport: true };

function short(d: Decision): string {
  const r = d.record;
  const rec = r.kind === 'cooldown' ? `cooldown ${r.secs}s${r.model ? ` ${r.model}` : ''}` : r.kind;
  return `${d.action}${'delayMs' in d ? ` +${d.delayMs}ms` : ''} / ${rec}`;
}

describe('failover: the retry decision table', () => {
  const balanced = plan();
  const table: Array<[string, ReturnType<typeof plan>, AttemptState, AttemptFailure, string]> = [
    // status answers
    ['500, first attempt: retry in place after backoff', balanced, first, { status: 500 }, 'retry_same +200ms / none'],
    ['500, upstream budget spent: next upstream, cooled', balanced, second, { status: 500 }, 'next_upstream +0ms / cooldown 30s'],
    ['500, config exhausted: next config', balanced, lastInConfig, { status: 500 }, 'next_config +0ms / cooldown 30s'],
    ['500, nothing left: pass through (cooled)', balanced, lastOfAll, { status: 500 }, 'pass_through / cooldown 30s'],
    ['429 honours Retry-After in place', balanced, first, { status: 429, retryAfter: '1' }, 'retry_same +1000ms / none'],
    ['429 with a model cools only that model', balanced, second, { status: 429, model: 'gpt-5' }, 'next_upstream +0ms / cooldown 30s gpt-5'],
    ['429 with Retry-After sets the cooldown', balanced, second, { status: 429, model: 'gpt-5', retryAfter: '7' }, 'next_upstream +0ms / cooldown 7s gpt-5'],
    ['429 without a model cools the upstream', balanced, second, { status: 429 }, 'next_upstream +0ms / cooldown 30s'],
    ['insufficient quota cools the upstream', balanced, second, { status: 429, cls: 'insufficient_quota', model: 'gpt-5' }, 'next_upstream +0ms / cooldown 30s'],
    ['model not available (404) fails over, model-scoped', balanced, first, { status: 404, cls: 'model_not_available', model: 'm' }, `next_upstream +0ms / cooldown ${MODEL_NOT_AVAILABLE_COOLDOWN_SECS}s m`],
    ['model not available (400) still fails over', balanced, first, { status: 400, cls: 'model_not_available', model: 'm' }, `next_upstream +0ms / cooldown ${MODEL_NOT_AVAILABLE_COOLDOWN_SECS}s m`],
    ['401 is not retried in place but fails over', balanced, first, { status: 401 }, 'next_upstream +0ms / cooldown 30s'],
    ['400 is handed to the client untouched', balanced, first, { status: 400 }, 'pass_through / none'],
    ['never-class: pass through, soft failure', balanced, first, { status: 400, cls: 'client_error_non_retryable' }, 'pass_through / soft'],
    ['never-status 422: pass through, soft failure', balanced, first, { status: 422 }, 'pass_through / soft'],
    ['Cloudflare challenge on 403 fails over with its own cooldown', balanced, second, { status: 403, cls: 'cloudflare_challenge' }, 'next_upstream +0ms / cooldown 300s'],
    ['bad base_url: move on, nothing recorded', balanced, first, { status: 502, badTarget: true, transport: true }, 'next_upstream +0ms / none'],
    // transport
    ['refused, first attempt: retry in place', balanced, first, refused, 'retry_same +200ms / none'],
    ['refused, budget spent: next upstream, cooled', balanced, second, refused, 'next_upstream +0ms / cooldown 30s'],
    ['timeout is never retried in place by default', balanced, first, timedOut, 'next_upstream +0ms / cooldown 30s'],
    ['timeout, nothing left: pass through', balanced, { ...lastOfAll, attemptOnUpstream: 0 }, timedOut, 'pass_through / cooldown 30s'],
    ['timeout retried in place when upstream_timeout is listed', plan({ upstream: { on_class: ['upstream_timeout'] } }), first, timedOut, 'retry_same +200ms / none'],
    // the asymmetry fix: transport errors fail over only when the provider layer lists the class
    ['refused, provider layer without the class: pass through', plan({ provider: { on_class: [] } }), second, refused, 'pass_through / soft'],
    ['timeout, provider layer without either class: pass through', plan({ provider: { on_class: [] } }), first, timedOut, 'pass_through / soft'],
    ['timeout, provider lists upstream_timeout only', plan({ provider: { on_class: ['upstream_timeout'] } }), first, timedOut, 'next_upstream +0ms / cooldown 30s'],
    // trials (half-open): one request decides, no retry in place
    ['a failed trial is not retried in place', balanced, { ...first, trial: true }, { status: 500 }, 'next_upstream +0ms / cooldown 30s'],
    ['a failed trial with nobody else: pass through', balanced, { ...lastOfAll, attemptOnUpstream: 0, trial: true }, refused, 'pass_through / cooldown 30s'],
    // strategies and budgets
    ['upstream strategy failover moves on with a soft failure', plan({ upstream: { strategy: 'failover' } }), first, { status: 500 }, 'next_upstream +200ms / soft'],
    ['upstream strategy failover with nobody else: same upstream', plan({ upstream: { strategy: 'failover' } }), { ...first, otherUpstreamInConfig: false }, { status: 500 }, 'retry_same +200ms / soft'],
    ['provider budget spent: pass through', plan({ provider: { max_attempts: 1 } }), lastInConfig, { status: 500 }, 'pass_through / cooldown 30s'],
    ['provider backoff before the next config', plan({ provider: { backoff_ms: 100 } }), { ...lastInConfig, configsTried: 1 }, { status: 502 }, 'next_config +100ms / cooldown 30s'],
    ['transport cooldown follows transport_cooldown_secs', plan({ transport_cooldown_secs: 5 }), second, refused, 'next_upstream +0ms / cooldown 5s'],
  ];
  for (const [name, p, at, f, want] of table) {
    it(name, () => assert.equal(short(decide(p, at, f, noJitter, NOW)), want));
  }

  it('classifies model scope only for model-level classes of requests that name a model', () => {
    assert.equal(isModelScoped({ status: 429, model: 'a' }), true);
    assert.equal(isModelScoped({ status: 429 }), false);
    assert.equal(isModelScoped({ status: 429, model: 'a', cls: 'insufficient_quota' }), false);
    assert.equal(isModelScoped({ status: 502, model: 'a', transport: true }), false);
    assert.equal(isModelScoped({ status: 404, model: 'a', cls: 'model_not_available' }), true);
  });
});

describe('failover: when every candidate is cooling', () => {
  const p = plan({ max_wait_ms: 5000 });
  it('waits when the soonest cooldown ends within max_wait_ms', () => {
    assert.deepEqual(decideWhenAllCooling(p, NOW + 1200, NOW), { action: 'wait', ms: 1200 });
  });
  it('sends a trial at once when the soonest end is further away', () => {
    assert.deepEqual(decideWhenAllCooling(p, NOW + 30_000, NOW), { action: 'trial' });
  });
  it('never waits with max_wait_ms = 0', () => {
    assert.deepEqual(decideWhenAllCooling(plan({ max_wait_ms: 0 }), NOW + 10, NOW), { action: 'trial' });
  });
  it('clamps max_wait_ms to ten minutes', () => {
    assert.equal(plan({ max_wait_ms: 99_999_999 }).max_wait_ms, 600_000);
  });
});
