// Two proxy builds side by side under one load, for changes too small for `npm run bench` to see on a shared
// machine: both run at the same time, pinned to the same core, and the load generator alternates its workers
// between them, so the machine's other load falls on both alike. CPU per request comes from the scheduler's
// per-thread counters (nanoseconds). Each target is a directory holding a `cli.js` (a copy of `dist/` made with
// `node esbuild.mjs`) or `floor` (bench/floorProxy.mjs).
//
//   cp -r dist /tmp/before && <change> && node esbuild.mjs && node bench/ab.mjs /tmp/before dist
//   node bench/ab.mjs floor dist --sse --rounds 6 --requests 4000
//   node bench/ab.mjs /tmp/before dist --sse --gap 5 --rounds 6 --requests 640   (spaced streams, 100 ms each)
//   node bench/ab.mjs /tmp/before dist --sse --instr 24576   (Codex-shaped: 24 KB of instructions in the opening)
//
// Prints, per round, the second target's CPU per request over the first's, and their median. Both share one core,
// so each also evicts the other's caches: the larger program pays more of that, and absolute numbers are higher
// than in `npm run bench`. Compare builds with it; quote `npm run bench` for the floor targets.
import { scratch, startLoadgen, startMock, startTargets, threadCpuMs } from './procs.mjs';
import { summarize } from './report.mjs';

const argv = process.argv.slice(2);
const opt = (n, d) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : d;
};
const VALUED = ['--rounds', '--requests', '--gap', '--instr'];
const targets = argv.filter((a, i) => !a.startsWith('--') && !VALUED.includes(argv[i - 1]));
if (targets.length !== 2) {
  console.error('usage: node bench/ab.mjs <dist dir | floor> <dist dir | floor> [--sse [--gap MS] [--instr B]] [--rounds N] [--requests N]');
  process.exit(2);
}
const ROUNDS = Number(opt('--rounds', 8));
const REQUESTS = Number(opt('--requests', 8000));
const SSE = argv.includes('--sse');
// --gap MS: the stream's events MS apart (a spaced stream: each event is a read and a write of its own).
const GAP = SSE ? Number(opt('--gap', 0)) : 0;
// --instr B: the stream opens with response.created and response.in_progress carrying B bytes of instructions.
const INSTR = SSE ? Number(opt('--instr', 0)) : 0;

const session = scratch('codex-helper-ab-');
const { children } = session;

const { port: mockPort } = await startMock(session);

const { run } = await startLoadgen((c) => children.push(c));

const started = (await startTargets(targets, mockPort, session)).map((t) => ({ ...t, cpu: [] }));

const shape = { kind: 'responses', model: 'gpt-5-codex', bytes: 2048, ...(SSE ? { path: `/v1/responses?sse=20${GAP > 0 ? `&gap=${GAP}` : ''}${INSTR > 0 ? `&open=1&instr=${INSTR}` : ''}`, stream: true } : { path: '/v1/responses', stream: false }) };
const ports = started.map((s) => s.port);
// JIT warm-up of both.
await run({ ...shape, ports, concurrency: 16, requests: GAP > 0 ? 600 : 6000, warmup: 0 });
console.log(`ab: ${started.map((s) => s.name).join(' vs ')}, ${SSE ? `SSE (20 events${GAP > 0 ? `, ${GAP} ms apart` : ''}${INSTR > 0 ? `, an opening with ${INSTR} B of instructions` : ''})` : '2 KB JSON'}, c=32, ${ROUNDS} rounds of ${REQUESTS}`);
const ratios = [];
for (let r = 0; r < ROUNDS; r++) {
  // Which target gets the even workers alternates.
  const order = r % 2 ? [1, 0] : [0, 1];
  const before = started.map((s) => threadCpuMs(s.pid));
  const res = await run({ ...shape, ports: order.map((i) => ports[i]), concurrency: 32, requests: REQUESTS, warmup: 0 });
  const answered = [0, 0];
  order.forEach((i, k) => (answered[i] = res.perTarget[k]));
  started.forEach((s, i) => s.cpu.push(((threadCpuMs(s.pid) - before[i]) * 1000) / answered[i]));
  ratios.push(started[1].cpu[r] / started[0].cpu[r]);
  console.log(`  round ${r + 1}: ${started.map((s) => `${s.cpu[r].toFixed(1)} µs`).join(' vs ')}  ×${ratios[r].toFixed(3)}`);
}
const m = (a) => summarize(a).median;
console.log(`CPU per request: ${started[0].name} ${m(started[0].cpu).toFixed(1)} µs, ${started[1].name} ${m(started[1].cpu).toFixed(1)} µs; ` +
  `second ÷ first, median of rounds: ×${m(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}]`);
process.exit(0);
