import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyState } from '../../src/core/state';
import type { PriceFn } from '../../src/core/state';
import { buildPriceTable, priceRequest } from '../../src/core/pricing';
import { RequestLogWriter } from '../../src/io/requestLogWriter';
import { buildStatsReport, localDayStart } from '../../src/core/statsReport';
import { histBin, binValue } from '../../src/core/statsSeries';
import type { UsageMetrics } from '../../src/core/types';
import { tailOf } from '../../src/io/tailLines';

const DAY = 86_400_000;
const table = buildPriceTable({ 'gpt-5*': { input: 1, output: 10 }, 'cheap-*': { input: 0.1, output: 0.1, currency: 'EUR' } }, []);
const price: PriceFn = (service, usage, model, mapped) => priceRequest(table, service, usage, model, mapped);
const usage = (input: number, output: number): UsageMetrics => ({ input_tokens: input, output_tokens: output, reasoning_tokens: 0, total_tokens: input + output });

function run(s: ProxyState, at: number, p: { model?: string; config?: string; session?: string; status?: number; duration?: number; ttfb?: number; usage?: UsageMetrics; mapped?: string; errorClass?: string }) {
  const id = s.beginRequest({ method: 'POST', path: '/v1/responses', started_at_ms: at - (p.duration ?? 1000), model: p.model, session_id: p.session });
  s.updateRequestRoute(id, p.config ?? 'main', 'prov', 'http://u');
  return s.finishRequest({ id, status_code: p.status ?? 200, duration_ms: p.duration ?? 1000, ended_at_ms: at, usage: p.usage, ttfb_ms: p.ttfb,
    mapped_model: p.mapped, error_class: p.errorClass });
}

describe('cost and stats rollups', () => {
  const now = 100 * DAY + 12 * 3_600_000;

  it('prices each request and rolls cost up per session, config, model and day', () => {
    const s = new ProxyState('codex', { now: () => now, price });
    const a = run(s, now - 1000, { model: 'gpt-5', session: 's1', usage: usage(1_000_000, 100_000) });
    assert.deepEqual(a?.cost, { amount: 2, currency: 'USD', rule: 'gpt-5*' });
    run(s, now - 900, { model: 'gpt-5', session: 's1', config: 'backup', usage: usage(500_000, 0) });
    run(s, now - 800, { model: 'gpt-5', session: 's2', mapped: 'cheap-chat', usage: usage(1_000_000, 0) });
    const unpriced = run(s, now - 700, { model: 'o3', session: 's2', usage: usage(10, 10) });
    assert.equal(unpriced?.cost, undefined);
    run(s, now - DAY, { model: 'gpt-5', usage: usage(1_000_000, 0) });

    const stats = s.sessionStats();
    assert.deepEqual(stats['s1']?.total_cost, { USD: 2.5 });
    assert.deepEqual(stats['s2']?.total_cost, { EUR: 0.1 });
    assert.deepEqual(stats['s2']?.last_cost, { amount: 0.1, currency: 'EUR', rule: 'cheap-*' });

    const v = s.usageRollupView(10, 7);
    assert.deepEqual(v.since_start.cost, { USD: 3.5, EUR: 0.1 });
    assert.equal(v.since_start.requests_priced, 4);
    const day = Object.fromEntries(v.by_day);
    assert.deepEqual(day[Math.floor(now / DAY)]?.cost, { USD: 2.5, EUR: 0.1 });
    assert.deepEqual(day[Math.floor(now / DAY) - 1]?.cost, { USD: 1 });
    const byConfig = Object.fromEntries(v.by_config);
    assert.deepEqual(byConfig['backup']?.cost, { USD: 0.5 });
    const byModel = Object.fromEntries(v.by_model ?? []);
    assert.deepEqual(byModel['gpt-5']?.cost, { USD: 3.5, EUR: 0.1 });
    assert.equal(byModel['o3']?.requests_total, 1);
    assert.deepEqual(byModel['o3']?.cost, {});
  });

  it('counts a request without a model under the model it was sent as, and one without a route under "-"', () => {
    const s = new ProxyState('codex', { now: () => now, price });
    run(s, now, { mapped: 'gpt-5-mapped', usage: usage(10, 1) });
    const id = s.beginRequest({ method: 'POST', path: '/v1/responses', started_at_ms: now - 5 });
    s.finishRequest({ id, status_code: 502, duration_ms: 5, ended_at_ms: now });
    const v = s.usageRollupView(10, 7);
    assert.deepEqual((v.by_model ?? []).map(([k, b]) => [k, b.requests_total]).sort(), [['-', 1], ['gpt-5-mapped', 1]]);
    assert.deepEqual(v.by_config.map(([k, b]) => [k, b.requests_total]).sort(), [['-', 1], ['main', 1]]);
    assert.deepEqual(v.by_provider.map(([k, b]) => [k, b.requests_total]).sort(), [['-', 1], ['prov', 1]]);
    const cells = s.statsData(1).minute.map((c) => [c.model, c.config, c.provider, c.requests, c.errors]).sort();
    assert.deepEqual(cells, [['-', '-', '-', 1, 1], ['gpt-5-mapped', 'main', 'prov', 1, 0]]);
  });

  it('a price function that throws never breaks accounting', () => {
    const s = new ProxyState('codex', { now: () => now, price: () => { throw new Error('boom'); } });
    const f = run(s, now, { model: 'gpt-5', usage: usage(1, 1) });
    assert.equal(f?.status_code, 200);
    assert.equal(f?.cost, undefined);
  });

  it('reports today / 7 d / 30 d, per model and config, percentiles, tokens/s, errors by class and a chart', () => {
    const s = new ProxyState('codex', { now: () => now, price });
    for (let i = 1; i <= 100; i++) run(s, now - i * 10_000, { model: 'gpt-5', duration: i * 100, ttfb: i * 10, usage: usage(1000, 100) });
    run(s, now - 5000, { model: 'gpt-5-mini', config: 'backup', status: 429 });
    run(s, now - 5000, { model: 'gpt-5-mini', config: 'backup', status: 502, errorClass: 'upstream_transport_error' });
    run(s, now - 3 * DAY, { model: 'gpt-5', usage: usage(1_000_000, 0) });
    run(s, now - 20 * DAY, { model: 'gpt-5', usage: usage(1_000_000, 0) });

    const r = buildStatsReport([s.statsData(30)], { nowMs: now, range: '1h' });
    assert.equal(r.today.requests, 102);
    assert.equal(r.last_7d.requests, 103);
    assert.equal(r.last_30d.requests, 104);
    // 100 × (1000 in × $1 + 100 out × $10) per million, plus two 1M-input requests at $1.
    assert.ok(Math.abs(r.last_30d.cost['USD']! - (100 * (1000 * 1 + 100 * 10) / 1e6 + 2)) < 1e-9, JSON.stringify(r.last_30d.cost));
    assert.equal(r.period.requests, 102);
    assert.equal(r.period.errors, 2);
    assert.deepEqual(r.period.errors_by_class, { http_429: 1, upstream_transport_error: 1 });
    assert.ok(Math.abs(r.period.error_rate - 2 / 102) < 1e-9);
    // Durations 100..10000 ms: p50 ≈ 5000, p95 ≈ 9500 (histogram bins are within ±10 %).
    assert.ok(Math.abs(r.period.p50_ms! - 5000) / 5000 < 0.12, String(r.period.p50_ms));
    assert.ok(Math.abs(r.period.p95_ms! - 9500) / 9500 < 0.12, String(r.period.p95_ms));
    assert.ok(Math.abs(r.period.ttfb_p50_ms! - 500) / 500 < 0.12, String(r.period.ttfb_p50_ms));
    // Each request: 100 output tokens over 0.9 × duration of generation.
    const gen = Array.from({ length: 100 }, (_, i) => (i + 1) * 90).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(r.period.output_tps! - (100 * 100 * 1000) / gen) < 1e-6);
    assert.deepEqual(r.by_model.map((g) => [g.key, g.totals.requests, g.via]), [['gpt-5', 100, ['main']], ['gpt-5-mini', 2, ['backup']]]);
    assert.deepEqual(r.by_config.map((g) => [g.key, g.totals.requests, g.via]), [['main', 100, ['prov']], ['backup', 2, ['prov']]]);
    assert.equal(r.chart.bucket_ms, 60_000);
    assert.equal(r.chart.buckets.length, 60);
    assert.equal(r.chart.buckets.reduce((a, b) => a + b.requests, 0), 102);
    assert.ok(r.chart.buckets[59]!.start_ms <= now && now < r.chart.buckets[59]!.start_ms + 60_000);

    const month = buildStatsReport([s.statsData(30)], { nowMs: now, range: '30d' });
    assert.equal(month.chart.buckets.length, 30);
    assert.equal(month.chart.buckets.reduce((a, b) => a + b.requests, 0), 104);
    assert.equal(month.period.requests, 104);
    const week = buildStatsReport([s.statsData(30)], { nowMs: now, range: '7d' });
    assert.equal(week.period.requests, 103);
  });

  it('merges the cells of both services and aligns days to local midnight', () => {
    const a = new ProxyState('codex', { now: () => now, price });
    const b = new ProxyState('claude', { now: () => now, price });
    run(a, now - 1000, { model: 'gpt-5', usage: usage(1_000_000, 0) });
    run(b, now - 1000, { model: 'claude-x', status: 500 });
    const r = buildStatsReport([a.statsData(1), b.statsData(1)], { nowMs: now, range: '24h', tzOffsetMin: 120 });
    assert.equal(r.period.requests, 2);
    assert.deepEqual(r.period.errors_by_class, { http_5xx: 1 });
    assert.equal(localDayStart(now, 120), 100 * DAY - 2 * 3_600_000);
    assert.equal(r.chart.buckets.length, 48);
  });

  it('histogram bins read back within ±10 %', () => {
    for (const ms of [3, 47, 800, 12_345, 250_000]) assert.ok(Math.abs(binValue(histBin(ms)) - ms) / ms < 0.1, String(ms));
  });

  it('replaying requests.jsonl after a restart rebuilds cost and stats, pricing old lines with the current table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chp-cost-'));
    try {
      // A line priced when it was written (the proxy writes the state's cost into the row).
      const w = new RequestLogWriter({ dir, flushIntervalMs: 0 });
      w.write({ timestamp_ms: now - 1000, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 900, ttfb_ms: 100,
        model: 'gpt-5', usage: usage(1_000_000, 0), config_name: 'main', cost: priceRequest(table, 'codex', usage(1_000_000, 0), 'gpt-5', undefined) });
      // A line written before prices existed: priced on replay.
      const bare = new RequestLogWriter({ dir, flushIntervalMs: 0 });
      bare.write({ timestamp_ms: now - 500, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 900,
        model: 'cheap-1', usage: usage(1_000_000, 0), config_name: 'main' });
      await w.close();
      await bare.close();
      const s = new ProxyState('codex', { now: () => now, price });
      assert.equal(s.replayRequestsLog(tailOf(join(dir, 'requests.jsonl')), {}), 2);
      assert.deepEqual(s.usageRollupView(5, 5).since_start.cost, { USD: 1, EUR: 0.1 });
      const r = buildStatsReport([s.statsData(30)], { nowMs: now, range: '24h' });
      assert.equal(r.today.requests, 2);
      assert.deepEqual(r.today.cost, { USD: 1, EUR: 0.1 });
      assert.deepEqual(r.by_model.map((g) => g.key).sort(), ['cheap-1', 'gpt-5']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('clearing recent requests keeps rollups and stats', () => {
    const s = new ProxyState('codex', { now: () => now, price });
    run(s, now, { model: 'gpt-5', usage: usage(1, 1) });
    assert.equal(s.clearRecent(), 1);
    assert.equal(s.listRecent(10).length, 0);
    assert.equal(s.usageRollupView(1, 1).since_start.requests_total, 1);
    run(s, now, { model: 'gpt-5' });
    assert.equal(s.listRecent(10).length, 1);
  });
});
