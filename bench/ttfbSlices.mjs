// Spaced-SSE TTFB of several targets read in short slices: the targets take turns many times, in a shuffled order,
// and every first-byte time of a target goes into one pool. Used by `npm run bench` (proxy, node floor and its
// control) and by bench/ttfbPairs.mjs (two builds).
//
// Why slices. Turns of 12 waves per target, the targets alternating turn by turn (the method before), read two
// identical node floors at ×0.7–1.7 in single pairs and ×0.98–1.28 in the median of 10 pairs: this machine's speed
// drifts over seconds, and a wave's p50 swings with how 16 simultaneous requests fall. A fixed rotation also puts a
// target after the same neighbour each time: three identical floors run through it read ×1.07 and ×1.18 against the
// middle one in one run (×1.03 and ×1.03 in the next). Short slices (3 waves) cut the drift inside a comparison, a
// shuffled order spreads every target over every place and neighbour, and pooling ~2,000 first bytes per target
// and shape steadies the p50: three identical floors read ×0.92–1.07 (six readings, three runs of 36 rounds).
//
// Each round runs every target once, in an order drawn from a seeded generator (the seed is printed, so an order
// can be replayed), two slices per target: the streams aligned (all 16 start together and, all of one length, stay
// in step: requests arrive in waves) and staggered (stream w starts w × 100 ms / 16 later: spread arrivals, as
// independent clients send them). Agents stay warm between slices; the last one is closed.
//
// The aligned slices are also read without their first wave (`settled`). A target idles while the others take their
// turns, and the first wave after that idle spell reads about twice as slow as the waves after it, in every target
// alike (the machine waking a process more than the process's own steps): a third of the aligned first bytes then
// weigh the wake as much as the target's work: their pooled p50 lands where the slow first waves meet the rest, and
// the ratio moves with how the two mix. The settled reading is the continuous load a client sees once traffic flows,
// and what the bench checks.
import { summarize } from './report.mjs';

/** mulberry32: a small seeded generator, so a run's order can be replayed. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with the given generator. */
function shuffled(list, rand) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const median = (values) => summarize(values).median;

export const SHAPES = ['aligned', 'staggered'];
/** What the pools hold: each shape, the aligned slices' waves after their first, and their first waves alone. */
export const READINGS = ['aligned', 'settled', 'first', 'staggered'];

/**
 * Runs `rounds` rounds over `targets` ({name, port}) with the load generator `lg`. `spec` is the spaced-SSE
 * request (path with `sse`/`gap`, c=16). Returns per target and shape the pooled first-byte times (ms), cut into
 * `blocks` consecutive groups of rounds (to show how far a reading strays within one run), and per target the
 * connections the load generator had to open during the rounds (`newSockets`: 0 unless a target closed idle ones).
 */
export async function ttfbSlices(lg, targets, spec, { rounds, waves = 3, seed = Date.now() % 1e9, blocks = 6 }) {
  const rand = generator(seed);
  const perBlock = Math.max(1, Math.ceil(rounds / blocks));
  const pools = Object.fromEntries(targets.map((t) => [t.name, Object.fromEntries(READINGS.map((s) => [s, []]))]));
  const newSockets = Object.fromEntries(targets.map((t) => [t.name, 0]));
  for (const t of targets) await lg.run({ ...spec, port: t.port, requests: spec.concurrency, warmup: 0, keepAgent: true });
  for (let r = 0; r < rounds; r++) {
    const b = Math.floor(r / perBlock);
    for (const t of shuffled(targets, rand)) {
      for (const shape of SHAPES) {
        // The last slice closes its agent: no connection of the load generator outlives the rounds.
        const keepAgent = r < rounds - 1 || shape !== SHAPES[SHAPES.length - 1];
        const res = await lg.run({ ...spec, port: t.port, requests: spec.concurrency * waves, warmup: 0, keepAgent,
          samples: true, staggerMs: shape === 'staggered' ? 100 : 0 });
        (pools[t.name][shape][b] ??= []).push(...res.ttfbs);
        if (shape === 'aligned') {
          (pools[t.name].settled[b] ??= []).push(...res.ttfbWaves.slice(1).flat());
          (pools[t.name].first[b] ??= []).push(...(res.ttfbWaves[0] ?? []));
        }
        newSockets[t.name] += res.newSockets;
      }
    }
  }
  return { seed, rounds, waves, pools, newSockets };
}

/** The pooled p50 (ms) of one target in one shape, and how many first bytes it pools. */
export function pooledP50(result, name, shape) {
  const all = result.pools[name][shape].flat();
  return { p50: median(all), samples: all.length };
}

/**
 * `a` against `b` in one shape: the ratio of their pooled p50s, and the same ratio block by block.
 */
export function sliceRatio(result, a, b, shape) {
  const pa = pooledP50(result, a, shape);
  const pb = pooledP50(result, b, shape);
  return {
    ratio: pa.p50 / pb.p50,
    blocks: result.pools[a][shape].map((x, i) => median(x) / median(result.pools[b][shape][i])),
    p50: [pa.p50, pb.p50],
  };
}
