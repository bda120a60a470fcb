import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { call, sse, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

const CLI = resolve(__dirname, '../../../dist/cli.js');
const CLI_PATH = existsSync(CLI) ? CLI : resolve(process.cwd(), 'dist/cli.js');

const line = (o: Record<string, unknown>) => JSON.stringify({ service: 'codex', method: 'POST', path: '/v1/responses', config_name: 'main', upstream_base_url: 'http://u', ...o });

describe('command line: codex-helper stats', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'chp-stats-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function stats(args: string[], env: Record<string, string> = {}) {
    return spawnSync(process.execPath, [CLI_PATH, 'stats', ...args], {
      env: { PATH: process.env['PATH'], HOME: root, CODEX_HELPER_HOME: join(root, 'helper'), TZ: 'UTC', ...env }, encoding: 'utf8',
    });
  }

  it('reads the request logs (rotated ones too), prices unpriced lines, and prints tables or JSON', () => {
    const home = join(root, 'helper');
    mkdirSync(join(home, 'logs'), { recursive: true });
    writeFileSync(join(home, 'config.toml'), '[pricing."gpt-5*"]\ninput = 1\noutput = 10\nas_of = "2025-08-07"\n');
    const now = Date.now();
    writeFileSync(join(home, 'logs', 'requests.1000.jsonl'), [
      line({ timestamp_ms: now - 2 * 86_400_000, status_code: 200, duration_ms: 2000, ttfb_ms: 500, model: 'gpt-5', usage: { input_tokens: 1_000_000, output_tokens: 0, reasoning_tokens: 0, total_tokens: 1_000_000 } }),
      line({ timestamp_ms: now - 40 * 86_400_000, status_code: 200, duration_ms: 1, model: 'gpt-5' }),
    ].join('\n') + '\n');
    writeFileSync(join(home, 'logs', 'requests.jsonl'), [
      line({ timestamp_ms: now - 60_000, status_code: 200, duration_ms: 1000, ttfb_ms: 200, model: 'gpt-5', usage: { input_tokens: 0, output_tokens: 100_000, reasoning_tokens: 0, total_tokens: 100_000 },
        cost: { amount: 5, currency: 'USD', rule: 'logged' } }),
      line({ timestamp_ms: now - 30_000, status_code: 502, duration_ms: 50, model: 'o3', error_class: 'upstream_transport_error', config_name: 'backup' }),
      line({ timestamp_ms: now - 20_000, service: 'claude', status_code: 200, duration_ms: 50, model: 'claude-x' }),
      'not json',
      '{"ts_ms":1,"event":"retry"}',
    ].join('\n') + '\n');

    const j = stats(['--days', '7', '--service', 'codex', '--json']);
    assert.equal(j.status, 0, j.stderr);
    const r = JSON.parse(j.stdout) as { requests_read: number; today: { requests: number; cost: Record<string, number> }; period: { requests: number; cost: Record<string, number>; errors_by_class: Record<string, number> };
      by_model: Array<{ key: string }>; chart: { buckets: unknown[] } };
    assert.equal(r.requests_read, 3, 'the 40-day-old line and the claude line are outside');
    assert.equal(r.today.requests, 2);
    // The logged cost is kept (5, not 1); the unpriced line is priced now (1M input at $1).
    assert.deepEqual(r.period.cost, { USD: 6 });
    assert.deepEqual(r.period.errors_by_class, { upstream_transport_error: 1 });
    assert.deepEqual(r.by_model.map((g) => g.key), ['gpt-5', 'o3']);
    assert.equal(r.chart.buckets.length, 7);

    const t = stats([]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /today\s+3\s/);
    assert.match(t.stdout, /per model \(last 7 days\)/);
    assert.match(t.stdout, /gpt-5\s+2\s/);
    assert.match(t.stdout, /\$6\.00/);
    assert.match(t.stdout, /upstream_transport_error 1/);
    assert.match(t.stdout, /Costs are estimates/);
  });

  it('says so when there is nothing, and rejects bad options with a usage error', () => {
    const empty = stats([]);
    assert.equal(empty.status, 0);
    assert.match(empty.stdout, /no requests in the last 7 day/);
    const bad = stats(['--days', '0']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--days must be a whole number/);
    assert.equal(stats(['--service', 'x']).status, 2);
  });
});

describe('admin API: stats, pricing and clearing recent requests', () => {
  let up: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    up = await startUpstream(async (_req, res) => {
      await sse(res, [
        'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1","usage":{"input_tokens":1000000,"input_tokens_details":{"cached_tokens":500000},"output_tokens":1000,"output_tokens_details":{"reasoning_tokens":400},"total_tokens":1001000}}}\n\n',
      ]);
    });
    proxy = await startProxy(`[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${up.url}/v1"
[pricing."gpt-5*"]
input = 2
cached_input = 0.2
output = 10
reasoning = 20
`, { env: { CODEX_HELPER_PRICE_INPUT_PER_1K_USD: '0.001', CODEX_HELPER_PRICE_OUTPUT_PER_1K_USD: '0.002' } });
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  const api = (p: string) => `${proxy.url()}/__codex_helper/api/v1/${p}`;
  const body = (model: string) => JSON.stringify({ model, stream: true, input: 'hi' });

  it('prices a streamed request, shows cost in the snapshot, requests.jsonl, stats and session stats', async () => {
    const r = await call(`${proxy.url()}/v1/responses`, { body: body('gpt-5'), headers: { 'content-type': 'application/json', session_id: 'sess-1' } });
    assert.equal(r.status, 200);
    await call(`${proxy.url()}/v1/responses`, { body: body('other'), headers: { 'content-type': 'application/json' } });
    // 500k uncached × $2 + 500k cached × $0.2 + 600 out × $10 + 400 reasoning × $20, per million.
    const expected = (500_000 * 2 + 500_000 * 0.2 + 600 * 10 + 400 * 20) / 1e6;
    const snap = (await call(api('snapshot'))).json<{ pricing_rules: number; snapshot: { recent: Array<{ model: string; cost?: { amount: number; currency: string; rule: string } }>;
      session_stats: Record<string, { total_cost?: Record<string, number> }>; usage_rollup: { since_start: { cost: Record<string, number> }; by_model: Array<[string, { cost: Record<string, number> }]> } } }>();
    assert.equal(snap.pricing_rules, 2);
    const priced = snap.snapshot.recent.find((x) => x.model === 'gpt-5');
    assert.ok(Math.abs(priced!.cost!.amount - expected) < 1e-9);
    assert.equal(priced!.cost!.rule, 'gpt-5*');
    // 'other' falls to the environment's catch-all: 1M input at $1/M, 1000 output at $2/M.
    const env = snap.snapshot.recent.find((x) => x.model === 'other');
    assert.ok(Math.abs(env!.cost!.amount - (1 + 0.002)) < 1e-9, JSON.stringify(env));
    assert.ok(Math.abs(snap.snapshot.session_stats['sess-1']!.total_cost!['USD']! - expected) < 1e-9);
    assert.ok(Math.abs(snap.snapshot.usage_rollup.since_start.cost['USD']! - expected - 1.002) < 1e-9);
    assert.deepEqual(snap.snapshot.usage_rollup.by_model.map(([k]) => k).sort(), ['gpt-5', 'other']);

    const report = (await call(api('stats?range=1h'))).json<{ period: { requests: number; cost: Record<string, number> }; chart: { buckets: unknown[] } }>();
    assert.equal(report.period.requests, 2);
    assert.equal(report.chart.buckets.length, 60);
    const raw = (await call(api('stats?raw=1&days=1'))).json<{ service: string; minute: unknown[]; hour: unknown[] }>();
    assert.equal(raw.service, 'codex');
    assert.equal(raw.hour.length, 2);
    assert.equal((await call(api('stats?range=2w'))).status, 400);

    const pricing = (await call(api('pricing'))).json<{ estimate: boolean; rules: Array<{ pattern: string; origin: string }> }>();
    assert.equal(pricing.estimate, true);
    assert.deepEqual(pricing.rules.map((x) => [x.pattern, x.origin]), [['gpt-5*', 'config'], ['*', 'env']]);

    await proxy.host.requestLog?.flush();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(join(proxy.home, 'logs', 'requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { model: string; cost?: { amount: number } });
    assert.ok(Math.abs(lines.find((l) => l.model === 'gpt-5')!.cost!.amount - expected) < 1e-9);
  });

  it('clears the recent list on POST (rollups stay) and refuses GET', async () => {
    await until(() => proxy.host.services.codex.state.listRecent(10).length >= 2);
    assert.equal((await call(api('status/recent/clear'))).status, 405);
    const r = await call(api('status/recent/clear'), { method: 'POST', body: '{}' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { cleared: 2 });
    assert.equal((await call(api('status/recent'))).json<unknown[]>().length, 0);
    const snap = (await call(api('snapshot'))).json<{ snapshot: { usage_rollup: { since_start: { requests_total: number } } } }>();
    assert.equal(snap.snapshot.usage_rollup.since_start.requests_total, 2);
  });
});
