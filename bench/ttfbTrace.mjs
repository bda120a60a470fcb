// Where the spaced-SSE TTFB goes, per segment, for two targets under the bench's load (20 events 5 ms apart, c=16,
// 12 waves per turn, turns alternating). Each request carries an id; the load generator stamps its send and first
// body byte, the targets stamp the rest (bench/ttfbStamps.mjs, loaded with --import), all on the machine's
// monotonic clock, and the medians per segment are printed:
//
//   client→start   the load generator's send → node:http parsed the request (the target's event loop, busy or not)
//   start→create   the target's own work before it hands the request to undici
//   create→send    undici's wait before it writes (an immediate, after the rest of the event loop's poll phase)
//   send→head      the upstream's work, and the target's loop getting to its head
//   head→chunk     the head → the first body chunk read
//   chunk→client   the first chunk → the load generator has it
//
//   node bench/ttfbTrace.mjs floor dist [pairs]
//   node bench/ttfbTrace.mjs floor@--max-semi-space-size=8 dist@--max-semi-space-size=8 6
import { mkdtempSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scratch, SPACED_SSE, startLoadgen, startMock, startTargets, warmForSpacedSse } from './procs.mjs';

const targets = process.argv.slice(2, 4);
const PAIRS = Number(process.argv[4] ?? 6);
if (targets.length !== 2 || !(PAIRS > 0)) {
  console.error('usage: node bench/ttfbTrace.mjs <dist dir | floor> <dist dir | floor> [pairs]');
  process.exit(2);
}
const s = scratch('codex-helper-ttfbtrace-');
process.env.TTFB_TRACE_DIR = mkdtempSync(join(s.tmp, 'stamps-'));
const { port: mockPort } = await startMock(s);
const lg = await startLoadgen((c) => s.children.push(c));
const stamps = `--import=${pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'ttfbStamps.mjs')).href}`;
const started = await startTargets(targets, mockPort, s, [stamps]);
await warmForSpacedSse(lg, started);
const sent = [[], []];
for (let i = 0; i < PAIRS; i++) {
  for (const k of i % 2 ? [1, 0] : [0, 1]) {
    await lg.run({ ...SPACED_SSE, requests: 16, port: started[k].port, keepAgent: true });
    sent[k].push(...(await lg.run({ ...SPACED_SSE, requests: 16 * 12, port: started[k].port, trace: true })).traces);
  }
}
await Promise.all(started.map((t) => new Promise((resolve) => {
  t.child.once('exit', resolve);
  t.child.kill('SIGTERM');
})));

const median = (xs) => {
  const a = xs.filter(Number.isFinite).sort((p, q) => p - q);
  return a[a.length >> 1];
};
const SEGMENTS = {
  'client→start': (c, p) => p.start - c.sent,
  'start→create': (c, p) => p.create - p.start,
  'create→send': (c, p) => p.send - p.create,
  'send→head': (c, p) => p.head - p.send,
  'head→chunk': (c, p) => p.chunk - p.head,
  'chunk→client': (c, p) => c.first - p.chunk,
  TTFB: (c) => c.first - c.sent,
};
console.log(`spaced-SSE TTFB by segment (20 events 5 ms apart, c=16), ${PAIRS} pairs, medians in µs`);
console.log(''.padEnd(16) + 'n'.padStart(6) + Object.keys(SEGMENTS).map((n) => n.padStart(14)).join(''));
const meds = started.map((t, k) => {
  const stamped = new Map(JSON.parse(readFileSync(join(process.env.TTFB_TRACE_DIR, `${t.pid}.json`), 'utf8')));
  const rows = sent[k].map((c) => [c, stamped.get(c.id)]).filter(([c, p]) => p && c.first > 0);
  const m = Object.values(SEGMENTS).map((f) => median(rows.map(([c, p]) => f(c, p))));
  console.log(targets[k].slice(-15).padEnd(16) + String(rows.length).padStart(6) + m.map((v) => (v ?? NaN).toFixed(0).padStart(14)).join(''));
  return m;
});
console.log('difference'.padEnd(22) + meds[1].map((v, i) => `${v - meds[0][i] >= 0 ? '+' : ''}${(v - meds[0][i]).toFixed(0)}`.padStart(14)).join(''));
process.exit(0);
