import assert from 'node:assert/strict';
import type { FinishedRequest } from '../../src/core/types';
import { DEFAULT_FILTERS, PageMessageError, parsePageMessage, parseStatsPageMessage, statsStateFromSaved } from '../../src/webview/protocol';
import { matchesText, RequestsModel, rowFromFinished } from '../../src/webview/requestsModel';
import { csvField, exportFileName, rowsToCsv, rowsToJson } from '../../src/webview/requestsExport';
import { renderStatsHtml } from '../../src/webview/statsHtml';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const media = (name: string) => readFileSync(resolve(__dirname, '../../../media', name), 'utf8');

const NOW = 1_700_000_000_000;
let id = 1;
const fin = (o: Partial<FinishedRequest>): FinishedRequest => ({
  id: id++, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 100, ended_at_ms: NOW - 1000, ...o,
});

describe('recent requests: free-text filter, cost and export', () => {
  const rows = [
    fin({ model: 'gpt-5', config_name: 'main', session_id: 'sess-aaa', cost: { amount: 0.5, currency: 'USD', rule: 'gpt-5*' }, usage: { input_tokens: 1, output_tokens: 2, reasoning_tokens: 0, total_tokens: 3 } }),
    fin({ model: 'o3', mapped_model: 'deepseek-r1', config_name: 'backup', provider_id: 'deepseek', status_code: 502, error_class: 'upstream_transport_error' }),
    fin({ service: 'claude', model: 'claude-sonnet', config_name: 'relay', session_id: 'sess-bbb', status_code: 429, cost: { amount: 0.25, currency: 'USD', rule: '*' } }),
  ];

  it('every word must match model, mapped model, config, provider, session, status or error class (any case)', () => {
    const r = rows.map(rowFromFinished);
    const hits = (t: string) => r.filter((x) => matchesText(x, t)).map((x) => x.model);
    assert.deepEqual(hits(''), ['gpt-5', 'o3', 'claude-sonnet']);
    assert.deepEqual(hits('GPT'), ['gpt-5']);
    assert.deepEqual(hits('deepseek'), ['o3']);
    assert.deepEqual(hits('502'), ['o3']);
    assert.deepEqual(hits('5xx transport'), ['o3']);
    assert.deepEqual(hits('sess-bbb'), ['claude-sonnet']);
    assert.deepEqual(hits('claude 429'), ['claude-sonnet']);
    assert.deepEqual(hits('relay main'), []);
  });

  it('the model applies the text filter to rows, totals and hidden counts, and sums cost per currency', () => {
    const src = { service: 'codex' as const, ok: true as const, active: [], recent: rows };
    const all = new RequestsModel().build([src], { filters: { ...DEFAULT_FILTERS }, maxRows: 10, nowMs: NOW });
    assert.deepEqual(all.totals.cost, { USD: 0.75 });
    assert.deepEqual(all.rows[0]?.cost, { amount: 0.5, currency: 'USD' });
    const some = new RequestsModel().build([src], { filters: { ...DEFAULT_FILTERS, text: 'sess' }, maxRows: 1, nowMs: NOW });
    assert.equal(some.rows.length, 1);
    assert.equal(some.hiddenRows, 1);
    assert.equal(some.totals.requests, 2);
    const none = new RequestsModel().build([src], { filters: { ...DEFAULT_FILTERS, text: 'o3' }, maxRows: 10, nowMs: NOW });
    assert.equal(none.totals.cost, undefined);
  });

  it('CSV quotes, doubles quotes, defuses formulas and keeps numbers; JSON drops the internal key', () => {
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('@cmd'), "'@cmd");
    assert.equal(csvField('-'), '-');
    assert.equal(csvField('-1.5'), '-1.5');
    assert.equal(csvField(0.25), '0.25');
    assert.equal(csvField(undefined), '');
    const r = rows.map(rowFromFinished);
    const csv = rowsToCsv(r).split('\r\n');
    assert.match(csv[0]!, /^time,state,service,method,path,status,status_class,error_class,duration_ms,ttfb_ms,model,mapped_model/);
    assert.equal(csv.length, 5, 'header, three rows, final newline');
    assert.ok(csv[1]!.includes(',gpt-5,') && csv[1]!.includes(',0.5,USD,'));
    const json = JSON.parse(rowsToJson(r)) as Array<Record<string, unknown>>;
    assert.equal(json.length, 3);
    assert.equal(json[0]!['key'], undefined);
    assert.equal(json[1]!['mappedModel'], 'deepseek-r1');
    assert.match(String(json[0]!['time']), /^\d{4}-\d\d-\d\dT/);
    assert.match(exportFileName(NOW, 'csv'), /^codex-helper-requests-\d{8}-\d{4}\.csv$/);
  });

  it('protocol: text filter, export, clear and openStats are accepted; bad ones are refused', () => {
    assert.deepEqual(parsePageMessage({ type: 'setFilter', filters: { ...DEFAULT_FILTERS, text: 'gpt 5xx' } }),
      { type: 'setFilter', filters: { service: 'all', status: 'all', session: '', text: 'gpt 5xx' } });
    assert.deepEqual(parsePageMessage({ type: 'export', format: 'csv' }), { type: 'export', format: 'csv' });
    assert.deepEqual(parsePageMessage({ type: 'clearRecent', extra: 1 }), { type: 'clearRecent' });
    assert.deepEqual(parsePageMessage({ type: 'openStats' }), { type: 'openStats' });
    assert.throws(() => parsePageMessage({ type: 'export', format: 'xlsx' }), PageMessageError);
    assert.throws(() => parsePageMessage({ type: 'setFilter', filters: { ...DEFAULT_FILTERS, text: 'x'.repeat(201) } }), PageMessageError);
    assert.throws(() => parsePageMessage({ type: 'setFilter', filters: { ...DEFAULT_FILTERS, text: 'a\u0000b' } }), PageMessageError);
  });

  it('stats protocol: range and service are validated; saved state falls back to defaults', () => {
    assert.deepEqual(parseStatsPageMessage({ type: 'setState', state: { range: '7d', service: 'claude' } }), { type: 'setState', state: { range: '7d', service: 'claude' } });
    assert.deepEqual(parseStatsPageMessage({ type: 'ready', state: { range: '1y', service: 'all' } }), { type: 'ready' });
    assert.throws(() => parseStatsPageMessage({ type: 'setState', state: { range: '1y', service: 'all' } }), PageMessageError);
    assert.throws(() => parseStatsPageMessage({ type: 'eval' }), PageMessageError);
    assert.deepEqual(parseStatsPageMessage({ type: 'openConfig' }), { type: 'openConfig' });
    assert.deepEqual(statsStateFromSaved({ state: { range: '30d', service: 'codex' } }), { range: '30d', service: 'codex' });
    assert.deepEqual(statsStateFromSaved({ state: { range: 3 } }), { range: '24h', service: 'all' });
  });

  it('the Stats page has a strict CSP with a nonce and no inline script or style', () => {
    const html = renderStatsHtml({ cspSource: 'vscode-resource:', scriptUri: 'vscode-resource:/media/stats.js', styleUri: 'vscode-resource:/media/stats.css',
      commonScriptUri: 'vscode-resource:/media/common.js', commonStyleUri: 'vscode-resource:/media/common.css', nonce: 'abc123' });
    assert.match(html, /default-src 'none'; script-src 'nonce-abc123'; style-src vscode-resource:;/);
    assert.deepEqual(html.match(/<script\b[^>]*>/g), ['<script nonce="abc123" src="vscode-resource:/media/common.js">', '<script nonce="abc123" src="vscode-resource:/media/stats.js">']);
    assert.deepEqual([...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1]), ['vscode-resource:/media/common.css', 'vscode-resource:/media/stats.css']);
    assert.ok(!/unsafe-inline/.test(html));
    assert.ok(!/<style|style="/.test(html));
    for (const r of ['1h', '24h', '7d', '30d']) assert.match(html, new RegExp(`data-range="${r}"`));
  });

  it('stats.js posts only Stats message types and builds no HTML from strings; stats.css uses theme variables only', () => {
    const js = media('stats.js');
    const types = new Set([...js.matchAll(/type: '([a-zA-Z]+)'/g)].map((m) => m[1]));
    assert.deepEqual([...types].sort(), ['openConfig', 'openRequests', 'ready', 'refresh', 'setState']);
    assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|eval\(/.test(js));
    const css = media('stats.css');
    const vars = [...css.matchAll(/var\((--[a-zA-Z0-9-]+)/g)].map((m) => m[1]);
    assert.deepEqual(vars.filter((v) => !v?.startsWith('--vscode-')), []);
    assert.ok(!/#[0-9a-fA-F]{3,8}\b|rgb\(|hsl\(/.test(css));
  });
});

describe('stats view: sessions with their cost', () => {
  it('lists the sessions of every snapshot, newest first, with cost only when priced', async () => {
    const { sessionRows } = await import('../../src/webview/statsModel');
    const usage = (t: number) => ({ input_tokens: t, output_tokens: 0, reasoning_tokens: 0, total_tokens: t });
    const snap = (service: 'codex' | 'claude', stats: Record<string, unknown>) => ({ service_name: service, snapshot: { session_stats: stats } }) as never;
    const rows = sessionRows([
      snap('codex', { a: { turns_total: 3, total_usage: usage(10), turns_with_usage: 3, last_seen_ms: 5, total_cost: { USD: 0.5 }, last_model: 'gpt-5', cwd: '/w/p' } }),
      snap('claude', { b: { turns_total: 1, total_usage: usage(2), turns_with_usage: 1, last_seen_ms: 9 } }),
    ]);
    assert.deepEqual(rows, [
      { service: 'claude', id: 'b', turns: 1, tokens: 2, lastSeenMs: 9 },
      { service: 'codex', id: 'a', turns: 3, tokens: 10, lastSeenMs: 5, cwd: '/w/p', cost: { USD: 0.5 }, lastModel: 'gpt-5' },
    ]);
  });
});
