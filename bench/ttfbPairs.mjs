// Spaced-SSE TTFB of two builds (or a build and `floor`): 20 events 5 ms apart at c=16, read the way `npm run bench`
// reads the proxy against the node floor (bench/ttfbSlices.mjs: short slices, shuffled rounds, first bytes pooled),
// with the streams aligned (every wave; settled: each slice's first wave left out; that first wave alone) and
// staggered. Prints the second target ÷ the first, pooled and block by block. Compare a build with a copy of itself
// first: that spread is what the machine gives by chance. `--spin US` adds a busy wait of US µs to every request of
// the second target (bench/spin.cjs): a known cost, to see what size of difference per request the reading can tell.
//
//   cp -r dist /tmp/before && <change> && node esbuild.mjs && node bench/ttfbPairs.mjs /tmp/before dist [rounds] [--seed N]
//   node bench/ttfbPairs.mjs floor floor 48 --spin 20
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch, SPACED_SSE, startLoadgen, startMock, startTargets, warmForSpacedSse } from './procs.mjs';
import { READINGS, sliceRatio, ttfbSlices } from './ttfbSlices.mjs';

const argv = process.argv.slice(2);
const valued = (name) => {
  const at = argv.indexOf(name);
  return at >= 0 ? { at, value: Number(argv[at + 1]) } : undefined;
};
const seedOpt = valued('--seed');
const spinOpt = valued('--spin');
const seed = seedOpt?.value;
const spinUs = spinOpt?.value ?? 0;
const taken = new Set([seedOpt, spinOpt].flatMap((o) => (o ? [o.at, o.at + 1] : [])));
const rest = argv.filter((_, i) => !taken.has(i));
const targets = rest.slice(0, 2);
const ROUNDS = Number(rest[2] ?? 48);
if (targets.length !== 2 || !(ROUNDS > 0) || (seed !== undefined && !Number.isFinite(seed)) || !(spinUs >= 0)) {
  console.error('usage: node bench/ttfbPairs.mjs <dist dir | floor> <dist dir | floor> [rounds] [--seed N] [--spin US]');
  process.exit(2);
}
const s = scratch('codex-helper-ttfb-');
const { port: mockPort } = await startMock(s);
const lg = await startLoadgen((c) => s.children.push(c));
const started = await startTargets(targets.slice(0, 1), mockPort, s);
// The second target alone gets the busy wait (its environment is read when it is spawned).
if (spinUs > 0) process.env.CODEX_HELPER_BENCH_SPIN_US = String(spinUs);
const spinArgs = spinUs > 0 ? ['-r', join(dirname(fileURLToPath(import.meta.url)), 'spin.cjs')] : [];
started.push(...(await startTargets(targets.slice(1), mockPort, s, spinArgs)));
delete process.env.CODEX_HELPER_BENCH_SPIN_US;
await warmForSpacedSse(lg, started);
// Two targets with one name (a build against itself) get their own names in the pools.
const named = started.map((t, i) => ({ name: `${i}:${t.name}`, port: t.port }));
const r = await ttfbSlices(lg, named, SPACED_SSE, { rounds: ROUNDS, ...(seed === undefined ? {} : { seed }) });
console.log(`spaced-SSE TTFB p50, ${targets[1]}${spinUs > 0 ? ` (+${spinUs} µs per request)` : ''} ÷ ${targets[0]}, ${ROUNDS} shuffled rounds (seed ${r.seed}), first bytes pooled [by block]:`);
const reopened = Object.entries(r.newSockets).filter(([, n]) => n > 0);
if (reopened.length > 0) console.log(`  (connections reopened during the rounds: ${reopened.map(([k, n]) => `${k} ${n}`).join(', ')})`);
for (const reading of READINGS) {
  const x = sliceRatio(r, named[1].name, named[0].name, reading);
  console.log(`  ${reading.padEnd(9)} ×${x.ratio.toFixed(3)} [${x.blocks.map((b) => b.toFixed(2)).join(' ')}] (${x.p50[0].toFixed(3)} against ${x.p50[1].toFixed(3)} ms)`);
}
process.exit(0);
