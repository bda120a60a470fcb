// Connect/Disconnect and Set Upstream API Key (clientCommands.ts) branch by branch, in plain Node: a scripted
// HostUi plays the user; the client files live in temporary homes; the proxy is real.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerClientCommands } from '../../src/host/clientCommands';
import { CMD, CONNECT_NO_CONFIRM_KEY } from '../../src/host/constants';
import { secretKey } from '../../src/host/secretCache';
import { json, startUpstream } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { codexAndClaudeConfig, hostFixture, MemoryState, TestSettings } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';
import { settle } from '../helpers/fakeUi';

describe('client commands (plain Node, scripted UI, temporary client homes)', () => {
  let up: FakeUpstream;
  let f: HostFixture;
  let memory: MemoryState;

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, {}));
  });
  after(() => up.close());
  beforeEach(async () => {
    f = hostFixture(codexAndClaudeConfig(up.url, 'auth = { auth_token_secret = "work" }\n'));
    memory = new MemoryState();
    // A port nothing listens on for the "not running" branch: the controller starts on port 0 for the others.
    const settings = new TestSettings({}, (s) => {
      s.services.codex.port = 1;
      s.services.claude.port = 1;
    });
    f.own(registerClientCommands({ controller: f.controller, store: f.store, settings, secrets: f.secrets, log: f.log, ui: f.ui, memory,
      homes: { codex: f.codexHome, claude: f.claudeHome } }));
  });
  afterEach(() => f.close());

  const codexFile = () => join(f.codexHome, 'config.toml');
  const claudeFile = () => join(f.claudeHome, 'settings.json');

  it('Connect with no proxy of ours on the port: an error whose "Start Proxy" starts that service; no file is written', async () => {
    f.ui.click('Start Proxy');
    assert.equal(await f.ui.run(CMD.connectCodex), undefined);
    await settle();
    assert.match(f.ui.messages('error')[0] ?? '', /the Codex proxy is not running on port 1; start it before connecting/);
    assert.deepEqual(f.ui.executed, [{ id: CMD.startProxy, args: ['codex'] }]);
    assert.equal(existsSync(codexFile()), false);
  });

  it('Connect asks first: dismissing writes nothing; "Connect" writes; "Don\'t Ask Again" is remembered', async () => {
    const st = await f.controller.start('codex', 0);
    const port = st.kind === 'running' ? st.port : 0;
    f.ui.click(undefined);
    assert.equal(await f.ui.run(CMD.connectCodex), undefined);
    const [ask] = f.ui.shown;
    assert.equal(ask?.kind, 'modal');
    assert.equal(ask?.message, 'Connect Codex to the proxy?');
    assert.match(ask?.detail ?? '', new RegExp(`base_url = "http://127\\.0\\.0\\.1:${port}"`));
    assert.equal(existsSync(codexFile()), false, 'dismissed: nothing written');

    f.ui.click("Connect, Don't Ask Again");
    const r = await f.ui.run(CMD.connectCodex) as { enabled: boolean };
    assert.equal(r.enabled, true);
    assert.match(readFileSync(codexFile(), 'utf8'), new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal(memory.get(CONNECT_NO_CONFIRM_KEY), true);
    assert.match(f.ui.messages('info').at(-1) ?? '', /^Codex Helper: Codex now points at /);
    await f.ui.run(CMD.connectCodex);
    assert.equal(f.ui.shown.filter((s) => s.kind === 'modal').length, 2, 'not asked a third time');

    await f.ui.run(CMD.disconnectCodex);
    assert.match(f.ui.messages('info').at(-1) ?? '', /^Codex Helper: Removed config\.toml/);
    assert.equal(existsSync(codexFile()), false, 'the file did not exist before: it is gone again');
  });

  it('a client file that does not parse: nothing changed, an error whose "Open File" opens it', async () => {
    await f.controller.start('codex', 0);
    writeFileSync(codexFile(), 'model = "x"\n[broken\n');
    f.ui.click('Open File');
    assert.equal(await f.ui.run(CMD.connectCodex, { confirm: false }), undefined);
    await settle();
    assert.match(f.ui.messages('error')[0] ?? '', /nothing was changed/);
    assert.deepEqual(f.ui.opened, [{ path: codexFile() }]);
    assert.equal(readFileSync(codexFile(), 'utf8'), 'model = "x"\n[broken\n');
  });

  it('Connect Claude Code offers the VS Code extension setting; Disconnect removes only our loopback entry', async () => {
    const st = await f.controller.start('claude', 0);
    const port = st.kind === 'running' ? st.port : 0;
    f.ui.userSettings.set('claudeCode.environmentVariables', [{ name: 'OTHER', value: '1' }]);
    f.ui.click('Connect').click('Set ANTHROPIC_BASE_URL');
    await f.ui.run(CMD.connectClaude);
    assert.match(readFileSync(claudeFile(), 'utf8'), new RegExp(`"ANTHROPIC_BASE_URL": "http://127\\.0\\.0\\.1:${port}"`));
    assert.deepEqual(f.ui.userSettings.get('claudeCode.environmentVariables'),
      [{ name: 'OTHER', value: '1' }, { name: 'ANTHROPIC_BASE_URL', value: `http://127.0.0.1:${port}` }]);
    await f.ui.run(CMD.disconnectClaude);
    assert.deepEqual(f.ui.userSettings.get('claudeCode.environmentVariables'), [{ name: 'OTHER', value: '1' }]);

    f.ui.userSettings.set('claudeCode.environmentVariables', [{ name: 'ANTHROPIC_BASE_URL', value: 'https://gateway.example.com' }]);
    await f.ui.run(CMD.connectClaude, { confirm: false, vscodeSetting: 'no' });
    await f.ui.run(CMD.disconnectClaude);
    assert.deepEqual(f.ui.userSettings.get('claudeCode.environmentVariables'), [{ name: 'ANTHROPIC_BASE_URL', value: 'https://gateway.example.com' }],
      'a base URL the user set elsewhere stays');
  });

  it('Set Upstream API Key: Escape on the name or the value stores nothing; a picked name and a value are stored', async () => {
    await f.ui.pick(undefined).run(CMD.setUpstreamApiKey);
    await f.controller.start('codex', 0);
    await f.store.refresh('codex');
    await f.ui.pick('work').type(undefined).run(CMD.setUpstreamApiKey);
    assert.equal(f.secretStore.map.size, 0);
    const names = f.ui.picks[1]!.items;
    assert.deepEqual(names.map((i) => [i.label, i.description]), [['work', 'not set'], ['$(add) New name…', '']]);
    assert.equal(f.ui.inputs[0]!.password, true, 'the value is typed hidden');

    await f.ui.pick('work').type('sk-work-1').run(CMD.setUpstreamApiKey);
    assert.equal(f.secretStore.map.get(secretKey('work')), 'sk-work-1');
    assert.equal(f.secrets.lookup('work'), 'sk-work-1', 'the next request has it');
    assert.deepEqual(f.ui.messages('info'), ["Codex Helper: secret 'work' saved."]);
    assert.ok(!f.lines.join('\n').includes('sk-work-1'), 'never logged');

    await f.ui.run(CMD.setUpstreamApiKey, { secretName: 'work', value: '' });
    assert.equal(f.secretStore.map.has(secretKey('work')), false, 'an empty value deletes it');
  });

  it('Set Upstream API Key: a bad new name is refused in the box; a value with a line break is refused; an unreferenced name says how to use it', async () => {
    await f.ui.pick('New name').type('bad name!').run(CMD.setUpstreamApiKey);
    assert.deepEqual(f.ui.rejected, ['Letters, digits, _ . - only']);
    assert.equal(f.secretStore.map.size, 0);

    await f.ui.run(CMD.setUpstreamApiKey, { secretName: 'other', value: 'a\nb' });
    assert.deepEqual(f.ui.messages('error'), ["Codex Helper: secret 'other' not saved: it contains a line break or NUL character."]);
    assert.equal(f.secretStore.map.size, 0);

    await f.ui.pick('New name').type('other').type('v-1').run(CMD.setUpstreamApiKey);
    assert.equal(f.secretStore.map.get(secretKey('other')), 'v-1');
    assert.match(f.ui.messages('info')[0] ?? '', /Reference it from an upstream in config\.toml: auth_token_secret = "other"/);
  });
});
