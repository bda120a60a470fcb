// UI check of the Stats view and the Recent Requests filter: a few priced requests, the Stats view in light and dark
// (screenshots stats-light / stats-dark) with its totals, per-model table, range buttons and chart, text contrast
// measured like the theme check, then the free-text filter of Recent Requests narrowing the rows.
import assert from 'node:assert/strict';
import { measureInPage, runCommandExact, setTheme, THEMES } from './themes.ui.mjs';

const TEXT_MIN = 4.5;

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb, env }) {
  const codex = Number(env.E2E_CODEX_PORT);
  const claude = Number(env.E2E_CLAUDE_PORT);
  await wb.statusBarItem(page, 'Codex: auto').waitFor({ timeout: 30000 });
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`http://127.0.0.1:${codex}/v1/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json', session_id: `stats-${i % 2}` },
      body: JSON.stringify({ model: i % 2 ? 'gpt-5-mini' : 'gpt-5', input: 'hi', stream: false }),
    });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  if (claude) {
    const r = await fetch(`http://127.0.0.1:${claude}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-e2e', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await r.arrayBuffer();
  }

  await runCommandExact(page, 'Codex Helper: Show Usage Stats');
  await wb.webview(page, '#by-model tbody tr.group-row').first().waitFor({ timeout: 30000 });
  const models = await wb.webview(page, '#by-model tbody').innerText();
  assert.match(models, /gpt-5/, models);
  const kpis = await wb.webview(page, '#kpis').innerText();
  assert.match(kpis, /Today[\s\S]*cost \(estimate\)[\s\S]*\$/, kpis);
  assert.match(await wb.webview(page, '#pricing-note').innerText(), /as of 2026-01-01/);
  await wb.webview(page, 'button.range[data-range="1h"]').click();
  await wb.webview(page, 'body[data-range="1h"]').waitFor({ state: 'attached', timeout: 15000 });
  await wb.webview(page, '#chart rect.bar-requests').first().waitFor({ state: 'attached', timeout: 15000 });

  const probes = {
    textProbes: {
      kpiTitle: '#kpis .kpi-title',
      kpiLabel: '#kpis .kpi-grid dt',
      kpiValue: '#kpis .kpi-grid dd.kpi-cost',
      metricValue: '#period-stats .metric-value',
      metricLabel: '#period-stats .metric-label',
      legend: '#chart-legend .legend-item',
      tableHead: '#by-model thead th',
      tableKey: '#by-model tbody td.group-key',
      tableVia: '#by-model tbody td.via',
      rangeSelected: 'button.range.is-selected',
      range: 'button.range:not(.is-selected)',
      note: '#pricing-note',
    },
    graphicProbes: {
      barRequests: { sel: '#chart rect.bar-requests', prop: 'fill' },
      costLine: { sel: '#chart polyline.line-cost', prop: 'stroke' },
    },
    controls: { service: '#service', range: 'button.range' },
    palette: [],
  };
  const failures = [];
  for (const t of THEMES.filter((x) => x.shot === 'light' || x.shot === 'dark')) {
    await setTheme(page, wb, t);
    const m = await wb.webview(page, 'body').evaluate(measureInPage, probes);
    await screenshot(`stats-${t.shot}`);
    console.log(`[stats] ${t.shot}: ${Object.entries(m.text).map(([k, v]) => `${k} ${v.ratio}`).join(', ')}; ` +
      `${Object.entries(m.graphic).map(([k, v]) => `${k} ${v.ratio}`).join(', ')}`);
    if (m.missing.length) failures.push(`${t.shot}: missing ${m.missing.join(', ')}`);
    for (const [k, v] of Object.entries(m.text)) if (!(v.ratio >= TEXT_MIN)) failures.push(`${t.shot}: ${k} contrast ${v.ratio} (${v.color} on ${v.background})`);
    for (const [k, v] of Object.entries(m.graphic)) if (!(v.ratio >= 3)) failures.push(`${t.shot}: ${k} ${v.ratio}`);
  }

  // Recent Requests: the free-text filter narrows the rows to the one service that matches.
  await runCommandExact(page, 'Codex Helper: Show Recent Requests');
  await wb.webview(page, '#requests tbody tr.request-row').first().waitFor({ timeout: 30000 });
  await wb.webview(page, '#filter-text').fill('gpt-5-mini');
  await page.waitForTimeout(1500);
  const rows = await wb.webview(page, '#requests tbody tr.request-row td.col-model .main').allInnerTexts();
  assert.ok(rows.length >= 1 && rows.every((r) => r.includes('gpt-5-mini')), `filtered rows: ${rows.join(' | ')}`);
  await screenshot('requests-filtered');
  assert.deepEqual(failures, [], failures.join('\n'));
}
