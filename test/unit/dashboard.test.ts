import assert from 'node:assert/strict';
import { buildDashboardSnapshot, windowStats } from '../../src/core/dashboard';
import { ProxyState } from '../../src/core/state';
import type { FinishedRequest } from '../../src/core/types';

const NOW = 1_700_000_000_000;

function fr(o: Partial<FinishedRequest> & { status_code: number; duration_ms: number; ago: number }): FinishedRequest {
  const { ago, ...rest } = o;
  return { id: 1, service: 'codex', method: 'POST', path: '/v1/responses', ended_at_ms: NOW - ago, ...rest };
}

describe('windowStats', () => {
  it('classifies statuses, ignores old requests and computes nearest-rank percentiles over 2xx', () => {
    const recent: FinishedRequest[] = [
      ...[10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((d) => fr({ status_code: 200, duration_ms: d, ago: 1000, provider_id: 'p1', config_name: 'c1' })),
      fr({ status_code: 429, duration_ms: 5, ago: 1000 }),
      fr({ status_code: 404, duration_ms: 5, ago: 1000 }),
      fr({ status_code: 502, duration_ms: 9999, ago: 1000, retry: { attempts: 3, upstream_chain: ['a', 'b', 'c'] } }),
      fr({ status_code: 200, duration_ms: 1, ago: 10 * 60_000 }),
    ];
    const s = windowStats(recent, NOW, 5 * 60_000);
    assert.equal(s.total, 13);
    assert.equal(s.ok_2xx, 10);
    assert.equal(s.err_429, 1);
    assert.equal(s.err_4xx, 1);
    assert.equal(s.err_5xx, 1);
    // n=10: p50 index ceil(0.5*9)=5 → 60; p95 index ceil(0.95*9)=9 → 100.
    assert.equal(s.p50_ms, 60);
    assert.equal(s.p95_ms, 100);
    assert.equal(s.avg_attempts, 15 / 13);
    assert.equal(s.retry_rate, 1 / 13);
    assert.deepEqual(s.top_provider, ['p1', 10]);
    assert.deepEqual(s.top_config, ['c1', 10]);
    const wide = windowStats(recent, NOW, 60 * 60_000);
    assert.equal(wide.total, 14);
    assert.equal(wide.p50_ms, 50);
  });

  it('is empty without requests and counts top keys only among 2xx', () => {
    const empty = windowStats([], NOW, 1000);
    assert.deepEqual(empty, { total: 0, ok_2xx: 0, err_429: 0, err_4xx: 0, err_5xx: 0, avg_attempts: 0, retry_rate: 0 });
    const s = windowStats([
      fr({ status_code: 500, duration_ms: 1, ago: 0, provider_id: 'bad', config_name: 'bad' }),
      fr({ status_code: 500, duration_ms: 1, ago: 0, provider_id: 'bad', config_name: 'bad' }),
      fr({ status_code: 201, duration_ms: 7, ago: 0, provider_id: 'good', config_name: ' ' }),
    ], NOW, 1000);
    assert.deepEqual(s.top_provider, ['good', 1]);
    assert.equal(s.top_config, undefined);
    assert.equal(s.p50_ms, 7);
    assert.equal(s.p95_ms, 7);
  });
});

describe('buildDashboardSnapshot', () => {
  it('assembles the seed snapshot shape and clamps recent_limit', () => {
    const s = new ProxyState('codex', { now: () => NOW });
    for (let i = 0; i < 5; i++) {
      const id = s.beginRequest({ session_id: 'sess', method: 'POST', path: '/v1/responses', started_at_ms: NOW - 1000 + i });
      s.updateRequestRoute(id, 'main', 'openai', 'https://api');
      s.finishRequest({ id, status_code: 200, duration_ms: 100, usage: { input_tokens: 1, output_tokens: 1, reasoning_tokens: 0, total_tokens: 2 } });
    }
    s.beginRequest({ method: 'POST', path: '/v1/responses', started_at_ms: NOW });
    s.setSessionEffort('sess', 'high');
    s.setSessionConfig('sess', 'main');
    s.setGlobalConfig('main');
    s.tryBeginHealthCheck('main', 1);
    const lb = { main: { upstreams: [{ failure_count: 0, usage_exhausted: false }] } };
    const snap = buildDashboardSnapshot(s, lb, { recentLimit: 2, statsDays: 7, nowMs: NOW });
    assert.deepEqual(Object.keys(snap).sort(), [
      'active', 'config_health', 'global_override', 'health_checks', 'lb_view', 'recent', 'refreshed_at_ms',
      'session_config_overrides', 'session_effort_overrides', 'session_stats', 'stats_1h', 'stats_5m', 'usage_rollup',
    ]);
    assert.equal(snap.refreshed_at_ms, NOW);
    assert.equal(snap.active.length, 1);
    assert.deepEqual(snap.recent.map((r) => r.id), [5, 4]);
    assert.equal(snap.stats_5m.total, 5, 'stats use more than recent_limit requests');
    assert.equal(snap.global_override, 'main');
    assert.deepEqual(snap.session_effort_overrides, { sess: 'high' });
    assert.deepEqual(snap.session_config_overrides, { sess: 'main' });
    assert.equal(snap.session_stats.sess?.turns_total, 5);
    assert.equal(snap.health_checks.main?.total, 1);
    assert.deepEqual(snap.config_health.main?.upstreams, []);
    assert.equal(snap.lb_view, lb);
    assert.equal(snap.usage_rollup.since_start.requests_total, 5);
    assert.equal(buildDashboardSnapshot(s, {}, { recentLimit: 0, statsDays: 7, nowMs: NOW }).recent.length, 1);
    assert.equal(buildDashboardSnapshot(s, {}, { recentLimit: 99_999, statsDays: 7, nowMs: NOW }).recent.length, 5);
    s.setGlobalConfig(undefined);
    assert.ok(!('global_override' in buildDashboardSnapshot(s, {}, { recentLimit: 5, statsDays: 1, nowMs: NOW })));
  });
});
