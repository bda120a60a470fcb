import assert from 'node:assert/strict';
import { memoByString } from '../../src/core/memo';

describe('memoByString', () => {
  it('calls the function once per value, falsy results included', () => {
    const calls: string[] = [];
    const f = memoByString((k: string) => {
      calls.push(k);
      return k === 'none' ? undefined : k === 'null' ? null : k.length;
    });
    for (let i = 0; i < 3; i++) {
      assert.equal(f('abc'), 3);
      assert.equal(f('none'), undefined);
      assert.equal(f('null'), null);
      assert.equal(f(''), 0);
    }
    assert.deepEqual(calls, ['abc', 'none', 'null', '']);
  });

  it('keeps at most max values and stays correct past the bound', () => {
    let calls = 0;
    const f = memoByString((k: string) => {
      calls++;
      return `v${k}`;
    }, 4);
    for (let i = 0; i < 10; i++) assert.equal(f(String(i)), `v${i}`);
    assert.equal(calls, 10);
    // 8 and 9 came after the last refill: remembered; 0 was dropped: computed again.
    assert.equal(f('9'), 'v9');
    assert.equal(f('8'), 'v8');
    assert.equal(calls, 10);
    assert.equal(f('0'), 'v0');
    assert.equal(calls, 11);
  });
});
