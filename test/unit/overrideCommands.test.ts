// The routing commands (overrideCommands.ts) branch by branch, in plain Node: a scripted HostUi plays the user,
// a real proxy on 127.0.0.1:0 answers through its real admin API.
import * as assert from 'node:assert/strict';
import { CMD } from '../../src/host/constants';
import { registerCommand } from '../../src/host/commands';
import { registerOverrideCommands } from '../../src/host/overrideCommands';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { claudeConfig, failoverConfig, hostFixture, OK_RESPONSE } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';
import { settle } from '../helpers/fakeUi';

describe('override commands (plain Node, scripted UI, real proxy)', () => {
  let up: FakeUpstream;
  let f: HostFixture;

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, OK_RESPONSE));
  });
  after(() => up.close());
  beforeEach(() => {
    f = hostFixture(failoverConfig(up.url, ['/a'], '/b', claudeConfig(up.url)));
    f.own(registerOverrideCommands({ controller: f.controller, store: f.store, log: f.log, ui: f.ui }));
  });
  afterEach(() => f.close());

  const state = (s: 'codex' | 'claude' = 'codex') => f.controller.host!.services[s].state;

  it('with no proxy running: a warning whose "Start Proxy" starts it; nothing else happens', async () => {
    f.ui.click('Start Proxy');
    await f.ui.run(CMD.pinConfig);
    await settle();
    assert.deepEqual(f.ui.messages('warning'), ['Codex Helper: no proxy is running.']);
    assert.deepEqual(f.ui.executed, [{ id: CMD.startProxy, args: [] }]);
    assert.equal(f.ui.picks.length, 0);
  });

  it('naming a service that is not running warns about that service', async () => {
    await f.controller.start('codex', 0);
    await f.ui.run(CMD.pinConfig, 'claude');
    assert.deepEqual(f.ui.messages('warning'), ['Codex Helper: the Claude Code proxy is not running.']);
    assert.equal(state().getGlobalConfig(), undefined);
  });

  it('pins the config picked (automatic preselected), unpins, and a canceled pick changes nothing', async () => {
    await f.controller.start('codex', 0);
    await f.ui.pick(undefined).run(CMD.pinConfig);
    assert.equal(state().getGlobalConfig(), undefined, 'Escape: nothing pinned');
    const first = f.ui.picks[0]!;
    assert.equal(first.o.title, 'Pin a Codex config');
    assert.match(first.o.active?.label ?? '', /Automatic/, 'the choice in force is preselected');
    assert.deepEqual(first.items.map((i) => i.label.replace(/^\$\(check\) /, '')).slice(1), ['main', 'backup']);

    await f.ui.pick('backup').run(CMD.pinConfig);
    assert.equal(state().getGlobalConfig(), 'backup');
    await until(() => f.store.get('codex').detail?.global_override === 'backup', 2000, 'the store sees the pin');
    await f.ui.pick('Automatic').run(CMD.pinConfig);
    assert.equal(state().getGlobalConfig(), undefined);
    await f.ui.run(CMD.pinConfig, { service: 'codex', config: 'main' });
    assert.equal(state().getGlobalConfig(), 'main', 'a tree item names the config: no pick');
    await f.ui.run(CMD.unpinConfig, 'codex');
    assert.equal(state().getGlobalConfig(), undefined);
    assert.deepEqual(f.ui.messages(), [], 'success is silent (the tree shows it)');
    assert.ok(f.lines.some((l) => /codex: pinned backup/.test(l)));
  });

  it('asks which proxy when both run; Escape there ends the command', async () => {
    await f.controller.start('codex', 0);
    await f.controller.start('claude', 0);
    await f.ui.pick(undefined).run(CMD.unpinConfig);
    assert.equal(f.ui.picks[0]!.o.title, 'Which proxy?');
    assert.deepEqual(f.ui.picks[0]!.items.map((i) => i.label), ['Codex', 'Claude Code']);
    state('claude').setGlobalConfig('cl');
    await f.ui.pick('Claude Code').run(CMD.unpinConfig);
    assert.equal(state('claude').getGlobalConfig(), undefined);
  });

  it('an admin call that fails becomes one error message and a log line, not a throw', async () => {
    await f.controller.start('codex', 0);
    const r = await f.ui.run(CMD.pinConfig, { service: 'codex', config: 'nope' });
    assert.equal(r, undefined);
    const [err] = f.ui.messages('error');
    assert.match(err ?? '', /^Codex Helper: pin nope failed: /);
    assert.ok(f.lines.some((l) => /codex: pinned nope failed/.test(l)));
    assert.equal(state().getGlobalConfig(), undefined);
  });

  it('disables and enables a config, and sets its priority from the pick (the file value clears the override)', async () => {
    await f.controller.start('codex', 0);
    await f.ui.pick('backup').run(CMD.disableConfig);
    assert.deepEqual(state().getConfigMeta(), { backup: { enabled: false } });
    await f.ui.run(CMD.enableConfig, { service: 'codex', config: 'backup' });
    assert.deepEqual(state().getConfigMeta(), {}, 'enabling what the file enables clears the override');
    await f.ui.pick('main').pick('3').run(CMD.setConfigLevel);
    assert.equal(f.ui.picks[2]!.o.title, 'Priority of main (lower is tried first)');
    assert.deepEqual(state().getConfigMeta(), { main: { level: 3 } });
    await f.ui.pick(undefined).run(CMD.setConfigLevel, { service: 'codex', config: 'main' });
    assert.deepEqual(state().getConfigMeta(), { main: { level: 3 } }, 'Escape on the level: unchanged');
    await f.ui.run(CMD.setConfigLevel, { service: 'codex', config: 'main', level: 1 });
    assert.deepEqual(state().getConfigMeta(), {}, 'the file value clears it');
  });

  it('session effort: none yet → an info message; a session picked → the effort picked is set; clear removes it', async () => {
    const url = await f.start('codex');
    await f.ui.run(CMD.setSessionEffort);
    assert.deepEqual(f.ui.messages('info'), ['Codex Helper: no recent Codex sessions yet.']);
    const r = await call(`${url}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }), headers: { session_id: 'sess-1' } });
    assert.equal(r.status, 200);
    await f.ui.pick('sess-1').pick('high').run(CMD.setSessionEffort);
    assert.equal(state().getSessionEffort('sess-1'), 'high');
    await f.ui.pick('sess-1').pick(undefined).run(CMD.setSessionEffort);
    assert.equal(state().getSessionEffort('sess-1'), 'high', 'Escape keeps it');
    await f.ui.run(CMD.setSessionEffort, { service: 'codex', sessionId: 'sess-1', effort: 'clear' });
    assert.equal(state().getSessionEffort('sess-1'), undefined);
  });

  it('health checks: none running → warning; else progress, a summary, and the store refreshed', async () => {
    await f.ui.run(CMD.runHealthChecks);
    assert.deepEqual(f.ui.messages('warning'), ['Codex Helper: no proxy is running.']);
    await f.controller.start('codex', 0);
    const r = await f.ui.run(CMD.runHealthChecks, 'codex') as { ok: number; err: number };
    assert.equal(r.ok + r.err, 2, 'both codex upstreams probed');
    assert.ok(f.ui.progress.some((p) => /\/2 upstreams probed/.test(p)), f.ui.progress.join(' | '));
    assert.match(f.ui.messages('info').at(-1) ?? '', /^Codex Helper: health checks done: \d healthy, \d failing\.$/);
  });

  it('copies a base URL to the clipboard with a status bar note; refreshView refetches', async () => {
    await f.ui.run(CMD.copyBaseUrl, { baseUrl: 'https://api.example.com/v1' });
    assert.equal(f.ui.clipboard, 'https://api.example.com/v1');
    assert.deepEqual(f.ui.statusMessages, ['Copied https://api.example.com/v1']);
    await f.ui.run(CMD.copyBaseUrl, {});
    assert.equal(f.ui.statusMessages.length, 1, 'nothing to copy: nothing happens');
    await f.controller.start('codex', 0);
    await f.ui.run(CMD.refreshView);
    assert.deepEqual(f.store.get('codex').detail?.configs.map((c) => c.name), ['main', 'backup']);
  });
});

describe('command error boundary (commands.ts, scripted UI)', () => {
  it('turns a throw into one log line with the stack and one message whose "Show Log" opens the log', async () => {
    const f = hostFixture(undefined);
    try {
      const d = registerCommand({ ui: f.ui, log: f.log }, 'test.fails', () => {
        throw new Error('disk full');
      });
      registerCommand({ ui: f.ui, log: f.log }, 'test.works', (a: number) => a * 2);
      f.ui.click('Show Log');
      assert.equal(await f.ui.run('test.fails'), undefined);
      await settle();
      assert.deepEqual(f.ui.messages('error'), ['Codex Helper: disk full']);
      assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.showLog]);
      assert.ok(f.lines.some((l) => l.includes('command test.fails failed: Error: disk full') && l.includes('at ')), 'stack logged');
      assert.equal(await f.ui.run('test.works', 21), 42, 'a result goes back to the caller');
      d.dispose();
      await assert.rejects(f.ui.run('test.fails'), /not registered/);
    } finally {
      await f.close();
    }
  });
});
