import assert from 'node:assert/strict';
import { buildDashboardSnapshot, windowStats } from '../../src/core/dashboard';
import { buildPriceTable, priceRequest } from '../../src/core/pricing';
import { ProxyState } from '../../src/core/state';
import { configCostLines, serviceCostLines } from '../../src/host/costTooltip';

describe('tree tooltips: cost lines', () => {
  const now = 200 * 86_400_000 + 3_600_000;
  const table = buildPriceTable({ 'gpt-5*': { input: 1, output: 10 } }, []);

  function snapshot(priced: boolean) {
    const s = new ProxyState('codex', { now: () => now, price: priced ? (svc, u, m, mm) => priceRequest(table, svc, u, m, mm) : undefined });
    const run = (at: number, config: string) => {
      const id = s.beginRequest({ method: 'POST', path: '/v1/responses', started_at_ms: at - 10, model: 'gpt-5' });
      s.updateRequestRoute(id, config, undefined, 'http://u');
      s.finishRequest({ id, status_code: 200, duration_ms: 10, ended_at_ms: at, usage: { input_tokens: 1_000_000, output_tokens: 0, reasoning_tokens: 0, total_tokens: 1_000_000 } });
    };
    run(now - 1000, 'main');
    run(now - 86_400_000, 'main');
    run(now - 1000, 'backup');
    return buildDashboardSnapshot(s, {}, { recentLimit: 10, statsDays: 7, nowMs: now });
  }

  it('service and config tooltips show today and since start, labelled as estimates', () => {
    const snap = snapshot(true);
    assert.deepEqual(serviceCostLines(snap, now), [
      'cost today (UTC): $2.00 over 2 priced request(s) (estimate)',
      'cost since start: $3.00 (estimate)',
    ]);
    assert.deepEqual(configCostLines(snap, 'main', now), [
      'cost today (UTC): $1.00 over 1 priced request(s) (estimate)',
      'cost since start: $2.00 (estimate)',
    ]);
    assert.deepEqual(configCostLines(snap, 'nope', now), []);
  });

  it('no prices, no lines', () => {
    const snap = snapshot(false);
    assert.deepEqual(serviceCostLines(snap, now), []);
    assert.deepEqual(configCostLines(snap, 'main', now), []);
    assert.deepEqual(serviceCostLines(undefined, now), []);
  });

  it('the 5-minute and 1-hour window stats carry the cost of their requests', () => {
    const snap = snapshot(true);
    assert.deepEqual(snap.stats_5m.cost, { USD: 2 });
    assert.deepEqual(snap.stats_1h.cost, { USD: 2 });
    assert.equal(windowStats([], now, 60_000).cost, undefined);
  });
});
