// The Recent Requests page controller (requestsPage.ts, requestsActions.ts) message by message, in plain Node: a
// fake port plays the page, the scripted HostUi plays the user, a real proxy on 127.0.0.1:0 answers through its
// real admin API, and exports are real files.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AdminClient } from '../../src/proxy/adminClient';
import { CMD } from '../../src/host/constants';
import { DEFAULT_FILTERS } from '../../src/webview/protocol';
import type { HostMessage, RequestRow } from '../../src/webview/protocol';
import type { RequestsSource } from '../../src/webview/requestsActions';
import { rowsToCsv } from '../../src/webview/requestsExport';
import { RequestsPage } from '../../src/webview/requestsPage';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { codexAndClaudeConfig, hostFixture, OK_RESPONSE } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';

type Update = Extract<HostMessage, { type: 'update' }>;

/** An admin URL nobody listens on (a server started and closed). */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('recent requests page (plain Node, scripted UI, real proxy)', () => {
  let up: FakeUpstream;
  let f: HostFixture;
  let page: RequestsPage;
  let posted: HostMessage[];
  let extra: RequestsSource[];

  const sources = (): RequestsSource[] => [...f.sources(), ...extra];
  const updates = () => posted.filter((m): m is Update => m.type === 'update');
  const lastRows = (): RequestRow[] => updates().at(-1)?.rows ?? [];
  const recentCount = async () => (await f.controller.client('codex')!.snapshot(10, 1)).snapshot.recent.length;

  /** Starts the codex proxy, sends one request through it, opens the page and waits for the row. */
  async function withOneRow(): Promise<RequestRow> {
    const url = await f.start('codex');
    const r = await call(`${url}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }), headers: { session_id: 'sess-1' } });
    assert.equal(r.status, 200);
    await page.onMessage({ type: 'ready' });
    await until(() => lastRows().length === 1, 5000, 'the row posted');
    return lastRows()[0]!;
  }

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, OK_RESPONSE));
  });
  after(() => up.close());
  beforeEach(() => {
    f = hostFixture(codexAndClaudeConfig(up.url));
    posted = [];
    extra = [];
    page = f.own(new RequestsPage({ postMessage: async (m) => posted.push(m) },
      { sources, watch: f.watch, maxRows: () => 200, log: f.log, ui: f.ui }, { ...DEFAULT_FILTERS }));
  });
  afterEach(() => f.close());

  it('posts nothing before `ready`; a malformed message is logged and ignored; `ready` gets init, then rows', async () => {
    await page.onMessage({ type: 'refresh' });
    await page.onMessage({ type: 'copy', key: 'x', what: 'password' });
    assert.equal(posted.length, 0);
    assert.ok(f.lines.some((l) => l.includes('ignored a malformed message from the page')), f.lines.join('\n'));
    const row = await withOneRow();
    assert.equal(posted[0]!.type, 'init');
    assert.equal(row.sessionId, 'sess-1');
    assert.equal(row.model, 'gpt-5');
    page.hidden();
    const n = posted.length;
    await page.onMessage({ type: 'refresh' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(posted.length, n, 'a hidden page is not posted to');
  });

  it('copy: session id, chain or row to the clipboard with a status line; an unknown row does nothing', async () => {
    const row = await withOneRow();
    await page.onMessage({ type: 'copy', key: row.key, what: 'sessionId' });
    assert.equal(f.ui.clipboard, 'sess-1');
    assert.deepEqual(f.ui.statusMessages, ['Codex Helper: copied session id sess-1']);
    await page.onMessage({ type: 'copy', key: row.key, what: 'row' });
    assert.equal(JSON.parse(f.ui.clipboard).key, row.key);
    assert.deepEqual(row.chain, [], 'answered on the first try: no upstream chain');
    await page.onMessage({ type: 'copy', key: row.key, what: 'chain' });
    assert.equal(JSON.parse(f.ui.clipboard).key, row.key, 'nothing to copy: the clipboard keeps what it had');
    assert.deepEqual(f.ui.statusMessages.slice(1), ['Codex Helper: copied']);
    f.ui.clipboard = '';
    await page.onMessage({ type: 'copy', key: 'codex:nope', what: 'row' });
    assert.equal(f.ui.clipboard, '');
    await page.onMessage({ type: 'requestDetails', key: row.key });
    assert.deepEqual(f.ui.untitled.map((u) => [u.language, JSON.parse(u.content).key]), [['json', row.key]]);
  });

  it('export: nothing shown → an info message and no dialog; a cancelled dialog writes nothing', async () => {
    await f.controller.start('codex', 0);
    await page.onMessage({ type: 'ready' });
    await until(() => updates().length > 0, 5000, 'an update');
    await page.onMessage({ type: 'export', format: 'csv' });
    assert.deepEqual(f.ui.messages('info'), ['Codex Helper: no requests to export with the current filters.']);
    assert.equal(f.ui.saveDialogs.length, 0);

    await withOneRow();
    f.ui.saveAs(undefined);
    await page.onMessage({ type: 'export', format: 'json' });
    assert.equal(f.ui.saveDialogs.length, 1);
    assert.deepEqual(f.ui.statusMessages, []);
    assert.deepEqual(f.ui.messages('error'), []);
  });

  it('export: the file chosen gets the rows shown as CSV or JSON, with a status line; a failed write shows why', async () => {
    const row = await withOneRow();
    const csv = join(f.dir, 'out.csv');
    f.ui.saveAs(csv);
    await page.onMessage({ type: 'export', format: 'csv' });
    const dialog = f.ui.saveDialogs[0]!;
    assert.match(dialog.defaultName, /^codex-helper-requests-\d{8}-\d{4}\.csv$/);
    assert.deepEqual(dialog.filters, { CSV: ['csv'] });
    assert.equal(dialog.saveLabel, 'Export 1 request');
    assert.equal(readFileSync(csv, 'utf8'), rowsToCsv([row]));
    assert.match(readFileSync(csv, 'utf8'), /sess-1/);
    assert.deepEqual(f.ui.statusMessages, [`Codex Helper: exported 1 request(s) to ${csv}`]);

    const jsonFile = join(f.dir, 'out.json');
    f.ui.saveAs(jsonFile);
    await page.onMessage({ type: 'export', format: 'json' });
    assert.deepEqual(f.ui.saveDialogs[1]!.filters, { JSON: ['json'] });
    const written = JSON.parse(readFileSync(jsonFile, 'utf8')) as Array<Record<string, unknown>>;
    assert.deepEqual(written.map((r) => [r['sessionId'], r['model'], 'key' in r]), [['sess-1', 'gpt-5', false]]);

    const missing = join(f.dir, 'no-such-dir', 'out.csv');
    f.ui.saveAs(missing);
    await page.onMessage({ type: 'export', format: 'csv' });
    assert.equal(existsSync(missing), false);
    const [err] = f.ui.messages('error');
    assert.match(err ?? '', /^Codex Helper: export failed: .*ENOENT/);
    assert.equal(f.ui.statusMessages.length, 2, 'no "exported" line for the failed write');
  });

  it('clear: the modal asks first; No keeps the rows, Clear empties the proxy and the page', async () => {
    await withOneRow();
    f.ui.click(undefined);
    await page.onMessage({ type: 'clearRecent' });
    const [ask] = f.ui.shown;
    assert.deepEqual(ask, { kind: 'modal', message: 'Clear the recent requests of the Codex proxy?', actions: ['Clear'],
      detail: 'Totals, the Stats view, session totals and requests.jsonl are kept.' });
    assert.equal(await recentCount(), 1, 'dismissed: nothing cleared');

    f.ui.click('Clear');
    await page.onMessage({ type: 'clearRecent' });
    assert.equal(await recentCount(), 0);
    await until(() => lastRows().length === 0, 5000, 'the page emptied');
    assert.deepEqual(f.ui.messages('error'), []);
  });

  it('clear: with two proxies, both named; one unreachable → its error shown, the other still cleared', async () => {
    await withOneRow();
    extra = [{ service: 'claude', client: new AdminClient(await deadUrl(), 1000) }];
    f.ui.click('Clear');
    await page.onMessage({ type: 'clearRecent' });
    assert.equal(f.ui.shown[0]!.message, 'Clear the recent requests of the Codex and Claude Code proxies?');
    assert.equal(await recentCount(), 0);
    const [err] = f.ui.messages('error');
    assert.match(err ?? '', /^Codex Helper: could not clear: .*not reachable/);
  });

  it('clear with no proxy running asks nothing; the page links run their commands', async () => {
    await page.onMessage({ type: 'clearRecent' });
    assert.deepEqual(f.ui.shown, []);
    await page.onMessage({ type: 'openStats' });
    await page.onMessage({ type: 'connect', service: 'codex' });
    await page.onMessage({ type: 'connect', service: 'claude' });
    assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.showStats, CMD.connectCodex, CMD.connectClaude]);
  });
});
