// Isolation scenario: a stand-in extension host (a child process) blocks its main thread for 200 ms of synchronous
// work every second while 16 spaced SSE streams run through the proxy it hosts. The proxy runs either in a worker
// thread (what the extension does) or on the blocked thread itself (what it did before). Each upstream event
// carries the time it was written; the client (this process, never blocked, same clock as the upstream) records
// how late each event arrives. `direct` is the same streams without a proxy.
//
// Run alone: `node bench/isolation.mjs [--quick]` (after `npm run build`), or as part of `npm run bench`.
// Prints a table and, when run as a child of bench/run.mjs, sends the numbers back over IPC.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const QUICK = process.argv.includes('--quick');
const STREAMS = 16;
const GAP_MS = 50;
const EVENTS = QUICK ? 60 : 100; // 3 s / 5 s per stream: three to five 200 ms blocks land in every stream
const BLOCK_MS = Number(process.env.ISO_BLOCK_MS ?? 200);
const EVERY_MS = 1000;
const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === '--host') await hostMain(process.argv[3], Number(process.argv[4]), process.argv[5]);
else await main();

/** The stand-in extension host: hosts the proxy (`worker` or `main` thread), then blocks itself on a timer. */
async function hostMain(mode, mockPort, bundle) {
  const lib = createRequire(import.meta.url)(bundle);
  const dir = mkdtempSync(join(tmpdir(), 'codex-helper-iso-'));
  const home = join(dir, 'helper');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.toml'), `version = 1\n[codex]\nactive = "m"\n[codex.configs.m]\n[[codex.configs.m.upstreams]]\nbase_url = "http://127.0.0.1:${mockPort}/v1"\n`);
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const paths = { home, codexHome: join(dir, 'codex'), claudeHome: join(dir, 'claude'), env: {} };
  const engine = mode === 'worker'
    ? await lib.startProxyWorker({ script: join(root, 'dist', 'proxyWorker.js'), init: { ...paths, logLevel: 'info' }, log })
    : new lib.ProxyHost({ ...paths, log, healthChecks: new lib.HealthChecker({}, log) });
  const l = await engine.listen('codex', { port: 0 });
  const timer = setInterval(() => {
    const start = now();
    const end = Date.now() + BLOCK_MS;
    while (Date.now() < end) {
      // Another extension's synchronous work: nothing on this thread runs meanwhile.
    }
    process.send({ block: [start, now()] });
  }, EVERY_MS);
  process.send({ port: l.port });
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    await engine.dispose(500);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

function startMock() {
  const server = createServer((req, res) => {
    const events = Number(new URL(req.url ?? '/', 'http://mock').searchParams.get('n') ?? EVENTS);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        const last = ++i >= events;
        const type = last ? 'response.completed' : 'response.output_text.delta';
        const extra = last ? ',"response":{"id":"r","status":"completed","usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}' : ',"delta":"yyyy"';
        res.write(`event: ${type}\ndata: {"type":"${type}","t":${now()}${extra}}\n\n`);
        if (last) res.end();
        else setTimeout(next, GAP_MS);
      };
      next();
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** One stream: when each event was written and how late (ms) it arrived. */
function stream(port, path) {
  return new Promise((resolveStream, reject) => {
    const lateness = [];
    const body = JSON.stringify({ model: 'gpt-5-codex', input: 'hi', stream: true });
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = now();
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const m = /"t":([0-9.]+)/.exec(buf.slice(0, i));
          if (m) lateness.push({ t: Number(m[1]), late: at - Number(m[1]) });
          buf = buf.slice(i + 2);
        }
      });
      res.on('end', () => resolveStream(lateness));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function stats(values) {
  const flat = [...values].sort((a, b) => a - b);
  const pct = (p) => flat[Math.min(flat.length - 1, Math.floor((p / 100) * flat.length))] ?? NaN;
  return { events: flat.length, p50: pct(50), p99: pct(99), max: flat[flat.length - 1] ?? NaN };
}

/** All streams; `blocks` (write-time windows when the host thread was blocked) splits the events in two. */
async function streams(port, path, blocks = []) {
  // Spread the starts over one gap so the streams' events interleave instead of arriving in lockstep.
  const all = await Promise.all(Array.from({ length: STREAMS }, (_, k) => new Promise((r) => setTimeout(r, (k * GAP_MS) / STREAMS)).then(() => stream(port, path))));
  const events = all.flat();
  const inBlock = (e) => blocks.some(([a, b]) => e.t >= a && e.t <= b);
  return {
    ...stats(events.map((e) => e.late)),
    duringBlocks: stats(events.filter(inBlock).map((e) => e.late)),
    outsideBlocks: stats(events.filter((e) => !inBlock(e)).map((e) => e.late)),
  };
}

async function runHost(mode, mockPort, bundle) {
  const child = fork(fileURLToPath(import.meta.url), ['--host', mode, String(mockPort), bundle], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const blocks = [];
  child.on('message', (m) => m?.block && blocks.push(m.block));
  const { port } = await new Promise((r, j) => {
    child.on('message', (m) => m?.port && r(m));
    child.once('exit', (c) => j(new Error(`host (${mode}) exited ${c}`)));
  });
  // Warm-up (JIT, connection pools) through the proxy, blocks included, before anything is measured.
  await streams(port, '/v1/responses?n=30');
  const result = await streams(port, '/v1/responses', blocks);
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  return result;
}

async function main() {
  const esbuild = await import('esbuild');
  const tmp = mkdtempSync(join(tmpdir(), 'codex-helper-iso-build-'));
  const bundle = join(tmp, 'host.cjs');
  await esbuild.build({
    stdin: {
      contents: `export { ProxyHost } from './src/proxy/proxyHost';\nexport { HealthChecker } from './src/proxy/healthcheck';\nexport { startProxyWorker } from './src/host/proxyWorkerClient';\n`,
      resolveDir: root, loader: 'ts',
    },
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning',
  });
  const mock = await startMock();
  const mockPort = mock.address().port;
  try {
    await streams(mockPort, '/v1/responses?n=30'); // warm-up: first connections and JIT of this process
    const direct = await streams(mockPort, '/v1/responses');
    const worker = await runHost('worker', mockPort, bundle);
    const main = await runHost('main', mockPort, bundle);
    const rows = { direct, worker, main };
    const added = (r) => r.p99 - direct.p99;
    console.log(`isolation: host thread blocked ${BLOCK_MS} ms every ${EVERY_MS} ms; ${STREAMS} streams × ${EVENTS} events ${GAP_MS} ms apart`);
    console.log('  how late each event arrives (ms)      p50      p99      max   added p99');
    for (const [k, label] of [['direct', 'direct (no proxy)'], ['worker', 'proxy in a worker thread'], ['main', 'proxy on the blocked thread']]) {
      const r = rows[k];
      const f = (v) => v.toFixed(2).padStart(8);
      console.log(`  ${label.padEnd(36)} ${f(r.p50)} ${f(r.p99)} ${f(r.max)} ${k === 'direct' ? '' : f(added(r))}`);
    }
    for (const [k, label] of [['worker', 'worker'], ['main', 'blocked thread']]) {
      const d = rows[k].duringBlocks;
      const o = rows[k].outsideBlocks;
      console.log(`  ${label}: events written while the host thread was blocked p99 ${d.p99.toFixed(2)} ms (${d.events}), otherwise p99 ${o.p99.toFixed(2)} ms (${o.events})`);
    }
    const pass = added(worker) <= 5;
    console.log(`  target: worker adds ≤ 5 ms at p99: ${pass ? 'PASS' : 'FAIL'} (+${added(worker).toFixed(2)} ms)`);
    process.send?.({ isolation: { blockMs: BLOCK_MS, everyMs: EVERY_MS, streams: STREAMS, events: EVENTS, gapMs: GAP_MS, direct, worker, main, addedP99: { worker: added(worker), main: added(main) }, pass } });
  } finally {
    mock.close();
    mock.closeAllConnections();
    rmSync(tmp, { recursive: true, force: true });
  }
}
