// The extension host layer in a real VS Code (code-server): activation starts the proxy on the configured ports,
// traffic shows up in state and tree, commands change the overrides, secrets reach the upstream but never the API,
// the webview receives rows, and a port change restarts only that listener.
import * as assert from 'node:assert/strict';
import { createServer } from 'node:net';
import * as vscode from 'vscode';
import type { CodexHelperApi } from '../../../src/extension';
import { CMD } from '../../../src/host/constants';

const EXTENSION_ID = 'codex-helper.codex-helper-vscode';
const REQ = JSON.stringify({ model: 'gpt-5', input: 'hello from e2e', stream: false });

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function admin<T>(port: number, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}/__codex_helper/api/v1/${path}`);
  assert.equal(r.status, 200, path);
  return (await r.json()) as T;
}

describe('host layer in a real VS Code', function () {
  this.timeout(60000);
  let api: CodexHelperApi;
  const codexPort = Number(process.env['E2E_CODEX_PORT']);
  const claudePort = Number(process.env['E2E_CLAUDE_PORT']);

  before(async () => {
    const ext = vscode.extensions.getExtension<CodexHelperApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
  });

  after(async () => {
    // Leave no pin behind for the UI run that shares this CODEX_HELPER_HOME.
    await vscode.commands.executeCommand(CMD.unpinConfig, 'codex');
  });

  it('starts both services on the ports from settings', async () => {
    const codex = await until('codex running', () => (api.status('codex').kind === 'running' ? api.status('codex') : undefined));
    assert.equal(codex.kind === 'running' && codex.port, codexPort);
    const claude = await until('claude running', () => (api.status('claude').kind === 'running' ? api.status('claude') : undefined));
    assert.equal(claude.kind === 'running' && claude.port, claudePort);
  });

  it('shows a request made through the proxy in state and in the tree', async () => {
    const r = await fetch(`http://127.0.0.1:${codexPort}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', session_id: 'e2e-session-1' }, body: REQ });
    assert.equal(r.status, 200);
    const snap = await admin<{ snapshot: { recent: Array<{ config_name?: string; status_code: number }> } }>(codexPort, 'snapshot');
    assert.equal(snap.snapshot.recent[0]?.config_name, 'main');
    const main = await until('tree shows main with an upstream state', async () => {
      await api.refresh();
      const codex = api.treeNodes().find((n) => n.service === 'codex');
      const cfg = codex?.children.find((c) => c.config === 'main');
      return cfg?.children.some((u) => /healthy/.test(u.description ?? '')) ? cfg : undefined;
    });
    assert.equal(main.label, 'Main');
    assert.equal(main.children.length, 2);
    assert.equal(main.description, 'priority 1 · active');
    assert.match(main.children[0]!.description ?? '', /^(healthy|no traffic|key missing)( · key missing)?$/, 'the state first, nothing before it');
    assert.equal(main.children[0]!.label, 'fake-a', 'same-host upstreams are told apart by provider id');
    assert.match(main.children[0]!.tooltip, /Provider: fake-a/);
    assert.match(api.statusBarText('codex') ?? '', /Codex: auto/);
  });

  it('pins and unpins a config through the commands (tree and status bar follow)', async () => {
    await vscode.commands.executeCommand(CMD.pinConfig, { service: 'codex', config: 'backup' });
    assert.equal(await admin<string | null>(codexPort, 'overrides/global-config'), 'backup');
    await until('status bar shows the pin', () => /Codex: backup/.test(api.statusBarText('codex') ?? ''));
    const codex = api.treeNodes().find((n) => n.service === 'codex')!;
    assert.match(codex.description ?? '', /pinned backup/);
    assert.equal(codex.children.find((c) => c.config === 'backup')?.contextValue, 'config pinned enabled settled');
    await vscode.commands.executeCommand(CMD.unpinConfig, 'codex');
    assert.equal(await admin<string | null>(codexPort, 'overrides/global-config'), null);
    await until('status bar back to auto', () => /Codex: auto/.test(api.statusBarText('codex') ?? ''));
  });

  it('sets session effort, config level and enabled flag through the admin API', async () => {
    await vscode.commands.executeCommand(CMD.setSessionEffort, { service: 'codex', sessionId: 'e2e-session-1', effort: 'high' });
    assert.deepEqual(await admin<Record<string, string>>(codexPort, 'overrides/session/effort'), { 'e2e-session-1': 'high' });
    await vscode.commands.executeCommand(CMD.setConfigLevel, { service: 'codex', config: 'backup', level: 5 });
    await vscode.commands.executeCommand(CMD.disableConfig, { service: 'codex', config: 'backup' });
    const d = await admin<{ configs: Array<{ name: string; effective_level: number; effective_enabled: boolean }> }>(codexPort, 'configs/detail');
    const backup = d.configs.find((c) => c.name === 'backup')!;
    assert.equal(backup.effective_level, 5);
    assert.equal(backup.effective_enabled, false);
    await vscode.commands.executeCommand(CMD.enableConfig, { service: 'codex', config: 'backup' });
    await vscode.commands.executeCommand(CMD.setConfigLevel, { service: 'codex', config: 'backup', level: 2 });
    assert.deepEqual(await admin<Record<string, unknown>>(codexPort, 'overrides/config-meta'), {}, 'file values clear the overrides');
  });

  it('sends a key from SecretStorage upstream without exposing it in the admin API', async () => {
    const value = 'sk-e2e-from-secret-storage';
    await vscode.commands.executeCommand(CMD.setUpstreamApiKey, { secretName: 'e2e-key', value });
    await vscode.commands.executeCommand(CMD.pinConfig, { service: 'codex', config: 'main' });
    const body = await until('upstream receives the secret', async () => {
      const r = await fetch(`http://127.0.0.1:${codexPort}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQ });
      const j = (await r.json()) as { echo_auth?: string; path?: string };
      return j.path?.startsWith('/a/') ? j : undefined;
    });
    assert.equal(body.echo_auth, `Bearer ${value}`);
    const detail = JSON.stringify(await admin(codexPort, 'configs/detail'));
    assert.match(detail, /secret:e2e-key/);
    assert.doesNotMatch(detail + JSON.stringify(await admin(codexPort, 'snapshot')), new RegExp(value));
    await vscode.commands.executeCommand(CMD.unpinConfig, 'codex');
  });

  it('shows the Get Started welcome only without a config file, and its links name real commands', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const welcome = (ext.packageJSON as { contributes: { viewsWelcome: Array<{ view: string; when?: string; contents: string }> } }).contributes.viewsWelcome;
    const all = await vscode.commands.getCommands(true);
    for (const w of welcome) for (const m of w.contents.matchAll(/command:(codexHelper\.\w+)/g)) assert.ok(all.includes(m[1]!), m[1]);
    assert.equal(api.contextKey('codexHelper:noConfigFile'), false, 'the fixture has a config file');
    const file = `${process.env['CODEX_HELPER_HOME']}/config.toml`;
    const { renameSync } = await import('node:fs');
    renameSync(file, `${file}.away`);
    try {
      await until('welcome context on', async () => {
        await api.refresh();
        return api.contextKey('codexHelper:noConfigFile') === true;
      });
    } finally {
      renameSync(`${file}.away`, file);
    }
    await until('welcome context off', async () => {
      await api.refresh();
      return api.contextKey('codexHelper:noConfigFile') === false;
    });
    await vscode.commands.executeCommand(CMD.reloadConfig);
    await until('relay config loaded', async () => (await admin<{ configs: Array<{ name: string }> }>(codexPort, 'configs/detail')).configs.some((c) => c.name === 'relay'));
  });

  it('resets a cooldown from the command and shows the state in tree and status bar alike', async () => {
    await vscode.commands.executeCommand(CMD.pinConfig, { service: 'codex', config: 'relay' });
    try {
      const r = await fetch(`http://127.0.0.1:${codexPort}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQ });
      assert.equal(r.status, 200, 'failed over to the second relay upstream');
      const relay = await until('relay upstream cooling in the tree', async () => {
        await api.refresh();
        const cfg = api.treeNodes().find((n) => n.service === 'codex')?.children.find((c) => c.config === 'relay');
        return /^cooling /.test(cfg?.children[0]?.description ?? '') ? cfg : undefined;
      });
      assert.match(relay.children[0]!.contextValue, /resettable/);
      const cleared = await vscode.commands.executeCommand<number>(CMD.resetCooldown, { service: 'codex', config: 'relay', upstreamIndex: 0 });
      assert.equal(cleared, 1);
      const lb = await admin<Record<string, { upstreams: Array<{ cooldown_remaining_secs?: number }> }>>(codexPort, 'status/lb');
      assert.equal(lb['relay']!.upstreams[0]!.cooldown_remaining_secs, undefined);
      await until('tree shows the reset', async () => {
        await api.refresh();
        const cfg = api.treeNodes().find((n) => n.service === 'codex')?.children.find((c) => c.config === 'relay');
        return !/^cooling /.test(cfg?.children[0]?.description ?? 'cooling ');
      });
    } finally {
      await vscode.commands.executeCommand(CMD.unpinConfig, 'codex');
    }
  });

  it('shows a missing credential as a warning on the upstream node', async () => {
    await api.refresh();
    const spare = api.treeNodes().find((n) => n.service === 'codex')?.children.find((c) => c.config === 'spare');
    const u = spare!.children[0]!;
    assert.equal(u.icon.id, 'warning');
    assert.match(u.description ?? '', /key missing/);
    assert.match(u.tooltip, /environment variable `E2E_MISSING_KEY` is not set/);
  });

  it('feeds the recent-requests webview', async () => {
    await vscode.commands.executeCommand(CMD.showRecentRequests);
    await until('webview received rows', () => api.lastPostedRowCount() > 0, 20000);
  });

  it('restarts only the listener whose port setting changed', async () => {
    const cfg = vscode.workspace.getConfiguration('codexHelper');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const next = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    await cfg.update('claude.port', next, vscode.ConfigurationTarget.Global);
    try {
      await until(`claude on the new port ${next}`, () => { const s = api.status('claude'); return s.kind === 'running' && s.port === next; });
      const codex = api.status('codex');
      assert.equal(codex.kind === 'running' && codex.port, codexPort);
      const r = await fetch(`http://127.0.0.1:${next}/__codex_helper/api/v1/capabilities`);
      assert.equal(r.status, 200);
    } finally {
      await cfg.update('claude.port', cfg.inspect('claude.port')?.globalValue === next ? claudePort : undefined, vscode.ConfigurationTarget.Global);
    }
    await until('claude back on its port', () => { const s = api.status('claude'); return s.kind === 'running' && s.port === claudePort; });
  });

  it('restarts a killed proxy worker on the same ports: requests work again, tree and status bar follow', async () => {
    const before = api.proxyThreadId();
    assert.ok(before !== undefined, 'the proxy runs in a worker thread');
    await api.killProxyWorker();
    await until('a new worker with codex and claude on their ports', () => {
      const c = api.status('codex');
      const k = api.status('claude');
      return api.proxyThreadId() !== before && c.kind === 'running' && c.port === codexPort && k.kind === 'running' && k.port === claudePort;
    }, 10000);
    const r = await fetch(`http://127.0.0.1:${codexPort}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQ });
    assert.equal(r.status, 200);
    await until('tree shows codex running with its configs', async () => {
      await api.refresh();
      const codex = api.treeNodes().find((n) => n.service === 'codex');
      return codex?.contextValue === 'service running' && codex.children.some((c) => c.config === 'main');
    });
    await until('status bar back', () => /Codex: auto/.test(api.statusBarText('codex') ?? ''));
  });

  it('turns a taken port into a failed service while the other keeps serving, and recovers', async () => {
    const blocker = createServer();
    const sockets = new Set<import('node:net').Socket>();
    blocker.on('connection', (c) => sockets.add(c));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    const cfg = vscode.workspace.getConfiguration('codexHelper');
    try {
      await cfg.update('claude.port', taken, vscode.ConfigurationTarget.Global);
      const st = await until('claude failed', () => { const s = api.status('claude'); return s.kind === 'failed' ? s : undefined; });
      assert.equal(st.kind === 'failed' && st.code, 'EADDRINUSE');
      assert.equal(api.status('codex').kind, 'running');
      await api.refresh();
      assert.equal(api.treeNodes().find((n) => n.service === 'claude')?.description, `port ${taken} in use`);
      await until('the failed listener keeps an error status item', () => api.statusBarText('claude') === `$(error) Claude Code: port ${taken} in use`);
      assert.equal(api.statusBarCommand('claude'), CMD.listenerFixes, 'its click offers the fixes');
    } finally {
      // In a remote window the Global target of a machine setting is the machine settings file the harness wrote.
      await cfg.update('claude.port', claudePort, vscode.ConfigurationTarget.Global);
      // Something probing new ports (code-server's port forwarding, our own attach check) may hold a connection.
      for (const c of sockets) c.destroy();
      await new Promise((r) => blocker.close(r));
    }
    await until('claude back on its port', () => { const s = api.status('claude'); return s.kind === 'running' && s.port === claudePort; });
  });
});
