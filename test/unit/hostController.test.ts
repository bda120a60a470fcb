import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/proxy/logger';
import { HealthChecker } from '../../src/proxy/healthcheck';
import { ProxyHost } from '../../src/proxy/proxyHost';
import { isProxyListening } from '../../src/io/proxyProbe';
import { AdminClient } from '../../src/proxy/adminClient';
import { waitForHealthChecks } from '../../src/host/healthProgress';
import type { HealthRun } from '../../src/host/healthProgress';
import { ProxyController, servedPort } from '../../src/host/proxyController';
import { syncWorkspacePin, workspacePinStep } from '../../src/host/workspacePin';
import { SecretCache, secretKey, secretNamesOf } from '../../src/host/secretCache';
import type { SecretStore } from '../../src/host/secretCache';
import { ServiceStore } from '../../src/host/serviceStore';
import { serviceNode } from '../../src/host/treeModel';
import { call, json, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

const OK = { id: 'resp_1', output: [], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } };
const REQ = JSON.stringify({ model: 'gpt-5', input: 'hi', stream: false });

/** SecretStorage stand-in: a Map behind the same async interface. */
class MemorySecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(k: string) { return this.map.get(k); }
  async store(k: string, v: string) { this.map.set(k, v); }
  async delete(k: string) { this.map.delete(k); }
}

function config(a: string, b: string, c: string): string {
  return `version = 1
[codex]
active = "main"
[codex.configs.main]
level = 1
[[codex.configs.main.upstreams]]
base_url = "${a}"
auth = { auth_token_secret = "work" }
[[codex.configs.main.upstreams]]
base_url = "${b}"
[codex.configs.backup]
level = 2
[[codex.configs.backup.upstreams]]
base_url = "${c}"
[claude.configs.cl]
[[claude.configs.cl.upstreams]]
base_url = "${c}"
auth = { api_key_secret = "anthropic" }
`;
}

describe('host proxy controller (real ProxyHost on loopback)', () => {
  const root = mkdtempSync(join(tmpdir(), 'host-ctl-'));
  let up: FakeUpstream;
  let n = 0;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  before(async () => {
    up = await startUpstream((req, res) => json(res, 200, { ...OK, auth: req.headers['authorization'] ?? null }));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(async () => {
    await up.close();
    rmSync(root, { recursive: true, force: true });
  });

  function setup(text?: string, opts: { pollMs?: number } = {}) {
    const dir = join(root, `c${n++}`);
    const home = join(dir, 'helper');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.toml'), text ?? config(`${up.url}/a`, `${up.url}/b`, `${up.url}/c`));
    const store = new MemorySecrets();
    const secrets = new SecretCache(store);
    let created = 0;
    const ctl = new ProxyController({
      log: silentLogger,
      throttleMs: 30,
      pollMs: opts.pollMs,
      createHost: () => {
        created++;
        return new ProxyHost({ home, codexHome: join(dir, 'codex'), claudeHome: join(dir, 'claude'), env: {}, log: silentLogger,
          secrets: secrets.lookup, requestLog: false, healthChecks: new HealthChecker({}, silentLogger) });
      },
      bindHost: (h) => h.runtime.onDidReload((l) => void secrets.load(secretNamesOf(l.config))),
    });
    const svcStore = new ServiceStore(ctl);
    cleanups.push(() => ctl.dispose(), () => svcStore.dispose());
    return { ctl, svcStore, secrets, store, home, created: () => created };
  }

  it('starts both services, serves requests and feeds the store through coalesced events', async () => {
    const { ctl, svcStore } = setup();
    const codex = await ctl.start('codex', 0);
    const claude = await ctl.start('claude', 0);
    assert.equal(codex.kind, 'running');
    assert.equal(claude.kind, 'running');
    let pokes = 0;
    ctl.subscribe('codex', () => pokes++);
    await svcStore.refresh('codex');
    assert.deepEqual(svcStore.get('codex').detail?.configs.map((c) => c.name), ['main', 'backup']);
    const url = codex.kind === 'running' ? codex.url : '';
    for (let i = 0; i < 5; i++) assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
    await until(() => svcStore.get('codex').snapshot?.snapshot.recent.length === 5, 3000, 'five recent requests in the store');
    assert.ok(pokes >= 1 && pokes < 15, `events coalesced (${pokes} refetch signals for 5 requests × 3 events)`);
    const tree = serviceNode(svcStore.get('codex'), Date.now());
    assert.match(tree.children[0]!.children[0]!.description ?? '', /healthy/);
  });

  it('coalesces a burst of concurrent requests into a bounded number of store fetches and shows the final state', async () => {
    const { ctl, svcStore } = setup();
    const codex = await ctl.start('codex', 0);
    const url = codex.kind === 'running' ? codex.url : '';
    await svcStore.refresh('codex');
    let fetches = 0;
    const sub = svcStore.onDidChange((s) => s === 'codex' && fetches++);
    let webviewRuns = 0;
    const both = ctl.subscribe(['codex', 'claude'], () => void webviewRuns++, { windowMs: 30 });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(`${url}/v1/responses`, { body: REQ })));
    assert.ok(answers.every((a) => a.status === 200));
    const elapsed = Date.now() - started;
    await until(() => svcStore.get('codex').snapshot?.snapshot.recent.length === 20, 3000, 'the final state reaches the store');
    await new Promise((r) => setTimeout(r, 100));
    // 20 requests × 3 state events each; one fetch per 30 ms window at most, plus the trailing one.
    const bound = Math.ceil((Date.now() - started) / 30) + 2;
    assert.ok(fetches >= 1 && fetches <= bound && fetches < 60, `${fetches} fetches for 60 events in ${elapsed} ms`);
    assert.ok(webviewRuns >= 1 && webviewRuns <= bound && webviewRuns < 60, `${webviewRuns} runs of a two-service subscriber`);
    // refresh() waits for a fetch that started after it was called: it always sees the newest data.
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
    await svcStore.refresh('codex');
    assert.equal(svcStore.get('codex').snapshot?.snapshot.recent.length, 21);
    sub.dispose();
    both.dispose();
    const before = webviewRuns;
    await ctl.stop('codex');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(webviewRuns, before, 'a disposed subscription never runs again');
  });

  it('restarts only the listener whose port changed', async () => {
    const { ctl } = setup();
    const codex = await ctl.start('codex', 0);
    await ctl.start('claude', 0);
    const before = ctl.host!.listeners.find((l) => l.service === 'codex');
    const again = await ctl.start('claude', 0);
    assert.equal(again.kind, 'running');
    assert.deepEqual(ctl.host!.listeners.find((l) => l.service === 'codex'), before);
    assert.equal(ctl.status('codex'), codex, 'codex status object untouched');
  });

  it('turns a taken port into a failed status and keeps the other service and the store working', async () => {
    const { ctl, svcStore } = setup();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as { port: number }).port;
    const st = await ctl.start('claude', port);
    assert.equal(st.kind, 'failed');
    assert.equal(st.kind === 'failed' && st.code, 'EADDRINUSE');
    assert.equal(ctl.client('claude'), undefined);
    assert.equal((await ctl.start('codex', 0)).kind, 'running');
    await svcStore.refreshAll();
    assert.equal(svcStore.get('claude').status.kind, 'failed');
    assert.ok(svcStore.get('codex').detail);
  });

  it('attaches to a proxy of another process through its admin API and polls it', async () => {
    const other: TestProxy = await startProxy(config(`${up.url}/a`, `${up.url}/b`, `${up.url}/c`), { services: ['codex'], requestLog: false });
    cleanups.push(() => other.close());
    const { ctl, svcStore } = setup(undefined, { pollMs: 40 });
    const port = Number(new URL(other.url('codex')).port);
    const st = await ctl.attach('codex', port);
    assert.deepEqual(st, { kind: 'attached', url: `http://127.0.0.1:${port}`, port });
    let polls = 0;
    ctl.subscribe('codex', () => polls++);
    await until(() => polls >= 2, 3000, 'two polls');
    await ctl.client('codex')!.setGlobalConfig('backup');
    assert.equal(other.host.services.codex.state.getGlobalConfig(), 'backup', 'change reached the other proxy');
    await until(() => svcStore.get('codex').detail?.global_override === 'backup', 3000, 'store sees the pin');
    await ctl.stop('codex');
    await new Promise((r) => setTimeout(r, 80)); // the status change itself signals once
    const settled = polls;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(polls, settled, 'polling stops after detaching');
    assert.equal(ctl.status('codex').kind, 'stopped');
  });

  it('reports a broken config once as hostError and still answers status', async () => {
    const { ctl, svcStore } = setup('version = 1\n[codex.configs.main]\nlevel = "high"\n');
    const st = await ctl.start('codex', 0);
    assert.equal(st.kind, 'failed');
    assert.ok(ctl.hostError);
    assert.match(st.kind === 'failed' ? st.message : '', /level/);
    await svcStore.refresh('codex');
    assert.equal(serviceNode(svcStore.get('codex'), Date.now()).description, 'failed to start');
  });

  it('sends a SecretStorage key upstream but never shows its value in the admin API', async () => {
    const { ctl, secrets, store } = setup();
    store.map.set(secretKey('work'), 'sk-secret-value-42');
    store.map.set(secretKey('unrelated'), 'nope');
    const host = (await ctl.ensureHost())!;
    await secrets.load(secretNamesOf(host.runtime.loaded.config));
    assert.deepEqual(secrets.names, ['work'], 'only names referenced by the config are loaded');
    const st = await ctl.start('codex', 0);
    const url = st.kind === 'running' ? st.url : '';
    const r = await call(`${url}/v1/responses`, { body: REQ });
    assert.equal(r.json<{ auth: string }>().auth, 'Bearer sk-secret-value-42');
    const client = ctl.client('codex')!;
    const detail = JSON.stringify(await client.configsDetail());
    const snap = JSON.stringify(await client.snapshot());
    assert.match(detail, /secret:work/);
    assert.doesNotMatch(detail + snap, /sk-secret-value-42/);
    await secrets.set('work', 'sk-rotated');
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).json<{ auth: string }>().auth, 'Bearer sk-rotated');
    store.map.delete(secretKey('work'));
    assert.equal(await secrets.refreshKey(secretKey('work')), true);
    assert.equal(await secrets.refreshKey('someone.else'), false);
    assert.match(JSON.stringify(await client.configsDetail()), /missing_secret:work/);
  });

  it('stops every listener and frees the ports on dispose', async () => {
    const { ctl } = setup();
    const st = await ctl.start('codex', 0);
    const port = st.kind === 'running' ? st.port : 0;
    await ctl.dispose();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => probe.close(r));
  });
});

/** Whether something accepts TCP connections on the loopback port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('host proxy controller: concurrent lifecycle calls are serialized', () => {
  const root = mkdtempSync(join(tmpdir(), 'host-race-'));
  let up: FakeUpstream;
  let n = 0;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, OK));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(async () => {
    await up.close();
    rmSync(root, { recursive: true, force: true });
  });

  function controller(): ProxyController {
    const dir = join(root, `r${n++}`);
    const home = join(dir, 'helper');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.toml'), config(`${up.url}/a`, `${up.url}/b`, `${up.url}/c`));
    const ctl = new ProxyController({
      log: silentLogger,
      throttleMs: 30,
      createHost: () => new ProxyHost({ home, codexHome: join(dir, 'codex'), claudeHome: join(dir, 'claude'), env: {}, log: silentLogger,
        secrets: () => undefined, requestLog: false, healthChecks: new HealthChecker({}, silentLogger) }),
    });
    cleanups.push(() => ctl.dispose());
    return ctl;
  }

  it('stop and start issued together (enabled toggled off and on) end running with exactly one listener', async () => {
    const ctl = controller();
    const port = await freePort();
    assert.equal((await ctl.start('codex', port)).kind, 'running');
    const [, st] = await Promise.all([ctl.stop('codex'), ctl.start('codex', port)]);
    assert.equal(st.kind, 'running');
    assert.equal(ctl.status('codex').kind, 'running');
    assert.equal(ctl.host!.listeners.filter((l) => l.service === 'codex').length, 1);
    await ctl.stop('codex');
    assert.equal(ctl.status('codex').kind, 'stopped');
    assert.equal(await accepting(port), false, 'Stop still stops it afterwards');
  });

  it('two starts of the same service on the same port end running (no EADDRINUSE against itself)', async () => {
    const ctl = controller();
    const port = await freePort();
    const [a, b] = await Promise.all([ctl.start('codex', port), ctl.start('codex', port)]);
    assert.equal(a.kind, 'running');
    assert.equal(b.kind, 'running');
    assert.equal(ctl.status('codex').kind, 'running');
    assert.equal(ctl.host!.listeners.length, 1);
    assert.equal(await accepting(port), true);
  });

  it('disposing while a start is pending leaves no listener behind', async () => {
    const ctl = controller();
    const port = await freePort();
    const pending = ctl.start('codex', port);
    await ctl.dispose();
    await pending;
    assert.notEqual(ctl.status('codex').kind, 'running');
    assert.equal(await accepting(port), false, 'the port is free again');
    assert.equal((await ctl.start('codex', port)).kind, 'failed', 'no new proxy after dispose');
    assert.equal(await accepting(port), false);
  });

  it('rebuilding the host (config home change) during a pending start keeps one live listener', async () => {
    const ctl = controller();
    const port = await freePort();
    const first = ctl.start('codex', port);
    const rebuilt = ctl.disposeHost().then(() => ctl.start('codex', port));
    await first;
    assert.equal((await rebuilt).kind, 'running');
    assert.equal(ctl.host!.listeners.length, 1);
    assert.equal(await accepting(port), true);
  });

  it('gives Connect only a port our proxy serves', async () => {
    const ctl = controller();
    const held = new Set<Socket>();
    const blocker: Server = createServer((c) => held.add(c)); // another program: accepts, never answers
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => {
      for (const c of held) c.destroy();
      blocker.close(r);
    }));
    const taken = (blocker.address() as { port: number }).port;
    const failed = await ctl.start('codex', taken);
    assert.equal(failed.kind, 'failed');
    assert.equal(await servedPort(failed, taken, isProxyListening), undefined, 'another program holds the port');
    assert.equal(await servedPort({ kind: 'stopped' }, await freePort(), isProxyListening), undefined, 'nothing listens');
    const st = await ctl.start('claude', 0);
    const port = st.kind === 'running' ? st.port : -1;
    assert.equal(await servedPort(st, 1, isProxyListening), port, 'running: its own port');
    assert.equal(await servedPort({ kind: 'stopped' }, port, isProxyListening), port, 'a codex-helper of another process');
  });

  it('waits for health checks and drops a proxy that stops answering instead of failing', async () => {
    const ctl = controller();
    const st = await ctl.start('codex', 0);
    const client = ctl.client('codex')!;
    const r = await client.startHealthChecks('all');
    const gone = new AdminClient(`http://127.0.0.1:${await freePort()}`);
    const runs: HealthRun[] = [
      { service: 'codex', client, names: [...r.started, ...r.already_running] },
      { service: 'claude', client: gone, names: ['cl'] },
    ];
    const dropped: string[] = [];
    const rounds: number[] = [];
    const tally = await waitForHealthChecks(runs, { intervalMs: 20, onProgress: (done) => rounds.push(done), onDrop: (l) => dropped.push(l.service) });
    assert.deepEqual(dropped, ['claude']);
    assert.deepEqual(tally.runs.map((x) => x.service), ['codex']);
    assert.equal(tally.ok, 3, 'the three codex upstreams answered');
    assert.equal(st.kind, 'running');
    await ctl.stop('codex');
    const none = await waitForHealthChecks([runs[0]!], { onProgress: () => undefined, onDrop: () => undefined });
    assert.deepEqual(none.runs, [], 'a stopped proxy ends the wait with no runs, no rejection');
  });
});

describe('workspace pin setting vs the user\'s global pin', () => {
  it('decides set / clear / keep', () => {
    assert.deepEqual(workspacePinStep({ atStart: true }), { action: { kind: 'keep' }, remember: undefined }, 'no setting at start: never cleared');
    assert.deepEqual(workspacePinStep({ atStart: true, applied: 'b', current: 'b' }), { action: { kind: 'keep' }, remember: 'b' });
    assert.deepEqual(workspacePinStep({ atStart: true, setting: 'b' }), { action: { kind: 'set', name: 'b' }, remember: 'b' });
    assert.deepEqual(workspacePinStep({ atStart: false, setting: 'c', applied: 'b', current: 'b' }), { action: { kind: 'set', name: 'c' }, remember: 'c' });
    assert.deepEqual(workspacePinStep({ atStart: false, applied: 'b', current: 'b' }), { action: { kind: 'clear' }, remember: undefined }, 'removing the setting clears what it set');
    assert.deepEqual(workspacePinStep({ atStart: false, applied: 'b', current: 'main' }), { action: { kind: 'keep' }, remember: undefined }, 'pinned by hand since');
    assert.deepEqual(workspacePinStep({ atStart: false, current: 'main' }), { action: { kind: 'keep' }, remember: undefined }, 'never set by the setting');
  });

  describe('on a real proxy', () => {
    const root = mkdtempSync(join(tmpdir(), 'host-pin-'));
    let proxy: TestProxy;
    const memory = new Map<string, unknown>();
    const mem = { get: (k: string) => memory.get(k), update: async (k: string, v: unknown) => { if (v === undefined) memory.delete(k); else memory.set(k, v); } };
    const key = 'codexHelper.appliedPin.codex';

    before(async () => {
      proxy = await startProxy(config('http://127.0.0.1:9/a', 'http://127.0.0.1:9/b', 'http://127.0.0.1:9/c'), { services: ['codex'], requestLog: false });
    });
    after(async () => {
      await proxy.close();
      rmSync(root, { recursive: true, force: true });
    });

    it('keeps a pin set by hand when a listener starts without the setting', async () => {
      const client = new AdminClient(proxy.url('codex'));
      await client.setGlobalConfig('backup');
      assert.deepEqual(await syncWorkspacePin({ client, setting: undefined, memory: mem, key, atStart: true }), { kind: 'keep' });
      assert.equal((await client.configsDetail()).global_override, 'backup');
    });

    it('clears on setting removal only what the setting applied and is still in force', async () => {
      const client = new AdminClient(proxy.url('codex'));
      await syncWorkspacePin({ client, setting: 'main', memory: mem, key, atStart: true });
      assert.equal((await client.configsDetail()).global_override, 'main');
      assert.equal(memory.get(key), 'main');
      assert.deepEqual(await syncWorkspacePin({ client, setting: undefined, memory: mem, key, atStart: false }), { kind: 'clear' });
      assert.equal((await client.configsDetail()).global_override ?? null, null);
      assert.equal(memory.has(key), false);

      await syncWorkspacePin({ client, setting: 'main', memory: mem, key, atStart: false });
      await client.setGlobalConfig('backup'); // the user pins by hand afterwards
      assert.deepEqual(await syncWorkspacePin({ client, setting: undefined, memory: mem, key, atStart: false }), { kind: 'keep' });
      assert.equal((await client.configsDetail()).global_override, 'backup');
      assert.equal(memory.has(key), false, 'no longer ours');
    });
  });
});

describe('secret names in a config', () => {
  it('collects auth_token_secret and api_key_secret of both services, unique and sorted', () => {
    const up = (auth: Record<string, string>) => ({ base_url: 'x', auth, tags: {}, supported_models: {}, model_mapping: {} });
    const cfg = (ups: ReturnType<typeof up>[]) => ({ name: 'c', enabled: true, level: 1, upstreams: ups });
    const names = secretNamesOf({
      codex: { configs: { a: cfg([up({ auth_token_secret: 'z' }), up({ api_key_secret: 'a' })]) } },
      claude: { configs: { b: cfg([up({ api_key_secret: 'z' }), up({ auth_token_env: 'E' })]) } },
      retry: {},
    });
    assert.deepEqual(names, ['a', 'z']);
  });
});
