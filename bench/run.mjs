// `npm run bench`: direct-to-mock vs through the proxy (vs nginx when installed), same run, same mock, same
// load generator. Loopback only, bounded in requests and time. See bench/README.md for how to read the output.
//
// Flags: --quick (≈90 s)  --reps N  --no-nginx  --no-floor  --no-isolation (also skips host memory)  --strict
//        --only a,b (scenario keys)  --proxy-node-args "…" (e.g. --cpu-prof, for profiling)  --out FILE
//        --node-defaults (the proxy and the floors without npm start's node flags)
//        --seed N (the order of the TTFB rounds, printed with each run)
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuMs, fdCounts, freePort, httpJson, pinningPlan, rssMb, spawnPinned, SPACED_SSE, startLoadgen, startMock, startTargets, waitForLine,
  whichSync, writeNginxConf, writeProxyHome,
} from './procs.mjs';
import { markdownTable, printTable, printTargets, summarize } from './report.mjs';
import { pooledP50, READINGS, sliceRatio, ttfbSlices } from './ttfbSlices.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const argv = process.argv.slice(2);
const flag = (n) => argv.includes(n);
const opt = (n) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = flag('--quick');
const REPS = Number(opt('--reps') ?? (QUICK ? 2 : 3));
const ONLY = opt('--only')?.split(',');
// The seed of the TTFB rounds' order (printed with the result; pass it back to replay an order).
const SEED = Number(opt('--seed') ?? Date.now() % 1e9);
// The proxy runs with the node flags `npm start` gives it (package.json: the young generation's cap of
// src/proxy/heapLimits.ts, which the VS Code worker takes as a resource limit), and so do the node floor and its
// control: one runtime for all three, so what differs is the code. --node-defaults runs all three without them.
function startNodeArgs() {
  const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start;
  const m = /\bnode ((?:--\S+ )*)dist\/cli\.js serve/.exec(start);
  if (!m) throw new Error(`bench: package.json's start script does not run dist/cli.js serve: ${start}`);
  return m[1].split(' ').filter(Boolean);
}
const NODE_ARGS = flag('--node-defaults') ? [] : startNodeArgs();
const PROXY_NODE_ARGS = [...NODE_ARGS, ...(opt('--proxy-node-args') ?? '').split(' ').filter(Boolean)];
const OUT = opt('--out') ?? join(here, 'results', 'latest.json');
const q = (quick, full) => (QUICK ? quick : full);

const CLI = join(root, 'dist', 'cli.js');
if (!existsSync(CLI)) {
  console.error('bench: dist/cli.js is missing; run `npm run build` (npm run bench does it for you)');
  process.exit(2);
}

const ADMIN = '/__codex_helper/api/v1';
const EFFORT_SESSION = 'bench-effort-session';
const ALL = ['direct', 'proxy', 'floor', 'nginx'];
// The floor gets every request the proxy gets (the rewrite scenarios' bodies pass through it unchanged: it has no
// rewrites), so that by the time of `streams_256` both went through the same: peak RSS depends on that history.
const SAME_BYTES = ['proxy', 'floor'];
const json = { kind: 'responses', path: '/v1/responses', model: 'gpt-5-codex', stream: false };
const sse = (n, gap = 0) => ({ ...json, path: `/v1/responses?sse=${n}${gap ? `&gap=${gap}` : ''}`, stream: true });
const KB = 1024;

/** Every scenario: a load-generator spec and the targets it runs against. */
const SCENARIOS = [
  { key: 'json_c1', targets: ALL, spec: { ...json, bytes: 2 * KB, concurrency: 1, requests: q(600, 2500), warmup: 200 } },
  { key: 'json_c32', targets: ALL, spec: { ...json, bytes: 2 * KB, concurrency: 32, durationMs: q(800, 2500), warmup: 500 } },
  { key: 'body_200k', targets: ALL, spec: { ...json, bytes: 200 * KB, concurrency: 1, requests: q(40, 150), warmup: 10 } },
  { key: 'body_200k_model', targets: SAME_BYTES, spec: { ...json, model: 'gpt-5', bytes: 200 * KB, concurrency: 1, requests: q(40, 150), warmup: 10 } },
  { key: 'body_200k_effort', targets: SAME_BYTES, spec: { ...json, headers: { 'session-id': EFFORT_SESSION }, bytes: 200 * KB, concurrency: 1, requests: q(40, 150), warmup: 10 } },
  { key: 'body_2m', targets: ALL, spec: { ...json, bytes: 2048 * KB, concurrency: 1, requests: q(12, 40), warmup: 4 } },
  { key: 'body_2m_model', targets: SAME_BYTES, spec: { ...json, model: 'gpt-5', bytes: 2048 * KB, concurrency: 1, requests: q(12, 40), warmup: 4 } },
  { key: 'body_2m_effort', targets: SAME_BYTES, spec: { ...json, headers: { 'session-id': EFFORT_SESSION }, bytes: 2048 * KB, concurrency: 1, requests: q(12, 40), warmup: 4 } },
  { key: 'sse20_c1', targets: ALL, spec: { ...sse(20), bytes: 2 * KB, concurrency: 1, requests: q(300, 1200), warmup: 100 } },
  { key: 'sse20_c16', targets: ALL, spec: { ...sse(20), bytes: 2 * KB, concurrency: 16, requests: q(1500, 5000), warmup: 200 } },
  { key: 'sse20_gap5_c16', targets: ALL, spec: { ...sse(20, 5), bytes: 2 * KB, concurrency: 16, requests: q(48, 160), warmup: 16 } },
  // An opening event, then output events 5 ms apart: the proxy holds only the opening (stream integrity), so the
  // first OUTPUT event must arrive as early as it does direct.
  { key: 'sse_open_gap5_c16', targets: ALL, spec: { ...json, path: '/v1/responses?sse=20&gap=5&open=1', stream: true, marker: 'response.output_text.delta', bytes: 2 * KB, concurrency: 16, requests: q(48, 160), warmup: 16 } },
  { key: 'claude_sse_open_gap5_c16', targets: ['direct', 'claude'], spec: { kind: 'messages', path: '/v1/messages?sse=20&gap=5&open=1', model: 'claude-sonnet-4-5', stream: true, marker: 'content_block_delta', bytes: 2 * KB, concurrency: 16, requests: q(48, 160), warmup: 16 } },
  { key: 'claude_json_c1', targets: ['direct', 'claude'], spec: { kind: 'messages', path: '/v1/messages', model: 'claude-sonnet-4-5', stream: false, bytes: 2 * KB, concurrency: 1, requests: q(300, 1200), warmup: 100 } },
  { key: 'claude_sse20_c1', targets: ['direct', 'claude'], spec: { kind: 'messages', path: '/v1/messages?sse=20', model: 'claude-sonnet-4-5', stream: true, bytes: 2 * KB, concurrency: 1, requests: q(200, 800), warmup: 50 } },
  { key: 'streams_256', targets: ['proxy', 'floor', 'nginx'], sampleRss: true, spec: { ...sse(q(6, 10), 200), bytes: 2 * KB, concurrency: 256, requests: 256, warmup: 0 } },
  // Codex-shaped streams: the opening events repeat the request's 24 KB of instructions, then a burst of output.
  // Last, after streams_256: the peak RSS read there depends on what the processes went through before it.
  { key: 'sse_codex_c16', targets: ALL, spec: { ...json, path: '/v1/responses?sse=20&open=1&instr=24576', stream: true, marker: 'response.output_text.delta', bytes: 2 * KB, concurrency: 16, requests: q(400, 1600), warmup: 100 } },
].filter((s) => !ONLY || ONLY.includes(s.key));

const children = [];
const tmp = mkdtempSync(join(tmpdir(), 'codex-helper-bench-'));
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  try {
    rmSync(tmp, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function track(child) {
  children.push(child);
  return child;
}

async function startProxy(service, mockPort, home = `home-${service}`) {
  const env = writeProxyHome(join(tmp, home), mockPort);
  const port = await freePort();
  const c = track(spawnPinned(1, process.execPath, [...PROXY_NODE_ARGS, CLI, 'serve', '--service', service, '--port', String(port)], { env, cwd: tmp }));
  await waitForLine(c, /proxy listening on http:\/\/127\.0\.0\.1:(\d+)/);
  return { child: c, port, pid: c.pid };
}

function waitPort(port, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`port ${port} never opened`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

async function startFloor(mockPort) {
  if (flag('--no-floor')) return undefined;
  return (await startTargets(['floor'], mockPort, { tmp, children }, PROXY_NODE_ARGS))[0];
}

async function startNginx(mockPort) {
  const bin = whichSync('nginx');
  if (!bin || flag('--no-nginx')) return undefined;
  const dir = join(tmp, 'nginx');
  const port = await freePort();
  const conf = writeNginxConf(dir, port, mockPort);
  const c = track(spawnPinned(1, bin, ['-e', join(dir, 'error.log'), '-p', dir, '-c', conf]));
  c.stdout.resume();
  c.stderr.resume();
  await waitPort(port);
  return { child: c, port, pid: c.pid, bin };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** `x` with its sign (`+0.18`, `-0.28`). */
const plus = (x, digits) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/**
 * Proxy and node floor measured side by side, interleaved. CPU per request at c=32: alternating halves of short pairs
 * (who goes first rotates), the median of the per-pair ratios. Spaced-SSE TTFB at c=16: short slices in a shuffled
 * order, first bytes pooled per target (bench/ttfbSlices.mjs): the target checks the streams aligned (the table's
 * shape) once they flow (`settled`: each slice's first wave, which follows an idle spell, left out); the aligned
 * reading with that wave and the staggered one are printed beside it. A second floor process (the control) takes
 * its turn in every pair and round too: control ÷ floor is what the method reads for two identical programs, i.e.
 * how far its ratios stray on this machine by chance. Two processes of one program differ by themselves (in some
 * runs one floor read ~15 % slower than the other all through the rounds), so the proxy is read against both floor
 * processes together: per pair, the mean of their CPU per request; for the TTFB, their first bytes pooled. Its
 * ratios to each of them alone are printed too.
 */
async function floorPairs(lg, ports, pids) {
  if (!ports.floor || (ONLY && !ONLY.includes('json_c32') && !ONLY.includes('sse20_gap5_c16'))) return undefined;
  const control = ports.control !== undefined;
  const pairs = q(6, 10);
  const cpuSpec = { ...json, bytes: 2 * KB, concurrency: 32, requests: q(3000, 5000) };
  const cpuPairs = [];
  const proxyCpuByFloor = { floor: [], control: [] };
  const controlCpu = [];
  const turns = control ? ['proxy', 'floor', 'control'] : ['proxy', 'floor'];
  for (let i = 0; i < pairs; i++) {
    const cpu = {};
    for (const t of turns.map((_, k) => turns[(i + k) % turns.length])) {
      await lg.run({ ...cpuSpec, port: ports[t], requests: 200, warmup: 0, keepAgent: true });
      const c0 = cpuMs(pids[t]);
      const r = await lg.run({ ...cpuSpec, port: ports[t], warmup: 0 });
      cpu[t] = ((cpuMs(pids[t]) - c0) * 1000) / r.requests;
    }
    cpuPairs.push(cpu.proxy / (control ? (cpu.floor + cpu.control) / 2 : cpu.floor));
    proxyCpuByFloor.floor.push(cpu.proxy / cpu.floor);
    if (control) {
      proxyCpuByFloor.control.push(cpu.proxy / cpu.control);
      controlCpu.push(cpu.control / cpu.floor);
    }
  }
  const slices = await ttfbSlices(lg, turns.map((name) => ({ name, port: ports[name] })), SPACED_SSE, { rounds: q(8, 48), seed: SEED });
  // The reference of the proxy's TTFB: both floor processes' first bytes in one pool, block by block.
  const ref = control ? 'floors' : 'floor';
  if (control) {
    slices.pools.floors = Object.fromEntries(READINGS.map((r) => [r, slices.pools.floor[r].map((b, i) => [...b, ...slices.pools.control[r][i]])]));
  }
  const read = (t, against) => {
    const aligned = sliceRatio(slices, t, against, 'aligned');
    const settled = sliceRatio(slices, t, against, 'settled');
    const staggered = sliceRatio(slices, t, against, 'staggered');
    return { ttfb: settled.ratio, ttfbBlocks: settled.blocks, ttfbP50Ms: settled.p50[0],
      ttfbAligned: aligned.ratio, ttfbAlignedBlocks: aligned.blocks, ttfbAlignedP50Ms: aligned.p50[0],
      ttfbStaggered: staggered.ratio, ttfbStaggeredBlocks: staggered.blocks, ttfbStaggeredP50Ms: staggered.p50[0] };
  };
  const out = { reference: control ? 'floor and control' : 'floor', cpu: summarize(cpuPairs).median, cpuPairs, ...read('proxy', ref),
    floorTtfbP50Ms: pooledP50(slices, ref, 'settled').p50,
    floorTtfbAlignedP50Ms: pooledP50(slices, ref, 'aligned').p50,
    floorTtfbStaggeredP50Ms: pooledP50(slices, ref, 'staggered').p50,
    byFloor: Object.fromEntries((control ? ['floor', 'control'] : ['floor']).map((f) => [f,
      { cpu: summarize(proxyCpuByFloor[f]).median, ttfb: sliceRatio(slices, 'proxy', f, 'settled').ratio }])),
    slices: { seed: slices.seed, rounds: slices.rounds, waves: slices.waves, samplesPerTarget: pooledP50(slices, 'proxy', 'aligned').samples,
      settledPerTarget: pooledP50(slices, 'proxy', 'settled').samples,
      newSockets: slices.newSockets } };
  if (control) out.control = { cpu: summarize(controlCpu).median, cpuPairs: controlCpu, ...read('control', 'floor') };
  return out;
}

/** The JIT warm-up every server gets before it is measured (a cold V8 costs several times more CPU). */
async function warmUp(lg, target, port) {
  const kind = target === 'claude' ? { kind: 'messages', path: '/v1/messages', model: 'claude-sonnet-4-5' } : json;
  await lg.run({ ...json, ...kind, bytes: 2 * KB, concurrency: 8, requests: q(1500, 3000), warmup: 0, port });
  await lg.run({ ...json, ...kind, path: `${kind.path}?sse=20`, stream: true, bytes: 2 * KB, concurrency: 8, requests: q(500, 1000), warmup: 0, port });
  await lg.run({ ...json, ...kind, bytes: 2048 * KB, concurrency: 1, requests: q(5, 10), warmup: 0, port });
}

/** One scenario against one target: its warm-up, then its measured requests with the target's CPU time around them. */
async function runScenario(lg, s, port, pid) {
  // Warm-up is a separate call so the CPU reading covers the measured requests only.
  if (s.spec.warmup) await lg.run({ ...s.spec, port, requests: s.spec.warmup, durationMs: undefined, warmup: 0, keepAgent: true });
  const c0 = cpuMs(pid);
  const r = await lg.run({ ...s.spec, port, warmup: 0 });
  return { r, c0, c1: cpuMs(pid) };
}

/**
 * Peak RSS through the bench's load, read in fresh processes. The table's peak at `streams_256` is one sample per
 * repetition of processes that went through everything before it, and there two floor processes of one program
 * stray from each other by up to ~36 MB: each one's allocator and V8 generations are wherever its own history of
 * collections left them. Here every round starts a fresh proxy, floor and control (taking turns at going first),
 * gives each the JIT warm-up and then one pass of every scenario it gets in the bench, in the bench's order
 * (`streams_256` included), sampling its RSS every 50 ms from its start to its last request, and stops it. The peak
 * of a pass is the process's peak RSS during the bench; the median of the rounds is compared.
 */
async function freshPeaks(lg, mockPort) {
  if (flag('--no-floor') || (ONLY && !ONLY.includes('streams_256'))) return undefined;
  const rounds = q(1, 3);
  const names = ['proxy', 'floor', 'control'];
  // Every pass's peak scenario by scenario (the warm-up, from the process's start, first): where a peak came from.
  const byScenario = { proxy: [], floor: [], control: [] };
  let failures = 0;
  for (let i = 0; i < rounds; i++) {
    for (const name of names.map((_, k) => names[(i + k) % names.length])) {
      const t = name === 'proxy' ? await startProxy('codex', mockPort, `home-fresh-${i}`) : await startFloor(mockPort);
      let scenarioPeak = 0;
      const sample = () => (scenarioPeak = Math.max(scenarioPeak, rssMb(t.pid) || 0));
      sample();
      const sampler = setInterval(sample, 50);
      if (name === 'proxy') await setEffortOverride(t.port);
      await warmUp(lg, name, t.port);
      sample();
      const pass = { warmup: scenarioPeak };
      for (const s of SCENARIOS) {
        if (!s.targets.includes(name === 'proxy' ? 'proxy' : 'floor')) continue;
        scenarioPeak = 0;
        const { r } = await runScenario(lg, s, t.port, t.pid);
        failures += r.errors + r.bad;
        sample();
        pass[s.key] = scenarioPeak;
      }
      byScenario[name].push(pass);
      clearInterval(sampler);
      await new Promise((res) => {
        t.child.once('exit', res);
        t.child.kill('SIGTERM');
      });
    }
  }
  // A pass's peak is the highest of its scenarios'.
  const peaks = Object.fromEntries(names.map((n) => [n, byScenario[n].map((pass) => Math.max(...Object.values(pass)))]));
  const m = (a) => summarize(a).median;
  return { rounds, failures, peaks, byScenario, proxy: m(peaks.proxy), floor: m(peaks.floor), control: m(peaks.control) };
}

async function setEffortOverride(port) {
  const r = await httpJson(port, 'POST', `${ADMIN}/overrides/session/effort`, { session_id: EFFORT_SESSION, effort: 'high' });
  if (r.status >= 300) throw new Error(`could not set the effort override: ${r.status} ${JSON.stringify(r.json)}`);
}

async function main() {
  const t0 = Date.now();
  const plan = pinningPlan();
  console.log(`codex-helper bench (${QUICK ? 'quick' : 'full'}, ${REPS} repetitions) — ${plan.note}`);
  console.log(`node flags of the proxy, the floor and its control: ${PROXY_NODE_ARGS.join(' ') || '(none)'}`);
  const mock = await startMock({ children });
  const lg = await startLoadgen(track);
  const proxy = await startProxy('codex', mock.port);
  const claude = await startProxy('claude', mock.port);
  const floor = await startFloor(mock.port);
  // The control: a second floor process, given every request the floor gets (so the same history), never shown in
  // the table. What it reads against the floor is what the method reads for two identical programs.
  const control = floor ? await startFloor(mock.port) : undefined;
  const nginx = await startNginx(mock.port);
  if (!nginx) console.log('nginx not found (PATH or /usr/sbin): the nginx column stays empty');
  await sleep(500);
  const baseline = { proxy: fdCounts(proxy.pid), claude: fdCounts(claude.pid) };
  const idleRssStart = rssMb(proxy.pid);

  await setEffortOverride(proxy.port);

  const ports = { direct: mock.port, proxy: proxy.port, claude: claude.port, floor: floor?.port, control: control?.port, nginx: nginx?.port };
  const pids = { direct: mock.child.pid, proxy: proxy.pid, claude: claude.pid, floor: floor?.pid, control: control?.pid, nginx: nginx?.pid };
  const raw = {};
  let failures = 0;
  // JIT warm-up of every server before the first measured repetition (a cold V8 costs several times more CPU).
  for (const target of Object.keys(ports)) if (ports[target]) await warmUp(lg, target, ports[target]);
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of SCENARIOS) {
      for (const target of s.targets.flatMap((t) => (t === 'floor' ? ['floor', 'control'] : [t]))) {
        if (!ports[target]) continue;
        const pid = pids[target];
        let peak = 0;
        const sampler = s.sampleRss ? setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50) : undefined;
        const { r, c0, c1 } = await runScenario(lg, s, ports[target], pid);
        if (sampler) clearInterval(sampler);
        r.cpuUsPerRequest = ((c1 - c0) * 1000) / r.requests;
        if (s.sampleRss) r.peakRssMb = Math.max(peak, rssMb(pid));
        failures += r.errors + r.bad;
        const k = target === 'claude' ? 'proxy' : target;
        ((raw[s.key] ??= {})[k] ??= []).push(r);
      }
    }
    process.stdout.write(`  repetition ${rep + 1}/${REPS} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }

  const paired = await floorPairs(lg, ports, pids);
  const sanity = await rewriteSanity(lg, proxy.port);
  const leaks = await leakCheck({ mock, proxy, claude, baseline });
  const idleRssEnd = rssMb(proxy.pid);
  const fresh = await freshPeaks(lg, mock.port);
  failures += fresh?.failures ?? 0;
  // The isolation scenario runs last, with its own processes (see bench/isolation.mjs).
  const isolation = flag('--no-isolation') || (ONLY && !ONLY.includes('isolation')) ? undefined : await runChild('isolation.mjs', 'isolation');
  const hostMemory = flag('--no-isolation') || (ONLY && !ONLY.includes('host_memory')) ? undefined : await runChild('hostMemory.mjs', 'hostMemory');

  const stat = (key, target, field) => (raw[key]?.[target] ? summarize(raw[key][target].map((r) => r[field])) : undefined);
  const row = (scenario, key, metric, unit, field, targets = ALL) => ({
    scenario, metric, unit, key, field,
    direct: targets.includes('direct') ? stat(key, 'direct', field) : undefined,
    proxy: targets.includes('proxy') ? stat(key, 'proxy', field) : undefined,
    floor: targets.includes('floor') ? stat(key, 'floor', field) : undefined,
    nginx: targets.includes('nginx') ? stat(key, 'nginx', field) : undefined,
  });
  const vsDirect = (scenario, key, directKey, metric, field) => ({
    scenario, metric: `${metric} vs plain direct`, unit: 'ms', key, field,
    direct: stat(directKey, 'direct', field), proxy: stat(key, 'proxy', field),
  });
  const rows = [
    row('2 KB JSON, c=1', 'json_c1', 'latency p50', 'ms', 'p50'),
    row('2 KB JSON, c=1', 'json_c1', 'latency p99', 'ms', 'p99'),
    row('2 KB JSON, c=1', 'json_c1', 'CPU per request', 'µs', 'cpuUsPerRequest'),
    row('2 KB JSON, c=32', 'json_c32', 'throughput', 'req/s', 'rps'),
    row('2 KB JSON, c=32', 'json_c32', 'latency p50', 'ms', 'p50'),
    row('2 KB JSON, c=32', 'json_c32', 'CPU per request', 'µs', 'cpuUsPerRequest'),
    row('200 KB body, c=1', 'body_200k', 'latency p50', 'ms', 'p50'),
    vsDirect('200 KB + model map', 'body_200k_model', 'body_200k', 'latency p50', 'p50'),
    vsDirect('200 KB + effort override', 'body_200k_effort', 'body_200k', 'latency p50', 'p50'),
    row('2 MB body, c=1', 'body_2m', 'latency p50', 'ms', 'p50'),
    vsDirect('2 MB + model map', 'body_2m_model', 'body_2m', 'latency p50', 'p50'),
    vsDirect('2 MB + effort override', 'body_2m_effort', 'body_2m', 'latency p50', 'p50'),
    row('SSE 20 ev burst, c=1', 'sse20_c1', 'TTFB p50', 'ms', 'ttfbP50'),
    row('SSE 20 ev burst, c=1', 'sse20_c1', 'total p50', 'ms', 'p50'),
    row('SSE 20 ev burst, c=16', 'sse20_c16', 'TTFB p50', 'ms', 'ttfbP50'),
    row('SSE 20 ev burst, c=16', 'sse20_c16', 'total p50', 'ms', 'p50'),
    row('SSE 20 ev burst, c=16', 'sse20_c16', 'streams/s', 'req/s', 'rps'),
    row('SSE 20 ev, 5 ms apart, c=16', 'sse20_gap5_c16', 'TTFB p50', 'ms', 'ttfbP50'),
    row('SSE 20 ev, 5 ms apart, c=16', 'sse20_gap5_c16', 'total p50', 'ms', 'p50'),
    row('SSE opening + 20 ev 5 ms apart, c=16', 'sse_open_gap5_c16', 'first output p50', 'ms', 'firstOutputP50'),
    row('SSE opening + 20 ev 5 ms apart, c=16', 'sse_open_gap5_c16', 'TTFB p50', 'ms', 'ttfbP50'),
    row('Codex-shaped SSE (24 KB opening), c=16', 'sse_codex_c16', 'first output p50', 'ms', 'firstOutputP50'),
    row('Codex-shaped SSE (24 KB opening), c=16', 'sse_codex_c16', 'CPU per stream', 'µs', 'cpuUsPerRequest'),
    row('Claude opening + 20 ev 5 ms apart, c=16', 'claude_sse_open_gap5_c16', 'first output p50', 'ms', 'firstOutputP50', ['direct', 'proxy']),
    row('Claude 2 KB JSON, c=1', 'claude_json_c1', 'latency p50', 'ms', 'p50', ['direct', 'proxy']),
    row('Claude SSE 20 ev, c=1', 'claude_sse20_c1', 'total p50', 'ms', 'p50', ['direct', 'proxy']),
    row('256 slow streams', 'streams_256', 'peak RSS', 'MB', 'peakRssMb', ['proxy', 'floor', 'nginx']),
    row('256 slow streams', 'streams_256', 'CPU per stream', 'µs', 'cpuUsPerRequest', ['proxy', 'floor', 'nginx']),
  ].filter((r) => r.direct || r.proxy || r.floor || r.nginx);

  console.log('');
  printTable(rows);
  console.log('');
  console.log(`proxy RSS idle: ${idleRssStart.toFixed(1)} MB at start, ${idleRssEnd.toFixed(1)} MB after the run`);
  console.log(`rewrite sanity: ${sanity.detail}`);
  console.log('');

  const med = (key, target, field) => stat(key, target, field)?.median ?? NaN;
  const check = (name, value, pass, detail) => ({ name, value, pass: Number.isFinite(value) ? pass : undefined, detail });
  const ratioC1 = med('json_c1', 'proxy', 'p50') / med('json_c1', 'direct', 'p50');
  const ratioC32 = med('json_c32', 'proxy', 'rps') / med('json_c32', 'direct', 'rps');
  const addTtfb = med('sse20_gap5_c16', 'proxy', 'ttfbP50') - med('sse20_gap5_c16', 'direct', 'ttfbP50');
  const addTotal = med('sse20_gap5_c16', 'proxy', 'p50') - med('sse20_gap5_c16', 'direct', 'p50');
  const addFirstOutput = med('sse_open_gap5_c16', 'proxy', 'firstOutputP50') - med('sse_open_gap5_c16', 'direct', 'firstOutputP50');
  const addFirstOutputClaude = med('claude_sse_open_gap5_c16', 'proxy', 'firstOutputP50') - med('claude_sse_open_gap5_c16', 'direct', 'firstOutputP50');
  const add2m = med('body_2m_model', 'proxy', 'p50') - med('body_2m', 'direct', 'p50');
  const cpuReq = med('json_c32', 'proxy', 'cpuUsPerRequest');
  const rssIdle = Math.max(idleRssStart, idleRssEnd);
  const rss256 = med('streams_256', 'proxy', 'peakRssMb');
  const targets = [
    check('latency c=1, 2 KB JSON: proxy p50 ≤ ×1.5 direct', ratioC1, ratioC1 <= 1.5, `×${ratioC1.toFixed(2)}`),
    check('throughput c=32: proxy ≥ ×0.5 direct', ratioC32, ratioC32 >= 0.5, `×${ratioC32.toFixed(2)}`),
    check('SSE 5 ms apart, c=16: added TTFB ≤ 0.3 ms', addTtfb, addTtfb <= 0.3, `${plus(addTtfb, 3)} ms`),
    check('SSE 5 ms apart, c=16: added total ≤ 1 ms', addTotal, addTotal <= 1, `${plus(addTotal, 3)} ms`),
    check('SSE opening held, c=16: added to the first output event ≤ 0.3 ms', addFirstOutput, addFirstOutput <= 0.3,
      `${plus(addFirstOutput, 3)} ms (×${(med('sse_open_gap5_c16', 'proxy', 'firstOutputP50') / med('sse_open_gap5_c16', 'direct', 'firstOutputP50')).toFixed(3)}; plain spaced SSE TTFB ${plus(addTtfb, 3)} ms)`),
    check('Claude opening held, c=16: added to the first output event ≤ 0.3 ms', addFirstOutputClaude, addFirstOutputClaude <= 0.3, `${plus(addFirstOutputClaude, 3)} ms`),
    check('2 MB body with model rewrite: added ≤ 5 ms', add2m, add2m <= 5, `${plus(add2m, 2)} ms`),
    check('proxy CPU per non-stream request (c=32) ≤ 60 µs', cpuReq, cpuReq <= 60, `${cpuReq.toFixed(1)} µs`),
    check('proxy RSS idle ≤ 80 MB', rssIdle, rssIdle <= 80, `${rssIdle.toFixed(1)} MB`),
    check('proxy RSS with 256 open streams ≤ 150 MB', rss256, rss256 <= 150, `${rss256.toFixed(1)} MB`),
    { name: 'nothing left behind (active, sockets, fds, idle CPU)', pass: leaks.pass, detail: leaks.detail },
    { name: 'every request answered 200', pass: failures === 0, detail: `${failures} errors/non-200` },
    { name: 'rewrites really applied (model map, effort)', pass: sanity.pass, detail: sanity.detail },
  ];
  // The floor is a keep-alive pass-through with no logic (bench/floorProxy.mjs), measured in the same run. The
  // ratios come from the interleaved pairs (floorPairs) when they ran: on a shared machine the load changes between
  // two scenarios seconds apart more than between the two halves of a pair.
  const cpuFloor = paired?.cpu ?? med('json_c32', 'proxy', 'cpuUsPerRequest') / med('json_c32', 'floor', 'cpuUsPerRequest');
  const ttfbFloor = paired?.ttfb ?? med('sse20_gap5_c16', 'proxy', 'ttfbP50') / med('sse20_gap5_c16', 'floor', 'ttfbP50');
  if (paired) {
    const list = (a) => a.map((x) => x.toFixed(2)).join(' ');
    const sl = paired.slices;
    const each = (k) => Object.entries(paired.byFloor).map(([f, r]) => `÷ ${f} ×${r[k].toFixed(2)}`).join(', ');
    console.log(`proxy ÷ node floor (${paired.reference === 'floor' ? 'one floor process' : 'the floor and its control together'}): ` +
      `CPU per request (c=32), ${paired.cpuPairs.length} interleaved pairs (median) ×${paired.cpu.toFixed(2)} [${list(paired.cpuPairs)}] (${each('cpu')})`);
    console.log(`  spaced-SSE TTFB (c=16), ${sl.rounds} shuffled rounds (seed ${sl.seed}) of ${sl.waves}-wave slices, ` +
      `${sl.samplesPerTarget} first bytes per target and shape, pooled p50 ÷ pooled p50 [by block]:`);
    console.log(`    aligned, settled (${sl.settledPerTarget} first bytes: each slice's first wave left out) ×${paired.ttfb.toFixed(2)} ` +
      `[${list(paired.ttfbBlocks)}] (${paired.ttfbP50Ms.toFixed(3)} against ${paired.floorTtfbP50Ms.toFixed(3)} ms; ${each('ttfb')})`);
    console.log(`    aligned, every wave ×${paired.ttfbAligned.toFixed(2)} [${list(paired.ttfbAlignedBlocks)}] ` +
      `(${paired.ttfbAlignedP50Ms.toFixed(3)} against ${paired.floorTtfbAlignedP50Ms.toFixed(3)} ms); ` +
      `staggered ×${paired.ttfbStaggered.toFixed(2)} [${list(paired.ttfbStaggeredBlocks)}] ` +
      `(${paired.ttfbStaggeredP50Ms.toFixed(3)} against ${paired.floorTtfbStaggeredP50Ms.toFixed(3)} ms)`);
    const c = paired.control;
    if (c) {
      const rss = med('streams_256', 'control', 'peakRssMb') - med('streams_256', 'floor', 'peakRssMb');
      console.log(`  control (a second node floor, same requests, pairs and rounds) against the floor: CPU ×${c.cpu.toFixed(2)} [${list(c.cpuPairs)}]; ` +
        `TTFB settled ×${c.ttfb.toFixed(2)} [${list(c.ttfbBlocks)}], every wave ×${c.ttfbAligned.toFixed(2)} [${list(c.ttfbAlignedBlocks)}], ` +
        `staggered ×${c.ttfbStaggered.toFixed(2)} [${list(c.ttfbStaggeredBlocks)}]${Number.isNaN(rss) ? '' : `; peak RSS with 256 streams ${plus(rss, 1)} MB`}`);
    }
    console.log(`  (ratios of the table's medians: CPU ×${(med('json_c32', 'proxy', 'cpuUsPerRequest') / med('json_c32', 'floor', 'cpuUsPerRequest')).toFixed(2)}, ` +
      `TTFB ×${(med('sse20_gap5_c16', 'proxy', 'ttfbP50') / med('sse20_gap5_c16', 'floor', 'ttfbP50')).toFixed(2)})`);
    console.log('');
  }
  // Against both floor processes when the control ran (the mean of their peaks), like the pairs.
  const controlRss = med('streams_256', 'control', 'peakRssMb');
  const floorRss = med('streams_256', 'floor', 'peakRssMb');
  const rssInRun = med('streams_256', 'proxy', 'peakRssMb') - (Number.isNaN(controlRss) ? floorRss : (floorRss + controlRss) / 2);
  if (fresh) {
    const list = (a) => a.map((x) => x.toFixed(1)).join(' ');
    const m = (a) => summarize(a).median;
    console.log(`peak RSS through the bench's load, fresh processes (${fresh.rounds} round${fresh.rounds > 1 ? 's' : ''}, median [each round]): ` +
      `proxy ${fresh.proxy.toFixed(1)} MB [${list(fresh.peaks.proxy)}], floor ${fresh.floor.toFixed(1)} [${list(fresh.peaks.floor)}], ` +
      `control ${fresh.control.toFixed(1)} [${list(fresh.peaks.control)}]: proxy ${plus(fresh.proxy - (fresh.floor + fresh.control) / 2, 1)} MB ` +
      `against the two floors, control ${plus(fresh.control - fresh.floor, 1)} against the floor`);
    const at256 = (t) => fresh.byScenario[t].map((pass) => pass.streams_256);
    console.log(`  during streams_256 alone: proxy ${m(at256('proxy')).toFixed(1)} [${list(at256('proxy'))}], ` +
      `floor ${m(at256('floor')).toFixed(1)} [${list(at256('floor'))}], control ${m(at256('control')).toFixed(1)} [${list(at256('control'))}]; ` +
      `in the run's own processes (the table) the proxy read ${plus(rssInRun, 1)} MB against the two floors`);
    console.log('');
  }
  const rssFloor = fresh ? fresh.proxy - (fresh.floor + fresh.control) / 2 : rssInRun;
  targets.push(
    check('CPU per request (c=32) within 10 % of the node floor', cpuFloor, cpuFloor <= 1.1, `×${cpuFloor.toFixed(2)} floor`),
    check('spaced-SSE TTFB (5 ms apart, c=16, settled waves) within 10 % of the node floor', ttfbFloor, ttfbFloor <= 1.1, `×${ttfbFloor.toFixed(2)} floor`),
    fresh
      ? check(`peak RSS through the bench's load within 15 MB of the node floor (fresh processes, median of ${fresh.rounds})`, rssFloor, rssFloor <= 15, `${plus(rssFloor, 1)} MB`)
      : check('peak RSS with 256 streams within 15 MB of the node floor', rssFloor, rssFloor <= 15, `${plus(rssFloor, 1)} MB`),
  );
  if (isolation) {
    const add = isolation.addedP99.worker;
    targets.push(check(`host thread blocked ${isolation.blockMs} ms/s, ${isolation.streams} spaced streams: worker adds ≤ 5 ms p99`, add, add <= 5, `${plus(add, 2)} ms (on the blocked thread: ${plus(isolation.addedP99.main, 1)} ms)`));
  }
  const allPass = printTargets(targets);
  const elapsed = (Date.now() - t0) / 1000;
  console.log(`\nfinished in ${elapsed.toFixed(0)} s`);

  const result = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    repetitions: REPS,
    nodeArgs: PROXY_NODE_ARGS,
    elapsedSeconds: elapsed,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version, platform: process.platform, pinning: plan, nginx: nginx?.bin },
    idleRssMb: { start: idleRssStart, end: idleRssEnd },
    floorPairs: paired,
    freshPeaks: fresh,
    rows: rows.map((r) => ({ scenario: r.scenario, metric: r.metric, unit: r.unit, direct: r.direct, proxy: r.proxy, floor: r.floor, nginx: r.nginx })),
    markdown: markdownTable(rows),
    targets,
    leaks,
    isolation,
    hostMemory,
    raw,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`results written to ${OUT}`);
  return flag('--strict') && !allPass ? 1 : 0;
}

/** Runs a bench script (isolation.mjs, hostMemory.mjs) as a child: it prints its own table and sends `key` back. */
function runChild(script, key) {
  return new Promise((resolveRun) => {
    const c = track(fork(join(here, script), QUICK ? ['--quick'] : [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    let result;
    c.on('message', (m) => (result = m?.[key] ?? result));
    c.once('exit', () => resolveRun(result));
  });
}

/** One request per rewrite through the proxy, then the recent list must show the mapped model and the effort. */
async function rewriteSanity(lg, port) {
  await lg.run({ ...json, model: 'gpt-5', bytes: 2 * KB, concurrency: 1, requests: 1, warmup: 0, port });
  const a = (await httpJson(port, 'GET', `${ADMIN}/status/recent?limit=1`)).json?.[0];
  await lg.run({ ...json, headers: { 'session-id': EFFORT_SESSION }, bytes: 2 * KB, concurrency: 1, requests: 1, warmup: 0, port });
  const b = (await httpJson(port, 'GET', `${ADMIN}/status/recent?limit=1`)).json?.[0];
  const pass = a?.mapped_model === 'gpt-5-mapped' && b?.reasoning_effort === 'high';
  return { pass, detail: `mapped_model=${a?.mapped_model ?? '-'}, reasoning_effort=${b?.reasoning_effort ?? '-'}` };
}

/** After the load: no in-flight entries, the proxy's sockets and fds back to their pre-run count, no idle CPU. */
async function leakCheck({ mock, proxy, claude, baseline }) {
  await new Promise((res) => {
    mock.child.once('message', res);
    mock.child.send({ cmd: 'closeIdle' });
  });
  const active = [];
  for (const p of [proxy, claude]) active.push(...((await httpJson(p.port, 'GET', `${ADMIN}/status/active`)).json ?? []));
  let now;
  const until = Date.now() + 5000;
  for (;;) {
    now = { proxy: fdCounts(proxy.pid), claude: fdCounts(claude.pid) };
    const back = ['proxy', 'claude'].every((k) => now[k].sockets <= baseline[k].sockets && now[k].total <= baseline[k].total);
    if (back || Date.now() > until) break;
    await sleep(100);
  }
  const c0 = cpuMs(proxy.pid);
  await sleep(1000);
  const idleCpuMs = cpuMs(proxy.pid) - c0;
  const socketsOk = ['proxy', 'claude'].every((k) => now[k].sockets <= baseline[k].sockets);
  const fdsOk = ['proxy', 'claude'].every((k) => now[k].total <= baseline[k].total);
  const pass = active.length === 0 && socketsOk && fdsOk && idleCpuMs <= 20;
  const detail = `active=${active.length}, sockets ${now.proxy.sockets}/${baseline.proxy.sockets} (codex) ` +
    `${now.claude.sockets}/${baseline.claude.sockets} (claude), fds ${now.proxy.total}/${baseline.proxy.total}, ` +
    `idle CPU ${idleCpuMs.toFixed(0)} ms/s`;
  return { pass, detail, active: active.length, baseline, after: now, idleCpuMs };
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (e) => {
    console.error(`bench failed: ${e?.stack ?? e}`);
    cleanup();
    process.exit(2);
  },
);
