// Spaced-SSE TTFB of two targets taking turns: 20 events 5 ms apart at c=16, 12 waves per turn, the order flipped
// every pair; prints the median of the per-pair ratios (second ÷ first). The same measure as `npm run bench`'s
// floor pairs, for two builds (or a build and `floor`). Compare a build with a copy of itself first: that spread is
// what the machine gives by chance.
//
//   cp -r dist /tmp/before && <change> && node esbuild.mjs && node bench/ttfbPairs.mjs /tmp/before dist [pairs]
import { scratch, startLoadgen, startMock, startTargets } from './procs.mjs';
import { summarize } from './report.mjs';

const targets = process.argv.slice(2, 4);
const PAIRS = Number(process.argv[4] ?? 20);
if (targets.length !== 2 || !(PAIRS > 0)) {
  console.error('usage: node bench/ttfbPairs.mjs <dist dir | floor> <dist dir | floor> [pairs]');
  process.exit(2);
}
const s = scratch('codex-helper-ttfb-');
const { port: mockPort } = await startMock(s);
const lg = await startLoadgen((c) => s.children.push(c));
const started = await startTargets(targets, mockPort, s);
const base = { kind: 'responses', model: 'gpt-5-codex', bytes: 2048, warmup: 0 };
const spaced = { ...base, path: '/v1/responses?sse=20&gap=5', stream: true, concurrency: 16 };
for (const t of started) {
  await lg.run({ ...base, path: '/v1/responses', stream: false, concurrency: 8, requests: 3000, port: t.port });
  await lg.run({ ...spaced, requests: 64, port: t.port });
}
const ratios = [];
for (let i = 0; i < PAIRS; i++) {
  const ttfb = [];
  for (const k of i % 2 ? [1, 0] : [0, 1]) {
    await lg.run({ ...spaced, requests: 16, port: started[k].port, keepAgent: true });
    ttfb[k] = (await lg.run({ ...spaced, requests: 16 * 12, port: started[k].port })).ttfbP50;
  }
  ratios.push(ttfb[1] / ttfb[0]);
}
const r = summarize(ratios);
console.log(`spaced-SSE TTFB p50, ${targets[1]} ÷ ${targets[0]}, ${PAIRS} pairs: ×${r.median.toFixed(3)} [${r.min.toFixed(2)}–${r.max.toFixed(2)}]`);
process.exit(0);
