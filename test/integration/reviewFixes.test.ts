import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { call, json, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

function config(url: string, extra = '', backup = `${url}/backup`): string {
  return `version = 1
[codex]
active = "main"
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${url}"
${extra}
[codex.configs.backup]
level = 2
[[codex.configs.backup.upstreams]]
base_url = "${backup}"
[retry.upstream]
backoff_ms = 1
jitter_ms = 0
`;
}

/** Sends a raw upgrade request and resolves with the first response bytes (or '' on close). */
function upgrade(port: number, path = '/v1/responses', extra = ''): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = connect(port, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => {
      text += d.toString();
      if (text.includes('\r\n\r\n')) {
        sock.destroy();
        resolve({ text, ms: Date.now() - t0 });
      }
    });
    sock.on('close', () => resolve({ text, ms: Date.now() - t0 }));
    sock.write(`GET ${path} HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`);
  });
}

describe('regressions from the core review', () => {
  let up: FakeUpstream;
  let proxy: TestProxy | undefined;
  before(async () => {
    up = await startUpstream((_q, res) => json(res, 200, { ok: true, usage: { input_tokens: 1, output_tokens: 1 } }));
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  after(() => up.close());

  it('config names that exist on Object.prototype are unknown configs, not crashes', async () => {
    proxy = await startProxy(config(up.url));
    const api = `${proxy.url()}/__codex_helper/api/v1`;
    for (const name of ['constructor', 'toString', '__proto__']) {
      const g = await call(`${api}/overrides/global-config`, { body: JSON.stringify({ config_name: name }) });
      assert.equal(g.status, 400, name);
      const s = await call(`${api}/overrides/session/config`, { body: JSON.stringify({ session_id: 's', config_name: name }) });
      assert.equal(s.status, 400, name);
    }
    const h = (await call(`${api}/healthcheck/start`, { body: '{"config_names":["constructor"]}' })).json<{ missing: string[] }>();
    assert.deepEqual(h.missing, ['constructor']);
    assert.equal((await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' })).status, 200);
  });

  it('a client Expect: 100-continue does not reach the upstream nor cool it down', async () => {
    proxy = await startProxy(config(up.url));
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}', headers: { expect: '100-continue' } });
    assert.equal(r.status, 200);
    assert.equal(proxy.host.services.codex.lbStore.view()['main']!.upstreams[0]!.failure_count, 0);
  });

  it('config-meta with one valid and one invalid field changes nothing', async () => {
    proxy = await startProxy(config(up.url));
    const api = `${proxy.url()}/__codex_helper/api/v1`;
    const r = await call(`${api}/overrides/config-meta`, { body: '{"config_name":"backup","enabled":false,"level":42}' });
    assert.equal(r.status, 400);
    assert.deepEqual((await call(`${api}/overrides/config-meta`)).json(), {});
  });

  it('an unusable base_url is refused at load with file, line and key, and never reaches a request', async () => {
    await assert.rejects(startProxy(config('http://exa mple.invalid', '', up.url)),
      /config\.toml:6: codex\.configs\.main\.upstreams\[0\]\.base_url: expected an absolute http\(s\) URL/);
  });

  it('a WebSocket upgrade the upstream accepts but never answers is refused (426) within the timeout', async function () {
    this.timeout(15000);
    const silent = createServer();
    silent.on('upgrade', () => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    proxy = await startProxy(config(`http://127.0.0.1:${port}/v1`));
    const r = await upgrade(Number(new URL(proxy.url()).port));
    assert.match(r.text, /^HTTP\/1\.1 426/);
    assert.ok(r.ms < 12000, `${r.ms} ms`);
    silent.closeAllConnections();
    silent.close();
    await until(() => proxy!.host.services.codex.state.listActive().length === 0);
    assert.equal(proxy.host.services.codex.state.listRecent(1)[0]!.error_class, 'websocket_refused');
  });

  it('refuses (426) an upgrade when mapping, model filters or an effort override would be bypassed, and records it', async () => {
    proxy = await startProxy(config(`${up.url}/v1`, '[codex.configs.main.upstreams.model_mapping]\n"gpt-5" = "other"'));
    const r = await upgrade(Number(new URL(proxy.url()).port));
    assert.match(r.text, /^HTTP\/1\.1 426/);
    assert.match(r.text, /maps or filters models/);
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    const rec = proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.deepEqual([rec.status_code, rec.error_class, rec.path], [426, 'websocket_refused', '/v1/responses']);
    assert.equal(up.requests.filter((q) => q.headers['upgrade']).length, 0, 'nothing tunnelled');
  });

  it('requests cut off by shutdown are still written to requests.jsonl', async () => {
    const hang = await startUpstream(() => undefined);
    try {
      proxy = await startProxy(config(hang.url));
      const pending = call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' }).catch(() => undefined);
      await until(() => hang.requests.length === 1);
      await proxy.host.dispose(50);
      await pending;
      const lines = readFileSync(`${proxy.home}/logs/requests.jsonl`, 'utf8').trim().split('\n');
      assert.equal(lines.length, 1);
      assert.equal((JSON.parse(lines[0]!) as { error_class: string }).error_class, 'client_disconnected');
    } finally {
      await hang.close();
    }
  });
});
