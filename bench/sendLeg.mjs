// The proxy's request leg under the bench's spaced-SSE load (20 events 5 ms apart, c=16): from a request's
// arrival to its write upstream, p50 per turn, stamped inside each target by bench/sendLeg.cjs. At c=16 the streams
// end, and their clients' next requests arrive, in waves; undici writes a request on a kept-alive socket from an
// immediate, after the event loop's poll phase, so this leg is where the proxy's own steps before the send, and
// whatever else runs ahead of that immediate, reach the TTFB. Two targets take turns (the order flipped every pair);
// prints each pair, then the median difference (second − first) and the median TTFB ratio of the same turns.
//
//   node bench/sendLeg.mjs floor dist [pairs]
//   node bench/sendLeg.mjs /tmp/before dist 16
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratch, SPACED_SSE, startLoadgen, startMock, startTargets, warmForSpacedSse } from './procs.mjs';
import { summarize } from './report.mjs';

const targets = process.argv.slice(2, 4);
const PAIRS = Number(process.argv[4] ?? 10);
if (targets.length !== 2 || !(PAIRS > 0)) {
  console.error('usage: node bench/sendLeg.mjs <dist dir | floor> <dist dir | floor> [pairs]');
  process.exit(2);
}
const WAVES = 12;
const preload = join(dirname(fileURLToPath(import.meta.url)), 'sendLeg.cjs');
const s = scratch('codex-helper-sendleg-');
const { port: mockPort } = await startMock(s);
const lg = await startLoadgen((c) => s.children.push(c));
const outs = targets.map((_, i) => join(s.tmp, `leg-${i}.json`));
const started = [];
for (const [i, t] of targets.entries()) {
  process.env.SEND_LEG_OUT = outs[i];
  process.env.SEND_LEG_KEEP = String(16 * WAVES);
  started.push(...(await startTargets([t], mockPort, s, ['-r', preload])));
}
await warmForSpacedSse(lg, started);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The target's legs once it wrote the stamps of `count` requests. */
async function legsAfter(i, count) {
  for (let tries = 0; tries < 50; tries++) {
    try {
      const r = JSON.parse(readFileSync(outs[i], 'utf8'));
      if (r.count >= count) return r;
    } catch {
      // not written yet
    }
    await sleep(100);
  }
  throw new Error(`${targets[i]}: no stamps for ${count} requests (was it started with ${preload}?)`);
}
// Every request of the warm-up went upstream: 3000 JSON and 64 streams.
const sent = [3064, 3064];
const diffs = [];
const ratios = [];
for (let p = 0; p < PAIRS; p++) {
  const leg = [];
  const ttfb = [];
  for (const k of p % 2 ? [1, 0] : [0, 1]) {
    await lg.run({ ...SPACED_SSE, requests: 16, port: started[k].port, keepAgent: true });
    ttfb[k] = (await lg.run({ ...SPACED_SSE, requests: 16 * WAVES, port: started[k].port })).ttfbP50;
    sent[k] += 16 * (WAVES + 1);
    leg[k] = (await legsAfter(k, sent[k])).p50;
  }
  diffs.push(leg[1] - leg[0]);
  ratios.push(ttfb[1] / ttfb[0]);
  console.log(`pair ${p + 1}: arrival → upstream write p50 ${leg[0].toFixed(1)} / ${leg[1].toFixed(1)} µs, TTFB p50 ${ttfb[0].toFixed(3)} / ${ttfb[1].toFixed(3)} ms`);
}
const d = summarize(diffs);
const r = summarize(ratios);
console.log(`arrival → upstream write p50, ${targets[1]} − ${targets[0]}, ${PAIRS} pairs: ${d.median >= 0 ? '+' : ''}${d.median.toFixed(1)} µs [${d.min.toFixed(1)} … ${d.max.toFixed(1)}]; spaced-SSE TTFB ×${r.median.toFixed(3)}`);
process.exit(0);
