// The listening socket as an attacker on 127.0.0.1 sees it: raw sockets that never finish their headers, two Host
// headers, more connections than the cap; and the long answer that the receive timeouts must not cut.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { startProxy, startUpstream, sse } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';
import type { Logger } from '../../src/proxy/logger';

function config(url: string): string {
  return `version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "${url}"\n`;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Opens a raw socket; resolves with everything it received and how long it stayed open. */
function rawSocket(port: number): { sock: Socket; closed: Promise<{ text: string; ms: number }> } {
  const t0 = Date.now();
  const sock = connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d) => (text += d.toString('latin1')));
  sock.on('error', () => undefined);
  const closed = new Promise<{ text: string; ms: number }>((resolve) => sock.on('close', () => resolve({ text, ms: Date.now() - t0 })));
  return { sock, closed };
}

describe('listener limits', () => {
  let up: FakeUpstream;
  let proxy: TestProxy | undefined;
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  before(async () => {
    up = await startUpstream(async (_req, res) => {
      // Longer than every receive timeout below: an answer is never bounded by them.
      await sse(res, ['data: {"type":"response.created"}\n\n', 'data: {"type":"response.output_text.delta"}\n\n', 'data: [DONE]\n\n'], 400);
    });
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    warnings.length = 0;
  });
  after(() => up.close());

  it('closes a socket that never finishes its headers, even one trickling a byte at a time (slowloris)', async function () {
    this.timeout(10000);
    proxy = await startProxy(config(up.url), { limits: { headersTimeoutMs: 600, requestTimeoutMs: 1500, checkIntervalMs: 100 } });
    const port = portOf(proxy.url());
    const silent = rawSocket(port);
    silent.sock.write('POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = rawSocket(port);
    const head = 'GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ' + 'a'.repeat(100);
    let i = 0;
    const timer = setInterval(() => {
      if (i < head.length && !trickle.sock.destroyed) trickle.sock.write(head[i++]!);
    }, 50);
    const [a, b] = await Promise.all([silent.closed, trickle.closed]);
    clearInterval(timer);
    for (const r of [a, b]) {
      assert.ok(r.ms < 4000, `held for ${r.ms} ms`);
      assert.match(r.text, /^HTTP\/1\.1 408/);
    }
  });

  it('closes a request whose body does not arrive within the request timeout (408)', async function () {
    this.timeout(10000);
    proxy = await startProxy(config(up.url), { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 100 } });
    const before = up.requests.length;
    const r = rawSocket(portOf(proxy.url()));
    r.sock.write('POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model"');
    const { text, ms } = await r.closed;
    assert.ok(ms < 4000, `held for ${ms} ms`);
    assert.match(text, /^HTTP\/1\.1 408/);
    assert.equal(up.requests.length, before, 'nothing was sent upstream');
  });

  it('does not cut a long answer: the request timeout bounds receiving the request, not answering it', async function () {
    this.timeout(10000);
    proxy = await startProxy(config(up.url), { limits: { headersTimeoutMs: 200, requestTimeoutMs: 300, checkIntervalMs: 50 } });
    const t0 = Date.now();
    const res = await fetch(`${proxy.url()}/v1/responses`, { method: 'POST', body: '{"model":"m","stream":true}' });
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 >= 800, 'the answer outlived both timeouts');
    assert.match(text, /\[DONE\]/);
  });

  it('refuses a request with two Host headers (400), on HTTP and on upgrades', async () => {
    proxy = await startProxy(config(up.url));
    const port = portOf(proxy.url());
    const before = up.requests.length;
    for (const extra of ['', 'Connection: Upgrade\r\nUpgrade: websocket\r\n']) {
      const r = rawSocket(port);
      r.sock.write(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: evil.example\r\n${extra}\r\n`);
      const { text } = await r.closed;
      assert.match(text, /^HTTP\/1\.1 400/, text);
      assert.match(text, /more than one Host header/);
    }
    assert.equal(up.requests.length, before, 'nothing reached the upstream');
  });

  it('caps open connections and says so in the log', async function () {
    this.timeout(10000);
    proxy = await startProxy(config(up.url), { log, limits: { maxConnections: 5 } });
    const port = portOf(proxy.url());
    const held = Array.from({ length: 5 }, () => rawSocket(port));
    await Promise.all(held.map((h) => new Promise((r) => h.sock.once('connect', r))));
    await new Promise((r) => setTimeout(r, 100));
    const extra = rawSocket(port);
    const r = await extra.closed;
    assert.ok(r.ms < 2000, 'the sixth connection is closed at once');
    assert.equal(r.text, '');
    assert.ok(warnings.some((w) => /connection limit reached \(5 open/.test(w)), warnings.join('\n'));
    for (const h of held) h.sock.destroy();
    await Promise.all(held.map((h) => h.closed));
    // Below the cap again: requests are served.
    await new Promise((r) => setTimeout(r, 100));
    const ok = await fetch(`${proxy.url()}/__codex_helper/api/v1/capabilities`);
    assert.equal(ok.status, 200);
  });
});
