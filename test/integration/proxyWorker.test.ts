// The proxy in a worker thread, driven through the same ProxyController the extension uses: secrets cross in
// memory only, log lines come back, a crash answers in-flight requests, restarts the worker on the same ports and
// the controller's status follows.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProxyController } from '../../src/host/proxyController';
import type { ServiceStatus } from '../../src/host/proxyController';
import { startProxyWorker } from '../../src/host/proxyWorkerClient';
import type { ProxyWorkerClient, ProxyWorkerOptions } from '../../src/host/proxyWorkerClient';
import { SecretCache, secretKey } from '../../src/host/secretCache';
import type { SecretStore } from '../../src/host/secretCache';
import { YOUNG_GENERATION_MB } from '../../src/proxy/heapLimits';
import type { Logger } from '../../src/proxy/logger';
import type { WireError } from '../../src/proxy/workerProtocol';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';

const SCRIPT = resolve(__dirname, '../../../dist/proxyWorker.js');
const REQ = JSON.stringify({ model: 'gpt-5', input: 'hi', stream: false });

class MemorySecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(k: string) { return this.map.get(k); }
  async store(k: string, v: string) { this.map.set(k, v); }
  async delete(k: string) { this.map.delete(k); }
}

function configFor(url: string): string {
  return `version = 1
[codex]
active = "main"
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${url}"
auth = { auth_token_secret = "work" }
`;
}

/** The rows of `home`'s requests.jsonl so far. */
function logRows(home: string): Array<{ path: string; status_code: number; error_class?: string }> {
  const file = join(home, 'logs', 'requests.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { path: string; status_code: number; error_class?: string });
}

describe('proxy worker thread (dist/proxyWorker.js behind ProxyController)', function () {
  this.timeout(30_000);
  const root = mkdtempSync(join(tmpdir(), 'proxy-worker-'));
  let up: FakeUpstream;
  let n = 0;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  before(async function () {
    if (!existsSync(SCRIPT)) this.skip();
    up = await startUpstream((req, res) => json(res, 200, { id: 'r', output: [], auth: req.headers['authorization'] ?? null }));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  after(async () => {
    await up?.close();
    rmSync(root, { recursive: true, force: true });
  });

  function setup(text?: string, extra: Partial<ProxyWorkerOptions> = {}) {
    const dir = join(root, `w${n++}`);
    const home = join(dir, 'helper');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.toml'), text ?? configFor(`${up.url}/v1`));
    const store = new MemorySecrets();
    store.map.set(secretKey('work'), 'sk-worker-secret-1');
    const secrets = new SecretCache(store);
    const lines: string[] = [];
    const log: Logger = { debug: (m) => lines.push(`D ${m}`), info: (m) => lines.push(`I ${m}`), warn: (m) => lines.push(`W ${m}`), error: (m) => lines.push(`E ${m}`) };
    const crashes: Array<{ error: WireError; willRestart: boolean }> = [];
    const statuses: ServiceStatus['kind'][] = [];
    const ctl = new ProxyController<ProxyWorkerClient>({
      log,
      throttleMs: 20,
      createHost: () => startProxyWorker({
        script: SCRIPT,
        init: { home, codexHome: join(dir, 'codex'), claudeHome: join(dir, 'claude'), env: {}, logLevel: 'info', changeWindowMs: 20 },
        log,
        secrets,
        onCrash: (error, willRestart) => crashes.push({ error, willRestart }),
        ...extra,
      }),
    });
    ctl.onDidChangeStatus((s) => s === 'codex' && statuses.push(ctl.status(s).kind));
    cleanups.push(() => ctl.dispose());
    return { ctl, store, secrets, lines, crashes, statuses, home };
  }

  async function running(ctl: ProxyController<ProxyWorkerClient>): Promise<string> {
    const st = await ctl.start('codex', 0);
    assert.equal(st.kind, 'running', JSON.stringify(st));
    return st.kind === 'running' ? st.url : '';
  }

  it('serves requests from the worker with the secret it was handed, and rotates it in memory', async () => {
    const { ctl, secrets, lines, home } = setup();
    const url = await running(ctl);
    assert.notEqual(ctl.host!.threadId, undefined);
    assert.equal(ctl.host!.resourceLimits?.maxYoungGenerationSizeMb, YOUNG_GENERATION_MB, 'the young generation is capped');
    const r = await call(`${url}/v1/responses`, { body: REQ });
    assert.equal(r.status, 200);
    assert.equal(r.json<{ auth: string }>().auth, 'Bearer sk-worker-secret-1');
    await secrets.set('work', 'sk-worker-rotated');
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).json<{ auth: string }>().auth, 'Bearer sk-worker-rotated');
    const client = ctl.client('codex')!;
    const seen = JSON.stringify(await client.configsDetail()) + JSON.stringify(await client.snapshot());
    assert.match(seen, /secret:work/);
    assert.doesNotMatch(seen, /sk-worker/);
    await until(() => lines.some((l) => l.startsWith('I ')), 3000, 'a worker log line in our logger');
    assert.ok(!lines.join('\n').includes('sk-worker'), 'no secret in the log');
    // Nothing under the config home holds a secret value.
    await ctl.stop('codex');
    const files: string[] = [];
    const walk = (d: string) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else files.push(p); } };
    walk(home);
    for (const f of files) assert.ok(!readFileSync(f, 'utf8').includes('sk-worker'), `${f} holds no secret`);
  });

  it('feeds the change signal from the worker and refetches through the admin API', async () => {
    const { ctl } = setup();
    const url = await running(ctl);
    let pokes = 0;
    ctl.subscribe('codex', () => pokes++);
    for (let i = 0; i < 3; i++) assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
    await until(() => pokes > 0, 3000, 'a change signal');
    const snap = await ctl.client('codex')!.snapshot();
    assert.equal(snap.snapshot.recent.length, 3);
  });

  it('reports a broken config as hostError with its stable code', async () => {
    const { ctl } = setup('version = 1\n[codex.configs.main]\nlevel = "high"\n');
    const st = await ctl.start('codex', 0);
    assert.equal(st.kind, 'failed');
    assert.equal((ctl.hostError as { code?: string }).code, 'CONFIG_INVALID');
    assert.match(ctl.hostError!.message, /level/);
  });

  it('reloads on request and reports a broken file without dropping the last good config', async () => {
    const { ctl, home } = setup();
    const url = await running(ctl);
    writeFileSync(join(home, 'config.toml'), 'version = 1\n[codex.configs.main]\nlevel = "high"\n');
    const r = await ctl.host!.forceReload();
    assert.equal(r.reloaded, false);
    assert.match(r.error?.message ?? '', /level/);
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
  });

  it('answers an in-flight request with a 502 on a crash, restarts on the same port, and the status follows', async () => {
    const { ctl, crashes, statuses, home } = setup();
    const url = await running(ctl);
    const port = Number(new URL(url).port);
    const before = ctl.host!.threadId;
    let release: (() => void) | undefined;
    up.handler = (_req, res) => {
      release = () => json(res, 200, { id: 'late', output: [] });
    };
    try {
      const inFlight = call(`${url}/v1/responses`, { body: REQ });
      await until(() => release !== undefined, 3000, 'the request waiting at the upstream');
      ctl.host!.crash('boom from a test');
      const r = await inFlight;
      assert.equal(r.status, 502);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'proxy_restarting');
    } finally {
      release?.();
      up.handler = (req, res) => json(res, 200, { id: 'r', output: [], auth: req.headers['authorization'] ?? null });
    }
    await until(() => statuses.includes('failed'), 5000, 'status failed while restarting');
    await until(() => ctl.status('codex').kind === 'running', 5000, 'status running again');
    const st = ctl.status('codex');
    assert.equal(st.kind === 'running' ? st.port : 0, port, 'same port');
    assert.notEqual(ctl.host!.threadId, before, 'a new worker');
    assert.equal(ctl.host!.resourceLimits?.maxYoungGenerationSizeMb, YOUNG_GENERATION_MB, 'the new worker has the same cap');
    assert.equal(crashes.length, 1);
    assert.equal(crashes[0]!.willRestart, true);
    const again = await call(`${url}/v1/responses`, { body: REQ });
    assert.equal(again.status, 200);
    assert.equal(again.json<{ auth: string }>().auth, 'Bearer sk-worker-secret-1', 'the new worker got the secret');
    // The dead worker recorded the request it answered on its way out, as its client got it.
    assert.deepEqual(logRows(home).filter((r) => r.error_class === 'proxy_restarting').map((r) => [r.path, r.status_code]), [['/v1/responses', 502]]);
  });

  it('a crashing worker writes the records it still held (waiting accounting, the log batch) before it exits', async () => {
    const { ctl, home, crashes } = setup();
    const url = await running(ctl);
    // Answered just before the crash: its line waits in the log's batch (written every 200 ms) when the crash comes.
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
    ctl.host!.crash('boom from a test');
    await until(() => crashes.length === 1, 5000, 'the crash reported');
    const file = join(home, 'logs', 'requests.jsonl');
    assert.ok(existsSync(file), 'the log was written before the worker exited');
    const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status_code: number; path: string });
    assert.deepEqual(rows.map((r) => [r.path, r.status_code]), [['/v1/responses', 200]]);
  });

  it('ends a running SSE stream with the API error event when the worker crashes', async () => {
    const { ctl, home } = setup();
    const url = await running(ctl);
    let hang: ServerResponse | undefined;
    up.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: response.created\ndata: {"type":"response.created"}\n\n');
      hang = res;
    };
    try {
      const body = JSON.stringify({ model: 'gpt-5', input: 'hi', stream: true });
      const text = await new Promise<string>((resolve, reject) => {
        const req = request(`${url}/v1/responses`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
          let seen = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            seen += c;
            if (seen.includes('response.created') && !seen.includes('crashed')) ctl.host!.crash('crashed on purpose');
          });
          res.on('end', () => resolve(seen));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.match(text, /event: response\.failed/);
      assert.match(text, /restarting/);
      await until(() => logRows(home).length > 0, 5000, 'the stream recorded');
      assert.deepEqual(logRows(home).map((r) => [r.status_code, r.error_class]), [[200, 'proxy_restarting']]);
    } finally {
      hang?.end();
      up.handler = (req, res) => json(res, 200, { id: 'r', output: [], auth: req.headers['authorization'] ?? null });
    }
    await until(() => ctl.status('codex').kind === 'running', 5000, 'restored');
  });

  it('restarts a terminated worker on the same port', async () => {
    const { ctl } = setup();
    const url = await running(ctl);
    await ctl.host!.kill();
    await until(() => ctl.status('codex').kind === 'failed', 5000, 'lost');
    await until(() => ctl.status('codex').kind === 'running', 5000, 'restored');
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
  });

  it('stops restarting a worker that keeps crashing', async () => {
    const { ctl, crashes } = setup(undefined, { maxCrashes: 1 });
    await running(ctl);
    await ctl.host!.kill();
    await until(() => ctl.status('codex').kind === 'running', 5000, 'first restart');
    await ctl.host!.kill();
    await until(() => crashes.length === 2, 5000, 'second crash');
    assert.equal(crashes[1]!.willRestart, false);
    await new Promise((r) => setTimeout(r, 300));
    const st = ctl.status('codex');
    assert.equal(st.kind, 'failed');
    assert.equal(st.kind === 'failed' ? st.code : '', 'WORKER_CRASHED');
    // Start Proxy after giving up builds a fresh worker.
    const url = await running(ctl);
    assert.equal((await call(`${url}/v1/responses`, { body: REQ })).status, 200);
  });

  it('stop and dispose end the worker and free the port', async () => {
    const { ctl } = setup();
    const url = await running(ctl);
    await ctl.stop('codex');
    await assert.rejects(call(`${url}/v1/responses`, { body: REQ }));
    const again = await running(ctl);
    await ctl.dispose();
    await assert.rejects(call(`${again}/v1/responses`, { body: REQ }));
    assert.equal(ctl.host, undefined);
  });
});
