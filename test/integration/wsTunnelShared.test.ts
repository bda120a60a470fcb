// The WebSocket tunnel shares the HTTP pipeline's header rules, credential injection and request record
// (src/proxy/headers.ts, credentials.ts, requestRecord.ts).
import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy, until } from '../helpers/servers';
import type { TestProxy } from '../helpers/servers';

describe('WebSocket tunnel: same rules as HTTP', () => {
  let proxy: TestProxy | undefined;
  let ws: Server | undefined;
  afterEach(async () => {
    await proxy?.close();
    ws?.close();
    proxy = undefined;
  });

  it('strips hop-by-hop, Connection-named and proxy headers, injects the configured key, and logs the same row', async () => {
    let seen: IncomingHttpHeaders = {};
    ws = createServer();
    ws.on('upgrade', (req, socket) => {
      seen = req.headers;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    await new Promise<void>((r) => ws!.listen(0, '127.0.0.1', () => r()));
    const port = (ws.address() as { port: number }).port;
    proxy = await startProxy(
      `version = 1\n[codex]\nactive = "main"\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\n` +
        `base_url = "http://127.0.0.1:${port}/v1"\nauth = { auth_token = "sk-configured-token-123456" }\n`,
      { services: ['codex'] },
    );
    const sock = connect(Number(new URL(proxy.url()).port), '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write('GET /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade, x-hop-secret\r\n' +
      'x-hop-secret: 1\r\nproxy-authorization: Basic cA==\r\nx-codex-helper-token: a-long-enough-token-123\r\n' +
      'authorization: Bearer client-key\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await until(() => Buffer.concat(got).toString().includes('101 Switching Protocols'));
    assert.equal(seen['authorization'], 'Bearer sk-configured-token-123456', 'the configured credential replaces the client\'s');
    assert.equal(seen['upgrade'], 'websocket');
    assert.match(String(seen['connection']), /upgrade/i);
    assert.equal(seen['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
    for (const gone of ['x-hop-secret', 'proxy-authorization', 'x-codex-helper-token']) assert.equal(seen[gone], undefined, gone);
    sock.destroy();
    const svc = proxy.host.services.codex;
    await until(() => svc.state.listRecent(10).length === 1);
    await proxy.host.requestLog!.flush();
    const rows = readFileSync(join(proxy.home, 'logs', 'requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status_code, 101);
    assert.equal(rows[0].config_name, 'main');
    assert.equal(rows[0].error_class, 'websocket');
    assert.deepEqual(rows[0].auth_resolution, { authorization: 'inline', x_api_key: 'none' });
    assert.ok(!JSON.stringify(rows[0]).includes('sk-configured-token'), 'no credential value in the row');
  });
});

describe('WebSocket tunnel: a graceful stop', () => {
  let proxy: TestProxy | undefined;
  let ws: Server | undefined;
  afterEach(async () => {
    await proxy?.close();
    ws?.close();
    proxy = undefined;
  });

  /** An echo upstream behind the proxy, and a client socket whose upgrade went through. */
  async function openTunnel(): Promise<{ sock: ReturnType<typeof connect>; got: Buffer[]; closed: Promise<void> }> {
    ws = createServer();
    ws.on('upgrade', (_req, socket) => {
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    await new Promise<void>((r) => ws!.listen(0, '127.0.0.1', () => r()));
    const port = (ws.address() as { port: number }).port;
    proxy = await startProxy(`version = 1\n[codex]\nactive = "main"\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\n` +
      `base_url = "http://127.0.0.1:${port}/v1"\n`, { services: ['codex'] });
    const sock = connect(Number(new URL(proxy.url()).port), '127.0.0.1');
    sock.on('error', () => undefined);
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write('GET /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
      'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await until(() => Buffer.concat(got).toString().includes('101 Switching Protocols'));
    return { sock, got, closed };
  }

  it('closes an idle tunnel (a Codex socket between turns) instead of waiting out the grace period', async () => {
    const t = await openTunnel();
    t.sock.write('frame-1');
    await until(() => Buffer.concat(t.got).toString().includes('frame-1'));
    const t0 = Date.now();
    await proxy!.host.stop('codex', 10_000);
    const took = Date.now() - t0;
    await t.closed;
    assert.ok(took < 5000, `stopped after ${took} ms with a grace of 10000`);
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    assert.equal(proxy!.host.services.codex.state.listRecent(1)[0]!.status_code, 101);
  });

  it('waits for a tunnel still carrying bytes, and closes it once it goes quiet', async () => {
    const t = await openTunnel();
    // Frames every 200 ms for 2 s: the stop starts after the first and must let all ten through.
    let sent = 0;
    const sending = new Promise<void>((resolve) => {
      const next = () => {
        t.sock.write(`frame-${++sent};`);
        if (sent < 10) setTimeout(next, 200);
        else resolve();
      };
      next();
    });
    await until(() => Buffer.concat(t.got).toString().includes('frame-1;'));
    const stopped = proxy!.host.stop('codex', 10_000).then(() => Date.now());
    await sending;
    const lastSentAt = Date.now();
    await until(() => Buffer.concat(t.got).toString().includes('frame-10;'), 3000, 'every frame echoed');
    const stoppedAt = await stopped;
    await t.closed;
    assert.ok(stoppedAt >= lastSentAt, 'the stop waited for the last frame');
    assert.ok(stoppedAt - lastSentAt < 5000, `closed ${stoppedAt - lastSentAt} ms after the last frame`);
  });
});
