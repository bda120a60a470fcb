import * as assert from 'node:assert/strict';
import { Coalescer } from '../../src/host/coalescer';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('change coalescing (Coalescer)', () => {
  it('folds a burst into one run per window, and a request during a run into one more run after it', async () => {
    let runs = 0;
    let release: (() => void) | undefined;
    const t = new Coalescer(async () => {
      runs++;
      await new Promise<void>((r) => (release = r));
    }, { windowMs: 40 });
    for (let i = 0; i < 10; i++) t.schedule();
    await tick(10);
    assert.equal(runs, 1, 'a burst before the first run is one run');
    t.schedule(true);
    t.schedule(true);
    await tick(10);
    assert.equal(runs, 1, 'never two at once');
    release!();
    await tick(80);
    assert.equal(runs, 2, 'the requests made during the run become exactly one more run');
    release!();
    await tick(80);
    assert.equal(runs, 2);
    t.dispose();
  });

  it('runs at once for a user action, but not while nobody can see it or after dispose', async () => {
    let runs = 0;
    let visible = false;
    const t = new Coalescer(async () => void runs++, { windowMs: 10_000, canRun: () => visible });
    t.schedule(true);
    await tick(5);
    assert.equal(runs, 0, 'not visible: nothing scheduled');
    visible = true;
    t.schedule(true);
    await tick(5);
    assert.equal(runs, 1);
    t.schedule();
    t.dispose();
    await tick(20);
    assert.equal(runs, 1, 'a disposed throttle never runs');
    t.schedule(true);
    await tick(5);
    assert.equal(runs, 1);
  });
});

describe('change coalescing: bursts, final state, flush', () => {
  it('a burst of 200 changes gives a bounded number of runs, and the last run sees the last state', async () => {
    let state = 0;
    const shown: number[] = [];
    const c = new Coalescer(async () => {
      await tick(5); // a refetch takes a while
      shown.push(state);
    }, { windowMs: 30 });
    const started = Date.now();
    for (let i = 1; i <= 200; i++) {
      state = i;
      c.schedule();
      if (i % 20 === 0) await tick(3);
    }
    const elapsed = Date.now() - started;
    await tick(150);
    // At most one run per window while the burst lasts, plus the trailing one (whatever the machine's speed).
    assert.ok(shown.length >= 2 && shown.length <= Math.ceil(elapsed / 30) + 2 && shown.length < 50, `bounded runs (${shown.length} in ${elapsed} ms)`);
    assert.equal(shown[shown.length - 1], 200, 'no lost final update');
    c.dispose();
  });

  it('flush runs now (no window) and resolves only after a run that started after the call', async () => {
    let state = 'a';
    const shown: string[] = [];
    let release: (() => void) | undefined;
    const c = new Coalescer(async () => {
      const seen = state;
      await new Promise<void>((r) => (release = r));
      shown.push(seen);
    }, { windowMs: 10_000 });
    c.schedule();
    await tick(5);
    state = 'b';
    let flushed = false;
    const f = c.flush().then(() => void (flushed = true));
    release!();
    await tick(5);
    assert.deepEqual(shown, ['a']);
    assert.equal(flushed, false, 'the run in flight when flush was called does not count');
    release!();
    await f;
    assert.deepEqual(shown, ['a', 'b'], 'the flushed run saw the newer state, without waiting out the window');
    c.dispose();
  });

  it('flush resolves at once when nothing can run, and a pending flush resolves on dispose', async () => {
    const idle = new Coalescer(async () => undefined, { windowMs: 10, canRun: () => false });
    await idle.flush();
    const c = new Coalescer(() => new Promise<void>(() => undefined), { windowMs: 10 });
    c.schedule(true);
    await tick(5);
    const f = c.flush();
    c.dispose();
    await f;
  });

  it('a run that throws is reported and the next change runs again', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const c = new Coalescer(() => {
      runs++;
      if (runs === 1) throw new Error('fetch failed');
    }, { windowMs: 0, onError: (e) => errors.push(e) });
    await c.flush();
    await c.flush();
    assert.equal(runs, 2);
    assert.equal(errors.length, 1);
    c.dispose();
  });
});
