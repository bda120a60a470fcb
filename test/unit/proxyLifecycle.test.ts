// The lifecycle commands and notifications (proxyLifecycle.ts) branch by branch, in plain Node: a scripted HostUi
// plays the user, real listeners bind 127.0.0.1 (port 0 or a port taken on purpose).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { CMD, CONTEXT } from '../../src/host/constants';
import { configHome, registerProxyLifecycle } from '../../src/host/proxyLifecycle';
import { json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { codexAndClaudeConfig, hostFixture, MemoryState, TestSettings } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';
import { settle } from '../helpers/fakeUi';

describe('proxy lifecycle commands (plain Node, scripted UI, real listeners)', () => {
  let up: FakeUpstream;
  let f: HostFixture;
  let settings: TestSettings;
  let off: { dispose(): void } | undefined;
  const servers: Server[] = [];

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, {}));
  });
  after(() => up.close());
  beforeEach(() => {
    f = hostFixture(codexAndClaudeConfig(up.url));
  });
  afterEach(async () => {
    off?.dispose();
    off = undefined;
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    await f.close();
  });

  /** Registers the lifecycle with auto-start off and both services on port 0 (any free port) unless told otherwise. */
  const register = (values: Record<string, unknown> = {}, ports: { codex?: number; claude?: number } = {}) => {
    settings = new TestSettings({ 'proxy.autoStart': false, 'proxy.configHome': f.home, ...values }, (s) => {
      s.services.codex.port = ports.codex ?? 0;
      s.services.claude.port = ports.claude ?? 0;
    });
    off = registerProxyLifecycle({ controller: f.controller, settings, log: f.log, ui: f.ui, pinMemory: new MemoryState(), defaultHome: '/nowhere' });
  };

  const blockPort = async (): Promise<number> => {
    const s = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
    return (s.address() as { port: number }).port;
  };

  it('the config home is the setting, else the home from the environment', () => {
    register();
    assert.equal(configHome(settings, '/env-home'), f.home);
    settings.update((s) => (s.configHome = undefined));
    assert.equal(configHome(settings, '/env-home'), '/env-home');
  });

  it('starts, copies the URL, stops; the context keys follow', async () => {
    register();
    assert.equal(f.ui.context.get(CONTEXT.anyRunning), false);
    await f.ui.run(CMD.startProxy);
    assert.equal(f.controller.status('codex').kind, 'running');
    assert.equal(f.controller.status('claude').kind, 'running');
    assert.equal(f.ui.context.get(CONTEXT.anyRunning), true);
    f.ui.pick('Claude Code');
    const url = await f.ui.run(CMD.copyProxyUrl);
    assert.equal(f.ui.picks[0]!.o.title, 'Copy proxy URL of');
    assert.match(String(url), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(f.ui.clipboard, url);
    assert.deepEqual(f.ui.statusMessages, [`Copied ${url}`]);
    await f.ui.run(CMD.stopProxy);
    assert.equal(f.controller.status('codex').kind, 'stopped');
    assert.equal(f.ui.context.get(CONTEXT.anyRunning), false);
    assert.equal(await f.ui.run(CMD.copyProxyUrl), undefined);
    assert.deepEqual(f.ui.messages('info'), ['Codex Helper: no proxy is running.']);
  });

  it('a taken port: one warning; "Use Another Port…" asks for a port, refuses a bad one, and saves a good one', async () => {
    const taken = await blockPort();
    register({ 'codex.enabled': true, 'claude.enabled': false }, { codex: taken });
    f.ui.click('Use Another Port…').type('99999');
    await f.ui.run(CMD.startProxy);
    await settle();
    assert.equal(f.controller.status('codex').kind, 'failed');
    const [warning] = f.ui.shown;
    assert.equal(warning?.kind, 'warning');
    assert.match(warning!.message, new RegExp(`the Codex proxy cannot listen on port ${taken}`));
    assert.deepEqual(warning!.actions, ['Use Another Port…', 'Show Log']);
    assert.equal(f.ui.inputs[0]!.title, 'Port for the Codex proxy');
    assert.equal(f.ui.rejected.length, 1, 'an invalid port is refused in the box');
    assert.equal(f.ui.userSettings.size, 0, 'nothing saved');
    await f.ui.run(CMD.startProxy);
    await settle();
    assert.equal(f.ui.shown.length, 1, 'the same conflict is not shown twice');
    assert.equal(f.ui.context.get(CONTEXT.anyFailed), true);

    f.ui.pick('Use another port').type('45678');
    assert.equal(await f.ui.run(CMD.listenerFixes), 'useAnotherPort');
    assert.equal(f.ui.userSettings.get('codexHelper.codex.port'), 45678, 'the port setting is saved (the settings listener restarts it)');
  });

  it('listener fixes: nothing failed says so; "Try again" retries; "Show Log" shows it', async () => {
    register();
    await f.ui.run(CMD.listenerFixes);
    assert.deepEqual(f.ui.messages('info'), ['Codex Helper: every enabled proxy is running.']);
    const taken = await blockPort();
    settings.update((s) => (s.services.codex.port = taken));
    await f.ui.run(CMD.startProxy, 'codex');
    await settle();
    f.ui.pick('Show log');
    assert.equal(await f.ui.run(CMD.listenerFixes), 'showLog');
    assert.equal(f.ui.logShown, 1);
    await new Promise((r) => servers.pop()!.close(r));
    f.ui.pick('Try again');
    assert.equal(await f.ui.run(CMD.listenerFixes, 'codex'), 'retry');
    assert.equal(f.controller.status('codex').kind, 'running');
  });

  it('a settings change stops only the service it disables; an unrelated change touches no listener', async () => {
    register();
    await f.ui.run(CMD.startProxy);
    const claude = f.controller.status('claude');
    settings.update((s) => (s.webviewMaxRows = 500));
    settings.update((s) => (s.services.codex.enabled = false));
    await until(() => f.controller.status('codex').kind === 'stopped', 2000, 'codex stopped by its setting');
    assert.equal(f.controller.status('claude'), claude, 'claude untouched');
  });

  it('Open Config File writes the template when there is no file, then opens it', async () => {
    register();
    const file = join(f.home, 'config.toml');
    writeFileSync(file, '');
    await f.ui.run(CMD.openConfigFile);
    assert.equal(readFileSync(file, 'utf8'), '', 'an existing file is never overwritten');
    rmSync(file);
    await f.ui.run(CMD.openConfigFile);
    assert.ok(existsSync(file));
    assert.match(readFileSync(file, 'utf8'), /version/);
    assert.deepEqual(f.ui.opened.map((o) => o.path), [file, file]);
  });

  it('Reload Config: unchanged, reloaded, and a broken file keeps the last good config with one error', async () => {
    register();
    await f.ui.run(CMD.startProxy, 'codex');
    await f.ui.run(CMD.reloadConfig);
    assert.deepEqual(f.ui.messages('info'), ['Codex Helper: config unchanged (reloaded anyway).']);
    writeFileSync(join(f.home, 'config.toml'), `${codexAndClaudeConfig(up.url)}\n[codex.configs.more]\n[[codex.configs.more.upstreams]]\nbase_url = "${up.url}/m"\n`);
    await f.ui.run(CMD.reloadConfig);
    assert.equal(f.ui.messages('info')[1], 'Codex Helper: config reloaded.');
    writeFileSync(join(f.home, 'config.toml'), 'version = 1\n[codex.configs.main]\nlevel = "high"\n');
    f.ui.click('Open Config File');
    await f.ui.run(CMD.reloadConfig);
    await settle();
    assert.match(f.ui.messages('error')[0] ?? '', /^Codex Helper: config reload failed \(the last good config stays active\): /);
    assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.openConfigFile]);
    assert.equal(f.controller.status('codex').kind, 'running');
  });

  it('a config that cannot be loaded at start: one error whose "Open Config File" opens it', async () => {
    writeFileSync(join(f.home, 'config.toml'), 'version = 1\n[codex.configs.main]\nlevel = "high"\n');
    register({ 'claude.enabled': false });
    f.ui.click('Open Config File');
    await f.ui.run(CMD.startProxy);
    await settle();
    assert.match(f.ui.messages('error')[0] ?? '', /^Codex Helper: the proxy cannot start: /);
    assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.openConfigFile]);
    await f.ui.run(CMD.showLog);
    assert.equal(f.ui.logShown, 1);
  });
});
