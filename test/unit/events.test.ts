// The one event shape (src/core/events.ts): delivery, isolation of throwing listeners, unsubscribing while an event
// is delivered, and the Disposable helpers.
import * as assert from 'node:assert/strict';
import { combineDisposables, Emitter, toDisposable } from '../../src/core/events';

describe('Emitter', () => {
  it('delivers each event to every listener in subscription order until it is disposed', () => {
    const e = new Emitter<number>();
    const seen: string[] = [];
    const a = e.event((n) => seen.push(`a${n}`));
    e.event((n) => seen.push(`b${n}`));
    assert.equal(e.hasListeners, true);
    e.fire(1);
    a.dispose();
    a.dispose(); // twice is harmless
    e.fire(2);
    assert.deepEqual(seen, ['a1', 'b1', 'b2']);
  });

  it('isolates a throwing listener: the others still get the event, the caller never sees the error', () => {
    const errors: unknown[] = [];
    const e = new Emitter<string>({ onListenerError: (err) => errors.push(err) });
    const seen: string[] = [];
    e.event(() => {
      throw new Error('broken view');
    });
    e.event((s) => seen.push(s));
    assert.doesNotThrow(() => e.fire('x'));
    assert.deepEqual(seen, ['x']);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /broken view/);
    const quiet = new Emitter<void>({ onListenerError: () => { throw new Error('reporter broken too'); } });
    let after = 0;
    quiet.event(() => { throw new Error('x'); });
    quiet.event(() => void after++);
    assert.doesNotThrow(() => quiet.fire());
    assert.equal(after, 1);
  });

  it('does not call a listener removed by an earlier one during the same event; one added then waits for the next', () => {
    const e = new Emitter<number>();
    const seen: string[] = [];
    let late: { dispose(): void } | undefined;
    e.event((n) => {
      seen.push(`first${n}`);
      second.dispose();
      late ??= e.event((m) => seen.push(`late${m}`));
    });
    const second = e.event((n) => seen.push(`second${n}`));
    e.fire(1);
    e.fire(2);
    assert.deepEqual(seen, ['first1', 'first2', 'late2']);
  });

  it('a listener may dispose itself while being called, and the emitter may be disposed mid-delivery', () => {
    const e = new Emitter<number>();
    const seen: number[] = [];
    const self = e.event((n) => {
      seen.push(n);
      self.dispose();
    });
    e.fire(1);
    e.fire(2);
    assert.deepEqual(seen, [1]);

    const d = new Emitter<void>();
    let calls = 0;
    d.event(() => {
      calls++;
      d.dispose();
    });
    d.event(() => void calls++);
    d.fire();
    assert.equal(calls, 1, 'the listener after the one that disposed the emitter is not called');
    assert.equal(d.hasListeners, false);
    d.event(() => void calls++).dispose();
    d.fire();
    assert.equal(calls, 1, 'subscribing to a disposed emitter is a no-op');
  });

  it('fires to nobody cheaply and keeps one subscription per call of event (the same function twice counts twice)', () => {
    const e = new Emitter<void>();
    assert.equal(e.hasListeners, false);
    e.fire();
    let n = 0;
    const f = () => void n++;
    const one = e.event(f);
    e.event(f);
    e.fire();
    assert.equal(n, 2);
    one.dispose();
    e.fire();
    assert.equal(n, 3);
  });
});

describe('Disposable helpers', () => {
  it('toDisposable runs its function once', () => {
    let n = 0;
    const d = toDisposable(() => void n++);
    d.dispose();
    d.dispose();
    assert.equal(n, 1);
  });

  it('combineDisposables disposes every part once, in order, and rethrows the first failure after the rest', () => {
    const order: string[] = [];
    const all = combineDisposables(
      toDisposable(() => order.push('a')),
      { dispose: () => { order.push('b'); throw new Error('b failed'); } },
      undefined,
      { dispose: () => { order.push('c'); throw new Error('c failed'); } },
      toDisposable(() => order.push('d')),
    );
    assert.throws(() => all.dispose(), /b failed/);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    all.dispose();
    assert.deepEqual(order, ['a', 'b', 'c', 'd'], 'a second dispose does nothing');
  });
});
