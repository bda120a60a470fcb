// Remote mode on a real non-loopback address of this machine, and browser requests on the loopback listener.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListenError, ProxyHost } from '../../src/proxy/proxyHost';
import { silentLogger } from '../../src/proxy/logger';
import { call, json, startProxy, startUpstream } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

const TOKEN = 'remote-token-8c1d2e3f4a5b';

function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

function config(url: string): string {
  return `version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "${url}"\n`;
}

describe('remote mode', () => {
  let up: FakeUpstream;
  let root: string;
  let host: ProxyHost | undefined;
  const ip = lanAddress();
  before(async function () {
    if (!ip) this.skip();
    up = await startUpstream((_req, res) => json(res, 200, { ok: true }));
    root = mkdtempSync(join(tmpdir(), 'chp-remote-'));
    for (const d of ['helper', 'codex', 'claude']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'helper', 'config.toml'), config(up.url));
  });
  afterEach(async () => {
    await host?.dispose(0);
    host = undefined;
  });
  after(async () => {
    if (!ip) return;
    await up.close();
    rmSync(root, { recursive: true, force: true });
  });

  const make = (env: NodeJS.ProcessEnv) =>
    new ProxyHost({ home: join(root, 'helper'), codexHome: join(root, 'codex'), claudeHome: join(root, 'claude'), env, log: silentLogger, requestLog: false });

  it('will not listen on a non-loopback address without a long enough token', async () => {
    host = make({});
    await assert.rejects(host.listen('codex', { host: ip, port: 0, allowRemote: true }),
      (e: ListenError) => e.code === 'REMOTE_NEEDS_TOKEN' && /CODEX_HELPER_PROXY_TOKEN/.test(e.message));
    await host.dispose(0);
    host = make({ CODEX_HELPER_PROXY_TOKEN: 'short' });
    await assert.rejects(host.listen('codex', { host: ip, port: 0, allowRemote: true }), (e: ListenError) => e.code === 'TOKEN_INVALID');
  });

  it('needs the token on every route from a remote peer, keeps a Host allowlist and never forwards the token', async () => {
    host = make({ CODEX_HELPER_PROXY_TOKEN: TOKEN, CODEX_HELPER_ALLOWED_HOSTS: 'proxy.lan' });
    const l = await host.listen('codex', { host: ip, port: 0, allowRemote: true });
    const base = `http://${ip}:${l.port}`;
    const body = '{"model":"m"}';
    const none = await call(`${base}/v1/responses`, { body });
    assert.equal(none.status, 403);
    assert.match(none.text, /x-codex-helper-token/);
    assert.equal((await call(`${base}/v1/responses`, { body, headers: { 'x-codex-helper-token': TOKEN.slice(0, -1) + 'x' } })).status, 403);
    assert.equal((await call(`${base}/__codex_helper/api/v1/capabilities`)).status, 403, 'the admin API too');
    const before = up.requests.length;
    const ok = await call(`${base}/v1/responses`, { body, headers: { 'x-codex-helper-token': TOKEN } });
    assert.equal(ok.status, 200);
    assert.equal(up.requests.length, before + 1);
    assert.equal(up.requests.at(-1)!.headers['x-codex-helper-token'], undefined, 'the token is ours, not the upstream\'s');
    assert.equal((await call(`${base}/__codex_helper/api/v1/capabilities`, { headers: { 'x-codex-helper-token': TOKEN } })).status, 200);
    // Host allowlist: the bound address and configured names pass, anything else is DNS rebinding.
    const named = await call(`${base}/v1/responses`, { body, headers: { 'x-codex-helper-token': TOKEN, host: `proxy.lan:${l.port}` } });
    assert.equal(named.status, 200);
    const evil = await call(`${base}/v1/responses`, { body, headers: { 'x-codex-helper-token': TOKEN, host: 'evil.example' } });
    assert.equal(evil.status, 403);
    assert.match(evil.text, /Host header/);
  });
});

describe('browser requests', () => {
  let up: FakeUpstream;
  let proxy: TestProxy;
  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, { ok: true }));
    proxy = await startProxy(config(up.url));
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('refuses a page on another local port (a text/plain POST would spend the key) and cross-site fetches', async () => {
    const port = Number(new URL(proxy.url()).port);
    const before = up.requests.length;
    const page = await call(`${proxy.url()}/v1/responses`, {
      body: '{"model":"m"}',
      headers: { origin: 'http://localhost:8080', 'content-type': 'text/plain', 'sec-fetch-site': 'same-site' },
    });
    assert.equal(page.status, 403);
    const img = await call(`${proxy.url()}/v1/models`, { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(img.status, 403);
    assert.match(img.text, /Sec-Fetch-Site/);
    assert.equal(up.requests.length, before, 'nothing reached the upstream');
    // The proxy's own origin, a user-typed URL (none) and clients that send neither header pass.
    assert.equal((await call(`${proxy.url()}/v1/models`, { headers: { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' } })).status, 200);
    assert.equal((await call(`${proxy.url()}/v1/models`, { headers: { 'sec-fetch-site': 'none' } })).status, 200);
    assert.equal((await call(`${proxy.url()}/v1/models`)).status, 200);
  });
});
