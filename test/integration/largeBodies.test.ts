// A request with a large body leaves no buffers behind once it is recorded: its body, the rewritten copy and the
// socket's read chunks are freed on the next turn of the loop, not when V8's external-memory limit is reached.
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { LARGE_BODY_BYTES, youngCollectionAvailable } from '../../src/proxy/largeBodies';
import { startProxy, until } from '../helpers/servers';
import type { TestProxy } from '../helpers/servers';

const MB = 1024 * 1024;

function post(url: string, body: Buffer, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('large request bodies', function () {
  this.timeout(30_000);
  let upstream: Server;
  let proxy: TestProxy | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const models: string[] = [];

  before(async () => {
    // Reads each body as it streams by and keeps only its model, so what stays in memory is the proxy's own.
    upstream = createServer((req, res) => {
      let head = '';
      req.on('data', (c: Buffer) => {
        if (head.length < 64) head += c.subarray(0, 64).toString('latin1');
      });
      req.on('end', () => {
        models.push(/"model":"([^"]*)"/.exec(head)?.[1] ?? '');
        if (req.url?.includes('refuse')) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"error":{"type":"invalid_request_error","message":"refused"}}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"resp_1","object":"response","status":"completed","output":[]}');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    await proxy?.close();
    agent.destroy();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  it('the proxy can ask for a young-generation collection, here and in a worker, and no context gets a global gc', async () => {
    assert.equal(youngCollectionAvailable(), true);
    const inWorker = await new Promise<unknown>((done, fail) => {
      const w = new Worker(
        `const m = require(${JSON.stringify(resolve(__dirname, '../../src/proxy/largeBodies.js'))});
         require('node:worker_threads').parentPort.postMessage(m.youngCollectionAvailable());`,
        { eval: true },
      );
      w.once('message', (v) => {
        done(v);
        void w.terminate();
      });
      w.once('error', fail);
    });
    assert.equal(inWorker, true);
    if (!process.execArgv.includes('--expose-gc')) {
      assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
      assert.equal(runInNewContext('typeof gc'), 'undefined', 'a context made afterwards has no gc');
    }
  });

  it('2 MB bodies, each rewritten for its upstream, are each followed by a young collection that frees their buffers', async () => {
    proxy = await startProxy(`version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1"
model_mapping = { "gpt-5" = "gpt-5-mapped" }
`, { services: ['codex'] });
    const state = proxy.host.services.codex.state;
    const url = `${proxy.url('codex')}/v1/responses`;
    let minor = 0;
    const gcs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    });
    gcs.observe({ entryTypes: ['gc'] });
    const buffers = () => process.memoryUsage().arrayBuffers / MB;
    let recorded = 0;
    const oneRequest = async (body: Buffer, status = 200, query = '') => {
      const r = await post(url + query, body, agent);
      assert.equal(r.status, status, r.text);
      recorded++;
      await until(() => state.listRecent(100).length === recorded, 3000, `request ${recorded} recorded`);
      await new Promise((r) => setTimeout(r, 20));
    };
    try {
      // Small bodies ask for nothing: V8 collects as it would anyway (rarely, for this little garbage).
      const small = Buffer.from(JSON.stringify({ model: 'gpt-5', input: 'x'.repeat(2048) }));
      for (let n = 0; n < 20; n++) await oneRequest(small);
      assert.ok(minor <= 4, `${minor} young collections for 20 small requests`);

      const large = Buffer.from(JSON.stringify({ model: 'gpt-5', input: 'x'.repeat(2 * MB) }));
      assert.ok(large.length >= LARGE_BODY_BYTES);
      await oneRequest(large);
      await new Promise((r) => setTimeout(r, 300));
      const base = buffers();
      minor = 0;
      // V8 frees what it collected from a background thread: each request is given up to a second for that, with
      // nothing allocating meanwhile (so V8 collects nothing on its own).
      const left: number[] = [];
      for (let n = 0; n < 12; n++) {
        await oneRequest(large);
        const by = Date.now() + 1000;
        while (buffers() - base >= 1 && Date.now() < by) await new Promise((r) => setTimeout(r, 10));
        left.push(buffers() - base);
      }
      assert.ok(minor >= 12, `${minor} young collections for 12 large requests`);
      // Each request leaves ~8 MB of buffers here (its body, the rewritten copy, the chunks the proxy and this
      // upstream read); without the collection they stay until V8 collects on its own, 2 or 3 requests later. Other
      // buffers of this process come and go by a few MB, hence the median.
      const median = [...left].sort((a, b) => a - b)[6]!;
      assert.ok(median < 1, `MB of buffers left above the first large request's, after each: ${left.map((x) => x.toFixed(1)).join(' ')}`);

      // A refused request is recorded before its run ends (the clean ones above, after): either order collects.
      minor = 0;
      for (let n = 0; n < 6; n++) await oneRequest(large, 400, '?refuse=1');
      assert.ok(minor >= 6, `${minor} young collections for 6 refused large requests`);
    } finally {
      gcs.disconnect();
    }
    assert.deepEqual(new Set(models), new Set(['gpt-5-mapped']), 'every body went out rewritten');
  });
});
