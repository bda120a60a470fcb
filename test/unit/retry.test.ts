import * as assert from 'node:assert/strict';
import { resolveRetry } from '../../src/core/config';
import {
  backoffDelayMs, cooldownSecsForClass, parseHttpDate, parseStatusRanges, retryAfterMs, retryDelayMs,
  retryInfoForChain, retryPlan, shouldNeverRetry, shouldRetryClass, shouldRetryStatus, type RetryLayerOptions,
} from '../../src/core/retry';

function layer(over: Partial<RetryLayerOptions> = {}): RetryLayerOptions {
  return {
    max_attempts: 2, base_backoff_ms: 200, max_backoff_ms: 2000, jitter_ms: 0, retry_status_ranges: [],
    retry_error_classes: [], strategy: 'same_upstream', ...over,
  };
}

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('retry: retryPlan', () => {
  it('builds the balanced plan with parsed ranges', () => {
    const plan = retryPlan(resolveRetry({}));
    assert.deepEqual(plan.upstream, {
      max_attempts: 2, base_backoff_ms: 200, max_backoff_ms: 2000, jitter_ms: 100,
      retry_status_ranges: [[429, 429], [500, 599], [524, 524]],
      retry_error_classes: ['upstream_transport_error', 'cloudflare_timeout', 'cloudflare_challenge'],
      strategy: 'same_upstream',
    });
    assert.deepEqual(plan.provider.retry_status_ranges, [[401, 401], [403, 403], [404, 404], [408, 408], [429, 429], [500, 599], [524, 524]]);
    assert.equal(plan.provider.strategy, 'failover');
    assert.deepEqual(plan.never_status_ranges, [[413, 413], [415, 415], [422, 422]]);
    assert.deepEqual(plan.never_error_classes, ['client_error_non_retryable']);
    assert.deepEqual(
      [plan.cloudflare_challenge_cooldown_secs, plan.cloudflare_timeout_cooldown_secs, plan.transport_cooldown_secs,
        plan.cooldown_backoff_factor, plan.cooldown_backoff_max_secs],
      [300, 60, 30, 1, 600],
    );
  });

  it('clamps attempts to 1..=8, factor to 1..=16, max secs to 0..=86400; backoff untouched', () => {
    const high = retryPlan(resolveRetry({
      upstream: { max_attempts: 50, backoff_ms: 999999 }, provider: { max_attempts: 9 },
      cooldown_backoff_factor: 100, cooldown_backoff_max_secs: 10 ** 9,
    }));
    assert.deepEqual([high.upstream.max_attempts, high.provider.max_attempts], [8, 8]);
    assert.deepEqual([high.cooldown_backoff_factor, high.cooldown_backoff_max_secs], [16, 86400]);
    assert.equal(high.upstream.base_backoff_ms, 999999);
    const low = retryPlan(resolveRetry({ upstream: { max_attempts: 0 }, provider: { max_attempts: 0 }, cooldown_backoff_factor: 0 }));
    assert.deepEqual([low.upstream.max_attempts, low.provider.max_attempts, low.cooldown_backoff_factor], [1, 1, 1]);
  });
});

describe('retry: parseStatusRanges', () => {
  it('parses singles and ranges, swapping reversed ones', () => {
    assert.deepEqual(parseStatusRanges('429,500-599'), [[429, 429], [500, 599]]);
    assert.deepEqual(parseStatusRanges(' 599 - 500 , 404 '), [[500, 599], [404, 404]]);
  });

  it('skips empty and unparsable items', () => {
    assert.deepEqual(parseStatusRanges(''), []);
    assert.deepEqual(parseStatusRanges(',, ,'), []);
    assert.deepEqual(parseStatusRanges('abc,5xx,500-,-1,70000,1.5,502'), [[502, 502]]);
    assert.deepEqual(parseStatusRanges('400-70000,0-0'), [[0, 0]]);
  });
});

describe('retry: predicates', () => {
  const plan = retryPlan(resolveRetry({}));

  it('shouldRetryStatus is inclusive on range ends', () => {
    for (const code of [429, 500, 599, 524]) assert.equal(shouldRetryStatus(plan.upstream, code), true, String(code));
    for (const code of [200, 400, 428, 430, 600]) assert.equal(shouldRetryStatus(plan.upstream, code), false, String(code));
  });

  it('shouldRetryClass is false without a class', () => {
    assert.equal(shouldRetryClass(plan.upstream, 'cloudflare_challenge'), true);
    assert.equal(shouldRetryClass(plan.provider, 'cloudflare_challenge'), false);
    assert.equal(shouldRetryClass(plan.upstream, undefined), false);
  });

  it('shouldNeverRetry: never-class wins, never-status blocks unless the class is retryable', () => {
    assert.equal(shouldNeverRetry(plan, 500, 'client_error_non_retryable'), true);
    assert.equal(shouldNeverRetry(plan, 413, undefined), true);
    assert.equal(shouldNeverRetry(plan, 422, 'some_other_class'), true);
    assert.equal(shouldNeverRetry(plan, 413, 'cloudflare_challenge'), false);
    assert.equal(shouldNeverRetry(plan, 415, 'upstream_transport_error'), false);
    assert.equal(shouldNeverRetry(plan, 400, undefined), false);
    assert.equal(shouldNeverRetry(plan, 502, 'cloudflare_timeout'), false);
  });

  it('the class override reads the configured lists', () => {
    const custom = retryPlan(resolveRetry({ upstream: { on_class: [] }, provider: { on_class: ['my_class'] }, never_on_status: '400-499' }));
    assert.equal(shouldNeverRetry(custom, 403, 'cloudflare_challenge'), true);
    assert.equal(shouldNeverRetry(custom, 403, 'my_class'), false);
  });
});

describe('retry: Retry-After', () => {
  const opt = layer({ base_backoff_ms: 200, max_backoff_ms: 5000 });

  it('integer seconds, capped at max(max_backoff, base)', () => {
    assert.equal(retryAfterMs('2', opt, NOW), 2000);
    assert.equal(retryAfterMs(' 0 ', opt, NOW), 0);
    assert.equal(retryAfterMs('120', opt, NOW), 5000);
    assert.equal(retryAfterMs('3', layer({ base_backoff_ms: 4000, max_backoff_ms: 1000 }), NOW), 3000);
    assert.equal(retryAfterMs(['1', '9'], opt, NOW), 1000);
  });

  it('a zero-backoff layer caps every Retry-After at 0', () => {
    assert.equal(retryAfterMs('30', layer({ base_backoff_ms: 0, max_backoff_ms: 0 }), NOW), 0);
  });

  it('HTTP-date in the three RFC 9110 forms', () => {
    const inThree = new Date(NOW + 3000).toUTCString();
    assert.equal(retryAfterMs(inThree, opt, NOW), 3000);
    assert.equal(retryAfterMs('Wednesday, 01-Jan-25 12:00:04 GMT', opt, NOW), 4000);
    assert.equal(retryAfterMs('Wed Jan  1 12:00:01 2025', opt, NOW), 1000);
    assert.equal(retryAfterMs(new Date(NOW + 3_600_000).toUTCString(), opt, NOW), 5000);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), Date.UTC(1994, 10, 6, 8, 49, 37));
  });

  it('a date in the past means now', () => {
    assert.equal(retryAfterMs(new Date(NOW - 60_000).toUTCString(), opt, NOW), 0);
  });

  it('garbage, negatives, fractions and blanks are ignored', () => {
    const junk = [undefined, '', '   ', 'soon', '-1', '1.5', '1e3', '2025-01-01T12:00:05Z', 'Wed, 01 Foo 2025 12:00:00 GMT'];
    for (const v of junk) assert.equal(retryAfterMs(v, opt, NOW), undefined, String(v));
    assert.equal(retryAfterMs([], opt, NOW), undefined);
  });
});

describe('retry: backoff', () => {
  const zero = (): number => 0;
  const almostOne = (): number => 0.999999;

  it('no sleep at all when base is 0, even with jitter', () => {
    assert.equal(backoffDelayMs(layer({ base_backoff_ms: 0, jitter_ms: 500 }), 3, almostOne), 0);
  });

  it('doubles per attempt up to max(max, base)', () => {
    const opt = layer({ base_backoff_ms: 200, max_backoff_ms: 2000 });
    assert.deepEqual([0, 1, 2, 3, 4, 10, 100].map((i) => backoffDelayMs(opt, i, zero)), [200, 400, 800, 1600, 2000, 2000, 2000]);
    assert.equal(backoffDelayMs(layer({ base_backoff_ms: 300, max_backoff_ms: 100 }), 5, zero), 300);
  });

  it('adds uncapped uniform jitter in 0..=jitter_ms', () => {
    const opt = layer({ base_backoff_ms: 200, max_backoff_ms: 2000, jitter_ms: 100 });
    assert.equal(backoffDelayMs(opt, 0, zero), 200);
    assert.equal(backoffDelayMs(opt, 0, () => 0.5), 250);
    assert.equal(backoffDelayMs(opt, 0, almostOne), 300);
    assert.equal(backoffDelayMs(opt, 0, () => 1), 300);
    assert.equal(backoffDelayMs(opt, 9, almostOne), 2100);
  });

  it('retryDelayMs: Retry-After plus jitter, capped, wins over backoff', () => {
    const opt = layer({ base_backoff_ms: 200, max_backoff_ms: 2000, jitter_ms: 100 });
    assert.equal(retryDelayMs(opt, 3, '1', () => 0.5, NOW), 1050);
    assert.equal(retryDelayMs(opt, 3, '2', almostOne, NOW), 2000);
    assert.equal(retryDelayMs(opt, 3, undefined, zero, NOW), 1600);
    assert.equal(retryDelayMs(opt, 3, 'junk', zero, NOW), 1600);
    assert.equal(retryDelayMs(layer({ jitter_ms: 0 }), 0, '0', almostOne, NOW), 0);
  });
});

describe('retry: cooldowns and chain info', () => {
  const plan = retryPlan(resolveRetry({
    cloudflare_challenge_cooldown_secs: 301, cloudflare_timeout_cooldown_secs: 61, transport_cooldown_secs: 31,
  }));

  it('uses the cooldown matching the class', () => {
    assert.equal(cooldownSecsForClass(plan, 'cloudflare_challenge'), 301);
    assert.equal(cooldownSecsForClass(plan, 'cloudflare_timeout'), 61);
    assert.equal(cooldownSecsForClass(plan, 'upstream_transport_error'), 31);
    assert.equal(cooldownSecsForClass(plan, undefined), 31);
  });

  it('retryInfoForChain counts attempts, not the avoided marker', () => {
    assert.equal(retryInfoForChain([]), undefined);
    assert.equal(retryInfoForChain(['a']), undefined);
    assert.equal(retryInfoForChain(['a', 'all_upstreams_avoided total=2']), undefined);
    const chain = ['a', 'b', 'all_upstreams_avoided total=2'];
    const info = retryInfoForChain(chain);
    assert.deepEqual(info, { attempts: 2, upstream_chain: chain });
    chain.push('later');
    assert.equal(info?.upstream_chain.length, 3);
    assert.deepEqual(retryInfoForChain(['x', 'y', 'z']), { attempts: 3, upstream_chain: ['x', 'y', 'z'] });
  });
});
