// What the proxy costs the extension host: activation time (until both listeners answer), and memory idle and after
// 1,000 requests, with the proxy in a worker thread (the extension) and on the host thread (as before).
// Each mode runs in a fresh Node process standing in for the extension host; requests come from another process.
// `heap` is the host thread's V8 heap (what the extension host's own isolate carries), `rss` the whole process
// (worker included). Run: `node bench/hostMemory.mjs` after `npm run build`; `npm run bench` runs it too.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const REQUESTS = 1000;
const mb = (b) => b / 2 ** 20;

if (process.argv[2] === '--host') await hostMain(process.argv[3], Number(process.argv[4]), process.argv[5]);
else if (process.argv[2] === '--load') await loadMain(Number(process.argv[3]));
else await main();

function mem() {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: mb(m.rss), heap: mb(m.heapUsed) };
}

async function hostMain(mode, mockPort, bundle) {
  const before = mem();
  const t0 = performance.now();
  const lib = createRequire(import.meta.url)(bundle);
  const dir = mkdtempSync(join(tmpdir(), 'codex-helper-mem-'));
  const home = join(dir, 'helper');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.toml'), `version = 1\n[codex]\nactive = "m"\n[codex.configs.m]\n[[codex.configs.m.upstreams]]\nbase_url = "http://127.0.0.1:${mockPort}/v1"\n[claude]\nactive = "m"\n[claude.configs.m]\n[[claude.configs.m.upstreams]]\nbase_url = "http://127.0.0.1:${mockPort}"\n`);
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const paths = { home, codexHome: join(dir, 'codex'), claudeHome: join(dir, 'claude'), env: {} };
  const ctl = new lib.ProxyController({
    log,
    createHost: () => (mode === 'worker'
      ? lib.startProxyWorker({ script: join(root, 'dist', 'proxyWorker.js'), init: { ...paths, logLevel: 'info' }, log })
      : new lib.ProxyHost({ ...paths, log, healthChecks: new lib.HealthChecker({}, log) })),
  });
  const codex = await ctl.start('codex', 0);
  await ctl.start('claude', 0);
  // The tree's first fetch, as activation does.
  await ctl.client('codex').snapshot();
  const activationMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300));
  const idle = mem();
  process.send({ port: codex.port });
  process.once('message', async () => {
    // The views refetch after traffic, as the tree and webview do.
    await ctl.client('codex').snapshot();
    await new Promise((r) => setTimeout(r, 300));
    const loaded = mem();
    await ctl.dispose();
    rmSync(dir, { recursive: true, force: true });
    process.send({ activationMs, before, idle, loaded });
    process.exit(0);
  });
}

async function loadMain(port) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const body = JSON.stringify({ model: 'gpt-5-codex', input: 'hello '.repeat(200), stream: false });
  const one = () => new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/responses', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (r) => {
      r.resume();
      r.on('end', res);
    });
    req.on('error', rej);
    req.end(body);
  });
  let left = REQUESTS;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (left-- > 0) await one();
  }));
  process.send('done');
}

function startMock() {
  const answer = JSON.stringify({ id: 'r', object: 'response', status: 'completed', output: [], usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function runMode(mode, mockPort, bundle) {
  const host = fork(fileURLToPath(import.meta.url), ['--host', mode, String(mockPort), bundle], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((r) => host.once('message', r));
  const load = fork(fileURLToPath(import.meta.url), ['--load', String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => load.once('message', r));
  load.kill();
  host.send('measure');
  return new Promise((r) => host.once('message', r));
}

async function main() {
  const esbuild = await import('esbuild');
  const tmp = mkdtempSync(join(tmpdir(), 'codex-helper-mem-build-'));
  // Each mode loads only what its host would: the worker mode never loads the proxy on the host thread.
  const exports = {
    worker: `export { startProxyWorker } from './src/host/proxyWorkerClient';\nexport { ProxyController } from './src/host/proxyController';\n`,
    main: `export { ProxyHost } from './src/proxy/proxyHost';\nexport { HealthChecker } from './src/proxy/healthcheck';\nexport { ProxyController } from './src/host/proxyController';\n`,
  };
  for (const [mode, contents] of Object.entries(exports)) {
    await esbuild.build({
      stdin: { contents, resolveDir: root, loader: 'ts' },
      bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, outfile: join(tmp, `${mode}.cjs`), logLevel: 'warning',
    });
  }
  const mock = await startMock();
  try {
    const out = {};
    for (const mode of ['worker', 'main']) out[mode] = await runMode(mode, mock.address().port, join(tmp, `${mode}.cjs`));
    const f = (v) => v.toFixed(1).padStart(7);
    console.log(`extension-host cost of the proxy (both services; ${REQUESTS} requests from another process)`);
    console.log('                                 activation   host heap +idle  +1k req   process RSS +idle  +1k req');
    for (const [mode, label] of [['worker', 'proxy in a worker thread'], ['main', 'proxy on the host thread']]) {
      const r = out[mode];
      console.log(`  ${label.padEnd(30)} ${f(r.activationMs)} ms    ${f(r.idle.heap - r.before.heap)} MB ${f(r.loaded.heap - r.before.heap)} MB     ${f(r.idle.rss - r.before.rss)} MB ${f(r.loaded.rss - r.before.rss)} MB`);
    }
    process.send?.({ hostMemory: out });
  } finally {
    mock.close();
    mock.closeAllConnections();
    rmSync(tmp, { recursive: true, force: true });
  }
}
