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
