import { strict as assert } from 'node:assert';
import {
  COOLDOWN_SECS,
  FAILURE_THRESHOLD,
  LbStateStore,
  LoadBalancer,
  effectiveCooldownSecs,
  type CooldownBackoff,
} from '../../src/core/lb';
import type { ServiceConfig } from '../../src/core/types';

const NO_BACKOFF: CooldownBackoff = { factor: 1, max_secs: 0 };
const NONE: ReadonlySet<number> = new Set();

function config(name: string, n: number): ServiceConfig {
  return {
    name,
    enabled: true,
    level: 1,
    upstreams: Array.from({ length: n }, (_, i) => ({
      base_url: `http://u${i}.test`,
      auth: {},
      tags: {},
      supported_models: {},
      model_mapping: {},
    })),
  };
}

function setup(n: number, name = 'cfg'): { lb: LoadBalancer; store: LbStateStore; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const store = new LbStateStore(() => clock.t);
  return { lb: new LoadBalancer(config(name, n), store), store, clock };
}

describe('lb', () => {
  describe('effectiveCooldownSecs', () => {
    it('is min(base * factor^streak, cap)', () => {
      const b = { factor: 2, max_secs: 600 };
      assert.equal(effectiveCooldownSecs(30, 0, b), 30);
      assert.equal(effectiveCooldownSecs(30, 1, b), 60);
      assert.equal(effectiveCooldownSecs(30, 3, b), 240);
      assert.equal(effectiveCooldownSecs(30, 5, b), 600);
      assert.equal(effectiveCooldownSecs(30, 1000, b), 600);
    });
    it('returns 0 for base 0 and base for factor <= 1', () => {
      assert.equal(effectiveCooldownSecs(0, 5, { factor: 2, max_secs: 600 }), 0);
      assert.equal(effectiveCooldownSecs(30, 5, { factor: 1, max_secs: 600 }), 30);
      assert.equal(effectiveCooldownSecs(30, 5, { factor: 0.5, max_secs: 600 }), 30);
    });
    it('caps at base when max_secs is 0 and never below base', () => {
      assert.equal(effectiveCooldownSecs(30, 3, { factor: 2, max_secs: 0 }), 30);
      assert.equal(effectiveCooldownSecs(30, 3, { factor: 2, max_secs: 10 }), 30);
    });
    it('uses factor 3', () => {
      assert.equal(effectiveCooldownSecs(10, 2, { factor: 3, max_secs: 1000 }), 90);
    });
  });

  it('exports the seed constants', () => {
    assert.equal(FAILURE_THRESHOLD, 3);
    assert.equal(COOLDOWN_SECS, 30);
  });

  it('selects the first upstream and then sticks to the last good one', () => {
    const { lb } = setup(3);
    assert.equal(lb.select(NONE, false), 0);
    lb.recordSuccess(2, 200);
    assert.equal(lb.select(NONE, false), 2);
    assert.equal(lb.select(new Set([2]), false), 0);
  });

  it('keeps stickiness below the threshold and drops it at 3 failures with a 30s cooldown', () => {
    const { lb, store, clock } = setup(2);
    lb.recordSuccess(0);
    lb.recordFailure(0, NO_BACKOFF, { status: 502 });
    lb.recordFailure(0, NO_BACKOFF);
    assert.equal(lb.select(NONE, false), 0);
    assert.equal(lb.isCooling(0), false);
    lb.recordFailure(0, NO_BACKOFF, { error: 'boom' });
    assert.equal(lb.isCooling(0), true);
    assert.equal(lb.select(NONE, false), 1);
    const v = store.view()['cfg'];
    assert.equal(v?.last_good_index, undefined);
    assert.equal(v?.upstreams[0]?.cooldown_remaining_secs, 30);
    assert.equal(v?.upstreams[0]?.failure_count, 3);
    assert.equal(v?.upstreams[0]?.penalty_streak, 1);
    assert.equal(v?.upstreams[0]?.last_status, 502);
    assert.equal(v?.upstreams[0]?.last_error, 'boom');
    assert.equal(v?.upstreams[0]?.last_used_at_ms, clock.t);
  });

  it('cooldown expiry resets the failure count but not the streak', () => {
    const { lb, store, clock } = setup(1);
    lb.penalize(0, 10, 'status_502', { factor: 2, max_secs: 600 });
    assert.equal(lb.select(NONE, true), undefined);
    clock.t += 9_999;
    assert.equal(lb.select(NONE, true), undefined);
    clock.t += 1;
    assert.equal(lb.select(NONE, true), 0);
    const u = store.view()['cfg']?.upstreams[0];
    assert.equal(u?.failure_count, 0);
    assert.equal(u?.cooldown_remaining_secs, undefined);
    assert.equal(u?.penalty_streak, 1);
    // The kept streak doubles the next penalty.
    lb.penalize(0, 10, 'status_502', { factor: 2, max_secs: 600 });
    assert.equal(store.view()['cfg']?.upstreams[0]?.cooldown_remaining_secs, 20);
  });

  it('penalize always overwrites the cooldown, even with a shorter one', () => {
    const { lb, store } = setup(1);
    lb.penalize(0, 300, 'cloudflare_challenge', NO_BACKOFF);
    lb.penalize(0, 5, 'upstream_transport_error', NO_BACKOFF);
    const u = store.view()['cfg']?.upstreams[0];
    assert.equal(u?.cooldown_remaining_secs, 5);
    assert.equal(u?.penalty_streak, 2);
    assert.equal(u?.last_error, 'upstream_transport_error');
  });

  it('threshold failure only extends an existing cooldown', () => {
    const { lb, store } = setup(1);
    lb.penalize(0, 300, 'x', NO_BACKOFF);
    lb.recordFailure(0, NO_BACKOFF);
    assert.equal(store.view()['cfg']?.upstreams[0]?.cooldown_remaining_secs, 300);
    assert.equal(store.view()['cfg']?.upstreams[0]?.failure_count, 4);

    const b = setup(1);
    b.lb.penalize(0, 1, 'x', NO_BACKOFF);
    b.lb.recordFailure(0, NO_BACKOFF, { thresholdCooldownSecs: 45 });
    assert.equal(b.store.view()['cfg']?.upstreams[0]?.cooldown_remaining_secs, 45);
  });

  it('penalize with 0 secs ends at once but clears stickiness and grows the streak', () => {
    const { lb, store } = setup(2);
    lb.recordSuccess(1);
    lb.penalize(1, 0, 'x', { factor: 2, max_secs: 60 });
    assert.equal(store.view()['cfg']?.last_good_index, undefined);
    assert.equal(lb.select(NONE, true), 0);
    assert.equal(store.view()['cfg']?.upstreams[1]?.failure_count, 0);
    assert.equal(store.view()['cfg']?.upstreams[1]?.penalty_streak, 1);
  });

  it('success resets count, cooldown and streak', () => {
    const { lb, store } = setup(1);
    lb.penalize(0, 30, 'x', NO_BACKOFF);
    lb.recordSuccess(0, 200);
    const u = store.view()['cfg']?.upstreams[0];
    assert.deepEqual(
      { f: u?.failure_count, c: u?.cooldown_remaining_secs, s: u?.penalty_streak, e: u?.last_error },
      { f: 0, c: undefined, s: 0, e: undefined },
    );
    assert.equal(u?.last_status, 200);
  });

  it('strict returns undefined when all are cooling; non-strict falls back to the first non-avoided', () => {
    const { lb } = setup(3);
    for (let i = 0; i < 3; i++) lb.penalize(i, 30, 'x', NO_BACKOFF);
    assert.equal(lb.select(NONE, true), undefined);
    assert.equal(lb.select(NONE, false), 0);
    assert.equal(lb.select(new Set([0]), false), 1);
    assert.equal(lb.select(new Set([0, 1, 2]), false), 0);
    assert.equal(lb.select(new Set([0, 1, 2]), true), undefined);
  });

  it('prefers non-exhausted upstreams (pass 1) but uses an exhausted one when it is the only healthy (pass 2)', () => {
    const { lb } = setup(3);
    lb.recordSuccess(0);
    lb.setUsageExhausted(0, true);
    assert.equal(lb.select(NONE, true), 1);
    lb.penalize(1, 30, 'x', NO_BACKOFF);
    lb.penalize(2, 30, 'x', NO_BACKOFF);
    assert.equal(lb.select(NONE, true), 0);
    lb.setUsageExhausted(0, false);
    assert.equal(lb.select(NONE, true), 0);
  });

  it('ensure_len resets everything when the upstream count changes; state survives a reload otherwise', () => {
    const clock = { t: 0 };
    const store = new LbStateStore(() => clock.t);
    const lb1 = new LoadBalancer(config('c', 2), store);
    lb1.recordSuccess(1);
    lb1.penalize(0, 30, 'x', NO_BACKOFF);
    const reloaded = new LoadBalancer(config('c', 2), store);
    assert.equal(reloaded.select(NONE, true), 1);
    assert.equal(reloaded.isCooling(0), true);
    const resized = new LoadBalancer(config('c', 3), store);
    assert.equal(resized.select(NONE, true), 0);
    const v = store.view()['c'];
    assert.equal(v?.upstreams.length, 3);
    assert.equal(v?.last_good_index, undefined);
    assert.equal(v?.upstreams[0]?.penalty_streak, 0);
    // The first balancer read the state before it was replaced: it must not go on with its own copy.
    assert.equal(lb1.isCooling(0), false, 'a balancer drops a state the store replaced');
    assert.equal(store.view()['c']?.upstreams.length, 2, 'and its count is the one in effect again');
  });

  it('returns undefined for a config without upstreams and ignores out-of-range indexes', () => {
    const { lb } = setup(0);
    assert.equal(lb.select(NONE, false), undefined);
    const b = setup(1);
    b.lb.penalize(5, 30, 'x', NO_BACKOFF);
    b.lb.recordFailure(-1, NO_BACKOFF);
    assert.equal(b.store.view()['cfg']?.upstreams.length, 1);
    assert.equal(b.store.view()['cfg']?.upstreams[0]?.failure_count, 0);
  });

  it('fires onDidChange on health changes but not on repeated successes', () => {
    const { lb, store, clock } = setup(2);
    const events: string[] = [];
    const off = store.onDidChange((n) => events.push(n));
    lb.recordSuccess(0);
    assert.equal(events.length, 1);
    lb.recordSuccess(0);
    lb.recordSuccess(0);
    assert.equal(events.length, 1);
    lb.recordFailure(0, NO_BACKOFF);
    assert.equal(events.length, 2);
    lb.recordSuccess(0);
    assert.equal(events.length, 3);
    lb.penalize(1, 1, 'x', NO_BACKOFF);
    assert.equal(events.length, 4);
    lb.setUsageExhausted(1, true);
    lb.setUsageExhausted(1, true);
    assert.equal(events.length, 5);
    lb.select(NONE, false);
    assert.equal(events.length, 5);
    clock.t += 1000;
    lb.select(NONE, false); // cooldown expiry
    assert.equal(events.length, 6);
    off.dispose();
    lb.recordFailure(0, NO_BACKOFF);
    assert.equal(events.length, 6);
    assert.deepEqual(new Set(events), new Set(['cfg']));
  });
  describe('reset', () => {
    it('clears failures, cooldown, streak and last error of one upstream and emits once', () => {
      const { lb, store } = setup(2);
      const b = { factor: 2, max_secs: 600 };
      lb.penalize(0, 30, 'cloudflare_timeout', b, 524);
      lb.penalize(1, 30, 'upstream_transport_error', b);
      const seen: string[] = [];
      store.onDidChange((c) => seen.push(c));
      assert.equal(store.reset('cfg', 0), 1);
      const v = store.view()['cfg']!.upstreams;
      assert.deepEqual([v[0]!.failure_count, v[0]!.cooldown_remaining_secs, v[0]!.penalty_streak, v[0]!.last_error], [0, undefined, 0, undefined]);
      assert.equal(v[0]!.last_status, 524, 'the last status stays as a fact of the past');
      assert.equal(v[1]!.failure_count, FAILURE_THRESHOLD, 'the other upstream keeps its cooldown');
      assert.ok(v[1]!.cooldown_remaining_secs! > 0);
      assert.deepEqual(seen, ['cfg']);
      assert.equal(lb.select(NONE, true), 0, 'the reset upstream is chosen again at once');
    });

    it('resets every upstream of a config without an index, and a second reset changes nothing', () => {
      const { lb, store } = setup(3);
      for (const i of [0, 1, 2]) lb.penalize(i, 30, 'x', NO_BACKOFF);
      assert.equal(lb.select(NONE, true), undefined);
      const seen: string[] = [];
      store.onDidChange((c) => seen.push(c));
      assert.equal(store.reset('cfg'), 3);
      assert.ok(store.view()['cfg']!.upstreams.every((u) => u.failure_count === 0 && u.cooldown_remaining_secs === undefined));
      assert.equal(store.reset('cfg'), 0);
      assert.equal(store.reset('unknown'), 0);
      assert.deepEqual(seen, ['cfg']);
    });
  });

  describe('balancer per config', () => {
    it('is one per config object over the store, and a reloaded config (a new object) gets its own over the same state', () => {
      const store = new LbStateStore(() => 1_000_000);
      const first = config('cfg', 2);
      const lb = store.balancer(first);
      assert.equal(store.balancer(first), lb);
      assert.equal(lb.config, first);
      lb.recordFailure(0, NO_BACKOFF, { status: 502 });
      const reloaded = config('cfg', 2);
      const again = store.balancer(reloaded);
      assert.notEqual(again, lb);
      assert.equal(again.config, reloaded);
      assert.equal(store.view()['cfg']!.upstreams[0]!.failure_count, 1, 'the state is the store\'s, kept by config name');
      assert.notEqual(new LbStateStore().balancer(first), lb, 'another store, another balancer');
      const choice = [first, reloaded];
      const lbs = store.balancersFor(choice);
      assert.equal(lbs.length, 2);
      assert.equal(lbs[0], lb, 'a list of configs gets its configs\' own balancers, in its order');
      assert.equal(lbs[1], again);
      assert.equal(store.balancersFor(choice), lbs, 'made once per list');
      assert.notEqual(store.balancersFor([first, reloaded]), lbs, 'another list, another answer');
    });
  });

  describe('coolingSummary', () => {
    it('gives the soonest end only while every upstream cools, and the first recorded error', () => {
      const { lb, clock } = setup(2);
      assert.deepEqual(lb.coolingSummary(), {});
      lb.penalize(0, 30, 'status_502', NO_BACKOFF, 502);
      assert.deepEqual(lb.coolingSummary(), { lastError: 'status_502' }, 'one upstream still serves');
      lb.penalize(1, 10, 'upstream_timeout', NO_BACKOFF);
      assert.deepEqual(lb.coolingSummary(), { allCoolingUntil: clock.t + 10_000, lastError: 'status_502' });
      clock.t += 10_000;
      assert.deepEqual(lb.coolingSummary(), { lastError: 'status_502' }, 'an ended cooldown does not count');
    });
  });
});
