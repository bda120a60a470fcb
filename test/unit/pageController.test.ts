// The page plumbing both webview pages share (pageController.ts), in plain Node: a minimal page on a fake port, fed
// through a real ProxyController subscription (its real coalescer); no proxy is started.
import * as assert from 'node:assert/strict';
import { SERVICE_NAMES } from '../../src/core/types';
import { lineLogger } from '../../src/proxy/logger';
import { ProxyController } from '../../src/host/proxyController';
import { PageController } from '../../src/webview/pageController';
import type { PageFeed, PagePort } from '../../src/webview/pageController';
import { PageMessageError } from '../../src/webview/protocol';
import { until } from '../helpers/servers';

type Out = { type: 'init' } | { type: 'data'; run: number };
type In = { type: 'ready' } | { type: 'refresh' };

function parse(raw: unknown): In {
  const type = (raw as { type?: unknown } | null)?.type;
  if (type === 'ready' || type === 'refresh') return { type };
  if (type === 'crash') throw new TypeError('a bug in the parser');
  throw new PageMessageError(`unknown type ${String(type)}`);
}

/** Posts one `data` per refresh; `fail` makes the refresh throw. */
class CountingPage extends PageController<Out, In> {
  runs = 0;
  fail = false;

  constructor(port: PagePort<Out>, feed: Omit<PageFeed<In>, 'label' | 'parse' | 'windowMs'>) {
    super(port, { label: 'counting', parse, windowMs: 10, ...feed });
  }

  protected async handle(msg: In): Promise<void> {
    if (msg.type === 'ready') this.opened({ type: 'init' });
    else this.schedule(true);
  }

  protected async update(): Promise<void> {
    this.runs++;
    if (this.fail) throw new Error('no source');
    this.post({ type: 'data', run: this.runs });
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('page controller (ready, validation, coalesced feed, heartbeat)', () => {
  let lines: string[];
  let controller: ProxyController;
  let posted: Out[];
  let pages: CountingPage[];

  const open = (heartbeatMs = 60_000, port: PagePort<Out> = { postMessage: async (m) => posted.push(m) }): CountingPage => {
    const log = lineLogger((l) => lines.push(l), 'debug');
    const page = new CountingPage(port, { watch: (work, o) => controller.subscribe(SERVICE_NAMES, work, o), heartbeatMs, log });
    pages.push(page);
    return page;
  };
  const data = () => posted.filter((m) => m.type === 'data');

  beforeEach(() => {
    lines = [];
    posted = [];
    pages = [];
    controller = new ProxyController({ log: lineLogger(() => undefined), createHost: () => Promise.reject(new Error('no proxy in these tests')) });
  });
  afterEach(async () => {
    for (const p of pages) p.dispose();
    await controller.dispose();
  });

  it('posts nothing before `ready`; a malformed message is logged and ignored; a parser bug is not swallowed', async () => {
    const page = open();
    await page.onMessage({ type: 'refresh' });
    await page.onMessage({ type: 'bogus' });
    await pause(50);
    assert.deepEqual(posted, []);
    assert.equal(page.runs, 0, 'no refresh while nobody can see it');
    assert.ok(lines.some((l) => l.includes('counting: ignored a malformed message from the page (unknown type bogus)')), lines.join('\n'));
    await assert.rejects(page.onMessage({ type: 'crash' }), TypeError);
  });

  it('`ready` posts init, then refreshes at once; hidden stops the posts until the page is ready again', async () => {
    const page = open();
    await page.onMessage({ type: 'ready' });
    await until(() => data().length === 1, 3000, 'the first refresh');
    assert.equal(posted[0]?.type, 'init');

    page.hidden();
    await page.onMessage({ type: 'refresh' });
    await pause(50);
    assert.equal(posted.length, 2, 'nothing posted to a hidden page');

    await page.onMessage({ type: 'ready' });
    await until(() => data().length === 2, 3000, 'a refresh after the page came back');
    assert.deepEqual(posted.map((m) => m.type), ['init', 'data', 'init', 'data']);
  });

  it('the heartbeat refreshes only while the page is shown', async () => {
    const page = open(15);
    await page.onMessage({ type: 'ready' });
    await until(() => page.runs >= 3, 3000, 'heartbeat refreshes');
    page.hidden();
    const runs = page.runs;
    await pause(80);
    assert.equal(page.runs, runs, 'no heartbeat while hidden');

    await page.onMessage({ type: 'ready' });
    await until(() => page.runs >= runs + 3, 3000, 'heartbeat after ready again');
    page.dispose();
    const after = page.runs;
    await pause(80);
    assert.equal(page.runs, after, 'no heartbeat after dispose');
  });

  it('a failed refresh is an error line with the page label; a failed post only a debug line', async () => {
    const failing = open();
    failing.fail = true;
    await failing.onMessage({ type: 'ready' });
    await until(() => lines.some((l) => l.includes('ERROR counting: refresh failed: no source')), 3000, 'the refresh error');

    const gone = open(60_000, { postMessage: () => Promise.reject(new Error('the webview is gone')) });
    await gone.onMessage({ type: 'ready' });
    await until(() => lines.some((l) => l.includes('DEBUG counting: post failed: the webview is gone')), 3000, 'the post failure');
  });
});
