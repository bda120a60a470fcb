// The Stats page controller (statsPage.ts) in plain Node: a fake port plays the page, the scripted HostUi the
// user, a real proxy on 127.0.0.1:0 answers through its real admin API.
import * as assert from 'node:assert/strict';
import { SERVICE_NAMES } from '../../src/core/types';
import { CMD } from '../../src/host/constants';
import type { StatsHostMessage } from '../../src/webview/protocol';
import type { RequestsSource } from '../../src/webview/requestsActions';
import { StatsPage } from '../../src/webview/statsPage';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { hostFixture } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';

const OK = { id: 'resp_1', output: [], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } };
type Stats = Extract<StatsHostMessage, { type: 'stats' }>;

describe('stats page (plain Node, scripted UI, real proxy)', () => {
  let up: FakeUpstream;
  let f: HostFixture;
  let page: StatsPage;
  let posted: StatsHostMessage[];

  const sources = (): RequestsSource[] => SERVICE_NAMES.flatMap((service) => {
    const client = f.controller.client(service);
    return client ? [{ service, client }] : [];
  });
  const stats = () => posted.filter((m): m is Stats => m.type === 'stats');

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, OK));
  });
  after(() => up.close());
  beforeEach(() => {
    f = hostFixture(`version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "${up.url}/a"\n`);
    posted = [];
    page = new StatsPage({ postMessage: async (m) => posted.push(m) },
      { sources, watch: (work, o) => f.controller.subscribe(SERVICE_NAMES, work, o), log: f.log, ui: f.ui }, { range: '24h', service: 'all' });
  });
  afterEach(async () => {
    page.dispose();
    await f.close();
  });

  it('posts nothing before `ready`; then init and a report of the real traffic; setState narrows it', async () => {
    const st = await f.controller.start('codex', 0);
    const url = st.kind === 'running' ? st.url : '';
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
