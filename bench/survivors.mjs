// What each request leaves behind for V8's young-generation collector: the bytes its scavenges copy or promote
// (`--trace-gc-nvp`: `new_space_survived` + `promoted`) per request, for SSE bursts (c=16) and 2 KB JSON (c=8).
// Objects that outlive a scavenge cost its time, fill the old generation between full collections, and make V8
// grow the young generation (it doubles once as many bytes survived as it holds): that growth is most of the
// proxy's RSS above the node floor's. The semi-space is fixed at 16 MB so targets compare at the same size.
//
//   node bench/survivors.mjs dist floor                (one build against the node floor)
//   node bench/survivors.mjs /tmp/before dist --rounds 3
//
// Each target is a directory holding `cli.js` (a copy of `dist/`) or `floor`; each round starts every target afresh.
import { scratch, startLoadgen, startMock, startTargets } from './procs.mjs';
import { summarize } from './report.mjs';

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 2;
const targets = argv.filter((a, i) => !a.startsWith('--') && (roundsAt < 0 || i !== roundsAt + 1));
if (targets.length === 0 || !(ROUNDS > 0)) {
  console.error('usage: node bench/survivors.mjs <dist dir | floor>... [--rounds N]');
  process.exit(2);
}
const V8_ARGS = ['--trace-gc-nvp', '--min-semi-space-size=16', '--max-semi-space-size=16'];
const REQUESTS = 12_000;
const base = { kind: 'responses', path: '/v1/responses', model: 'gpt-5-codex', stream: false, bytes: 2048, warmup: 0 };
const SCENARIOS = [
  ['SSE 20 ev burst, c=16', { ...base, path: '/v1/responses?sse=20', stream: true, concurrency: 16 }],
  ['2 KB JSON, c=8', { ...base, concurrency: 8 }],
];

const s = scratch('codex-helper-survivors-');
const { port: mockPort } = await startMock(s);
const lg = await startLoadgen((c) => s.children.push(c));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const results = new Map(targets.map((t) => [t, SCENARIOS.map(() => [])]));
for (let round = 0; round < ROUNDS; round++) {
  for (const t of targets) {
    const [target] = await startTargets([t], mockPort, s, V8_ARGS);
    const { child } = target;
    let survived = 0;
    child.stdout.on('data', (d) => {
      for (const line of String(d).split('\n')) {
        if (!/\bgc=s\b/.test(line)) continue;
        survived += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0) + Number(/\bnew_space_survived=(\d+)/.exec(line)?.[1] ?? 0);
      }
    });
    // Warm-up: JIT and the pools, then each scenario once before it is measured.
    await lg.run({ ...base, concurrency: 8, requests: 4000, port: target.port });
    const out = [];
    for (const [k, [name, spec]] of SCENARIOS.entries()) {
      await lg.run({ ...spec, requests: 2000, port: target.port });
      await sleep(300);
      survived = 0;
      await lg.run({ ...spec, requests: REQUESTS, port: target.port });
      await sleep(300);
      results.get(t)[k].push(survived / REQUESTS);
      out.push(`${name} ${(survived / REQUESTS).toFixed(0)} B`);
    }
    console.log(`round ${round + 1} ${t}: ${out.join(', ')}`);
    child.kill('SIGTERM');
  }
}
console.log('\nbytes surviving the young-generation collector per request (median of rounds):');
for (const t of targets) {
  console.log(`  ${t.padEnd(20)} ${SCENARIOS.map(([name], k) => `${name} ${summarize(results.get(t)[k]).median.toFixed(0)}`).join('  ')}`);
}
process.exit(0);
