import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/proxy/logger';
import { HealthChecker } from '../../src/proxy/healthcheck';
import { ProxyHost } from '../../src/proxy/proxyHost';
import { ProxyController } from '../../src/host/proxyController';
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
    const st = ctl.attach('codex', port);
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
    const host = ctl.ensureHost()!;
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
