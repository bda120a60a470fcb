// The WebSocket tunnel shares the HTTP pipeline's header rules, credential injection and request record
// (src/proxy/headers.ts, credentials.ts, requestRecord.ts), and a graceful stop closes it once it is idle.
import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy, until } from '../helpers/servers';
import type { TestProxy } from '../helpers/servers';

describe('WebSocket tunnel', () => {
  let proxy: TestProxy | undefined;
  let ws: Server | undefined;
  afterEach(async () => {
    await proxy?.close();
    ws?.close();
    proxy = undefined;
  });

  /**
   * An echo upstream answering the upgrade with 101 (`seen` gets the headers it was sent), a proxy in front of it
   * (`upstreamToml`: more keys of the upstream's table), and a client socket whose upgrade went through.
   */
  async function openTunnel(o: { upstreamToml?: string; requestHeaders?: string; seen?: (h: IncomingHttpHeaders) => void } = {}) {
    ws = createServer();
    ws.on('upgrade', (req, socket) => {
      o.seen?.(req.headers);
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    await new Promise<void>((r) => ws!.listen(0, '127.0.0.1', () => r()));
    const port = (ws.address() as { port: number }).port;
    proxy = await startProxy(`version = 1\n[codex]\nactive = "main"\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\n` +
      `base_url = "http://127.0.0.1:${port}/v1"\n${o.upstreamToml ?? ''}`, { services: ['codex'] });
    const sock = connect(Number(new URL(proxy.url()).port), '127.0.0.1');
    sock.on('error', () => undefined);
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write('GET /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\n' +
      (o.requestHeaders ?? 'connection: Upgrade\r\n') + 'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await until(() => Buffer.concat(got).toString().includes('101 Switching Protocols'));
    return { sock, got, closed };
  }

  describe('same rules as HTTP', () => {
    it('strips hop-by-hop, Connection-named and proxy headers, injects the configured key, and logs the same row', async () => {
      let seen: IncomingHttpHeaders = {};
      const t = await openTunnel({
        upstreamToml: 'auth = { auth_token = "sk-configured-token-123456" }\n',
        requestHeaders: 'connection: Upgrade, x-hop-secret\r\nx-hop-secret: 1\r\nproxy-authorization: Basic cA==\r\n' +
          'x-codex-helper-token: a-long-enough-token-123\r\nauthorization: Bearer client-key\r\n',
        seen: (h) => (seen = h),
      });
      assert.equal(seen['authorization'], 'Bearer sk-configured-token-123456', 'the configured credential replaces the client\'s');
      assert.equal(seen['upgrade'], 'websocket');
      assert.match(String(seen['connection']), /upgrade/i);
      assert.equal(seen['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
      for (const gone of ['x-hop-secret', 'proxy-authorization', 'x-codex-helper-token']) assert.equal(seen[gone], undefined, gone);
      t.sock.destroy();
      const svc = proxy!.host.services.codex;
      await until(() => svc.state.listRecent(10).length === 1);
      await proxy!.host.requestLog!.flush();
      const rows = readFileSync(join(proxy!.home, 'logs', 'requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status_code, 101);
      assert.equal(rows[0].config_name, 'main');
      assert.equal(rows[0].error_class, 'websocket');
      assert.deepEqual(rows[0].auth_resolution, { authorization: 'inline', x_api_key: 'none' });
      assert.ok(!JSON.stringify(rows[0]).includes('sk-configured-token'), 'no credential value in the row');
    });
  });

  describe('a graceful stop', () => {
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
});
