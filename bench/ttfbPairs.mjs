// Spaced-SSE TTFB of two builds (or a build and `floor`): 20 events 5 ms apart at c=16, read the way `npm run bench`
// reads the proxy against the node floor (bench/ttfbSlices.mjs: short slices, shuffled rounds, first bytes pooled),
// with the streams aligned and staggered. Prints the second target ÷ the first, pooled and block by block. Compare
// a build with a copy of itself first: that spread is what the machine gives by chance.
//
//   cp -r dist /tmp/before && <change> && node esbuild.mjs && node bench/ttfbPairs.mjs /tmp/before dist [rounds] [--seed N]
import { scratch, SPACED_SSE, startLoadgen, startMock, startTargets, warmForSpacedSse } from './procs.mjs';
import { SHAPES, sliceRatio, ttfbSlices } from './ttfbSlices.mjs';

const argv = process.argv.slice(2);
const seedAt = argv.indexOf('--seed');
const seed = seedAt >= 0 ? Number(argv[seedAt + 1]) : undefined;
const rest = argv.filter((_, i) => seedAt < 0 || (i !== seedAt && i !== seedAt + 1));
const targets = rest.slice(0, 2);
const ROUNDS = Number(rest[2] ?? 48);
if (targets.length !== 2 || !(ROUNDS > 0) || (seed !== undefined && !Number.isFinite(seed))) {
  console.error('usage: node bench/ttfbPairs.mjs <dist dir | floor> <dist dir | floor> [rounds] [--seed N]');
  process.exit(2);
}
const s = scratch('codex-helper-ttfb-');
const { port: mockPort } = await startMock(s);
const lg = await startLoadgen((c) => s.children.push(c));
const started = await startTargets(targets, mockPort, s);
await warmForSpacedSse(lg, started);
// Two targets with one name (a build against itself) get their own names in the pools.
const named = started.map((t, i) => ({ name: `${i}:${t.name}`, port: t.port }));
const r = await ttfbSlices(lg, named, SPACED_SSE, { rounds: ROUNDS, ...(seed === undefined ? {} : { seed }) });
console.log(`spaced-SSE TTFB p50, ${targets[1]} ÷ ${targets[0]}, ${ROUNDS} shuffled rounds (seed ${r.seed}), first bytes pooled [by block]:`);
const reopened = Object.entries(r.newSockets).filter(([, n]) => n > 0);
if (reopened.length > 0) console.log(`  (connections reopened during the rounds: ${reopened.map(([k, n]) => `${k} ${n}`).join(', ')})`);
for (const shape of SHAPES) {
  const x = sliceRatio(r, named[1].name, named[0].name, shape);
  console.log(`  ${shape.padEnd(9)} ×${x.ratio.toFixed(3)} [${x.blocks.map((b) => b.toFixed(2)).join(' ')}] (${x.p50[0].toFixed(3)} against ${x.p50[1].toFixed(3)} ms)`);
}
process.exit(0);
