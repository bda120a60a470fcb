// Reset Cooldown and Open Config at Line (upstreamCommands.ts) branch by branch, in plain Node: a scripted HostUi
// plays the user, a real proxy on 127.0.0.1:0 (whose first upstream fails on purpose) answers through its admin API.
import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CMD } from '../../src/host/constants';
import { registerUpstreamCommands } from '../../src/host/upstreamCommands';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import type { LbConfigView } from '../../src/core/lb';
import { failoverConfig, hostFixture, OK_RESPONSE } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';

describe('upstream commands (plain Node, scripted UI, real proxy)', () => {
  let up: FakeUpstream;
  let f: HostFixture;

  before(async () => {
    up = await startUpstream((req, res) => (req.url?.startsWith('/bad') ? json(res, 502, { error: 'bad gateway' }) : json(res, 200, OK_RESPONSE)));
  });
  after(() => up.close());
  beforeEach(() => {
    // config.toml lines 8 and 10 are what Open Config at Line finds below.
    f = hostFixture(failoverConfig(up.url, ['/bad', '/good'], '/good'));
    f.own(registerUpstreamCommands({ controller: f.controller, store: f.store, log: f.log, ui: f.ui, configFile: () => join(f.home, 'config.toml') }));
  });
  afterEach(() => f.close());

  const lbOf = (config: string) => f.store.get('codex').snapshot?.snapshot.lb_view[config] as LbConfigView | undefined;

  /** Sends requests until the bad upstream cools down (it fails over to the good one meanwhile). */
  const coolBadUpstream = async (url: string) => {
    for (let i = 0; i < 6; i++) assert.equal((await call(`${url}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }) })).status, 200);
    await f.store.refresh('codex');
    const lb = lbOf('main');
    assert.ok(lb?.upstreams[0]?.cooldown_remaining_secs, `the bad upstream cools down: ${JSON.stringify(lb)}`);
  };

  it('with no proxy running: a warning, and nothing is asked', async () => {
    assert.equal(await f.ui.run(CMD.resetCooldown), undefined);
    assert.deepEqual(f.ui.messages('warning'), ['Codex Helper: no proxy is running.']);
    assert.equal(f.ui.picks.length, 0);
  });

  it('from the palette: offers the configs with trouble first; Escape resets nothing; a pick resets that config', async () => {
    await coolBadUpstream(await f.start('codex'));
    assert.equal(await f.ui.pick(undefined).run(CMD.resetCooldown), undefined);
    const offered = f.ui.picks[0]!.items;
    assert.match(offered[0]!.label, /Every config/);
    assert.equal(offered[1]!.label, 'main', 'the config with a cooling upstream comes first');
    assert.match(offered[1]!.description ?? '', /cool/);
    assert.equal(offered[2]!.description, 'nothing to reset');
    assert.equal(await f.ui.pick('main').run(CMD.resetCooldown), 1);
    assert.deepEqual(f.ui.statusMessages, ['$(check) Cooldown reset: every upstream of main']);
    assert.equal(lbOf('main')?.upstreams[0]?.cooldown_remaining_secs ?? 0, 0,
      'the store was refreshed before the command returned');
  });

  it('from a tree item: resets one upstream at once; nothing cooling says so', async () => {
    await coolBadUpstream(await f.start('codex'));
    assert.equal(await f.ui.run(CMD.resetCooldown, { service: 'codex', config: 'main', upstreamIndex: 0 }), 1);
    assert.equal(await f.ui.run(CMD.resetCooldown, { service: 'codex', config: 'backup', upstreamIndex: 0 }), 0);
    assert.equal(f.ui.statusMessages.length, 2);
    assert.match(f.ui.statusMessages[0]!, /^\$\(check\) Cooldown reset: main \/ 127\.0\.0\.1/);
    assert.match(f.ui.statusMessages[1]!, /^Nothing to reset: backup \/ .* was not cooling$/);
    assert.equal(f.ui.picks.length, 0);
  });

  it('a refused reset (an index out of range) is one error message and a log line', async () => {
    await f.controller.start('codex', 0);
    assert.equal(await f.ui.run(CMD.resetCooldown, { service: 'codex', config: 'backup', upstreamIndex: 5 }), undefined);
    assert.match(f.ui.messages('error')[0] ?? '', /^Codex Helper: reset cooldown failed: .*out of range/);
    assert.ok(f.lines.some((l) => /reset cooldown of backup#5 failed/.test(l)));
    await f.ui.run(CMD.resetCooldown, 'claude');
    assert.deepEqual(f.ui.messages('warning'), ['Codex Helper: the Claude Code proxy is not running.']);
  });

  it('opens config.toml at the line of a config or an upstream; a missing file runs Open Config File', async () => {
    await f.controller.start('codex', 0);
    await f.store.refresh('codex');
    assert.equal(await f.ui.run(CMD.openConfigAt, { service: 'codex', config: 'backup' }), 10);
    assert.equal(await f.ui.run(CMD.openConfigAt, { service: 'codex', config: 'main', upstreamIndex: 1 }), 8);
    assert.deepEqual(f.ui.opened.map((o) => o.line), [10, 8]);
    assert.equal(f.ui.opened[0]!.path, join(f.home, 'config.toml'));
    await f.controller.stop('codex');
    await until(() => f.store.get('codex').status.kind === 'stopped', 2000, 'stopped');
    await f.store.refresh('codex');
    rmSync(join(f.home, 'config.toml'));
    await f.ui.run(CMD.openConfigAt, { service: 'codex', config: 'main' });
    assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.openConfigFile]);
  });
});
