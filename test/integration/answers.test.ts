// Answers that must be sent whatever is in them: an IDN base_url, a non-Latin-1 config name or path, a credential
// with a line break; and the fallback when an answer cannot be written as built.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { answerSafely } from '../../src/proxy/safeAnswer';
import { call, json, startProxy, startUpstream } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

describe('answers that cannot be written as built', () => {
  let up: FakeUpstream;
  let proxy: TestProxy | undefined;
  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, { ok: true }));
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  after(() => up.close());

  it('an IDN base_url, a non-Latin-1 config name and path still get an HTTP answer with an ASCII tried header', async () => {
    proxy = await startProxy(`version = 1
[codex.configs."日本"]
[[codex.configs."日本".upstreams]]
base_url = "http://exämple.invalid/v1"
[[codex.configs."日本".upstreams]]
base_url = "http://127.0.0.1:1/ünï/v1"
[retry.upstream]
max_attempts = 1
[retry.provider]
max_attempts = 1
`);
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' });
    assert.equal(r.status, 502);
    assert.equal(r.json<{ error: { type: string } }>().error.type, 'upstream_transport_error');
    const tried = String(r.headers['x-codex-helper-upstreams-tried']);
    assert.match(tried, /xn--exmple-cua\.invalid/, tried);
    assert.match(tried, /%E6%97%A5%E6%9C%AC#0/, 'the config name is percent-encoded');
    assert.match(tried, /\/%C3%BCn%C3%AF\/v1/);
    assert.match(r.text, /日本#0 http:\/\/exämple\.invalid\/v1/, 'the JSON body keeps the names as configured');
  });

  it('falls back to a 500 with a JSON body when the answer\'s headers cannot be encoded', async () => {
    const errors: unknown[] = [];
    const server = createServer((_req, res) => {
      answerSafely(res, 404, { 'x-bad': 'caf\u0100' }, Buffer.from('{"x":1}'), 'codex', (e) => errors.push(e));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const r = await call(`http://127.0.0.1:${port}/`);
    server.close();
    assert.equal(r.status, 500);
    assert.equal(r.json<{ error: { type: string } }>().error.type, 'proxy_internal_error');
    assert.equal(errors.length, 1);
  });
});

describe('credentials with a line break or NUL', () => {
  let up: FakeUpstream;
  let proxy: TestProxy | undefined;
  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, { ok: true }));
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  after(() => up.close());

  const cfg = (url: string) => `version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${url}/v1"
auth = { auth_token_env = "INJECTED_TOKEN" }
[codex.configs.backup]
level = 2
[[codex.configs.backup.upstreams]]
base_url = "${url}/backup"
`;

  it('are refused at load when inline', async () => {
    await assert.rejects(startProxy(`version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${up.url}"
auth = { auth_token = "sk-abc\\r\\nx-injected: 1" }
`), /codex\.configs\.main\.upstreams\[0\]\.auth\.auth_token: contains a line break or NUL/);
  });

  it('with nowhere else to go: 502, and the recorded request names the upstream it could not use', async () => {
    proxy = await startProxy(`version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${up.url}/v1"
auth = { auth_token_env = "INJECTED_TOKEN" }
`, { env: { INJECTED_TOKEN: 'sk-abcdefgh\r\nx-injected: yes' } });
    const before = up.requests.length;
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' });
    assert.equal(r.status, 502);
    assert.equal(up.requests.length, before, 'nothing was sent');
    const rec = proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.equal(rec.config_name, 'main');
    assert.equal(rec.upstream_base_url, `${up.url}/v1`);
  });

  it('from the environment are never sent: the upstream is skipped at once, over HTTP and WebSocket', async () => {
    proxy = await startProxy(cfg(up.url), { env: { INJECTED_TOKEN: 'sk-abcdefgh\r\nx-injected: yes' } });
    const before = up.requests.length;
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' });
    assert.equal(r.status, 200, 'served by the backup config');
    assert.equal(up.requests.length, before + 1);
    assert.equal(up.requests.at(-1)!.url, '/backup/v1/responses');
    assert.equal(up.requests.at(-1)!.headers['x-injected'], undefined);
    const chain = proxy.host.services.codex.state.listRecent(1)[0]!.retry!.upstream_chain;
    assert.ok(chain.some((c) => c.includes('credential_error')), chain.join('\n'));

    const port = Number(new URL(proxy.url()).port);
    const text = await new Promise<string>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      let t = '';
      sock.on('data', (d) => (t += d.toString()));
      sock.on('close', () => resolve(t));
      sock.write(`GET /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    });
    assert.match(text, /^HTTP\/1\.1 426/);
    assert.match(text, /INJECTED_TOKEN contains a line break or NUL/);
    assert.equal(up.requests.length, before + 1, 'no upgrade reached the upstream');
  });
});
