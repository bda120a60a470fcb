// The Stats page controller (statsPage.ts) in plain Node: a fake port plays the page, the scripted HostUi the
// user, a real proxy on 127.0.0.1:0 answers through its real admin API.
import * as assert from 'node:assert/strict';
import { CMD } from '../../src/host/constants';
import type { StatsHostMessage } from '../../src/webview/protocol';
import { StatsPage } from '../../src/webview/statsPage';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { hostFixture, OK_RESPONSE } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';
type Stats = Extract<StatsHostMessage, { type: 'stats' }>;

describe('stats page (plain Node, scripted UI, real proxy)', () => {
  let up: FakeUpstream;
  let f: HostFixture;
  let page: StatsPage;
  let posted: StatsHostMessage[];

  const stats = () => posted.filter((m): m is Stats => m.type === 'stats');

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, OK_RESPONSE));
  });
  after(() => up.close());
  beforeEach(() => {
    f = hostFixture(`version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "${up.url}/a"\n`);
    posted = [];
    page = f.own(new StatsPage({ postMessage: async (m) => posted.push(m) },
      { sources: f.sources, watch: f.watch, log: f.log, ui: f.ui }, { range: '24h', service: 'all' }));
  });
  afterEach(() => f.close());

  it('posts nothing before `ready`; then init and a report of the real traffic; setState narrows it', async () => {
    const url = await f.start('codex');
    assert.equal((await call(`${url}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }) })).status, 200);
    await page.onMessage({ type: 'refresh' });
    await page.onMessage({ type: 'setState', state: { range: 'bogus', service: 'all' } });
    assert.equal(posted.length, 0);
    assert.ok(f.lines.some((l) => l.includes('stats: ignored a malformed message from the page')), f.lines.join('\n'));

    await page.onMessage({ type: 'ready' });
    assert.equal(posted[0]?.type, 'init');
    await until(() => stats().length > 0, 5000, 'a stats message');
    const first = stats()[0]!;
    assert.deepEqual(first.sources, [{ service: 'codex', ok: true }]);
    assert.equal(first.report.period.requests, 1);
    assert.equal(first.report.period.tokens.total, 5);

    await page.onMessage({ type: 'setState', state: { range: '7d', service: 'claude' } });
    await until(() => stats().length > 1, 5000, 'a second stats message');
    const second = stats().at(-1)!;
    assert.deepEqual(second.sources, [], 'only the Claude proxy, which is not running');
    assert.equal(second.report.period.requests, 0);
  });

  it('the page links run their commands', async () => {
    await page.onMessage({ type: 'openRequests' });
    await page.onMessage({ type: 'openConfig' });
    assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.showRecentRequests, CMD.openConfigFile]);
  });
});
