import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestFilter } from '../../src/io/requestFilter';

describe('filter', () => {
  let dir: string;
  let file: string;
  let clock: { t: number };
  let mtime = 1_700_000_000;

  // Explicit, ever-increasing mtimes: a rewrite within the same millisecond must still count as a change.
  function write(content: unknown): void {
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    mtime += 10;
    utimesSync(file, mtime, mtime);
  }

  const apply = (f: RequestFilter, s: string): string => f.apply(Buffer.from(s)).toString('utf8');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'filter-test-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    file = join(dir, `filter-${Math.random().toString(36).slice(2)}.json`);
    clock = { t: 0 };
  });

  it('has no rules and returns the same Buffer when the file is missing', () => {
    const f = new RequestFilter(file, () => clock.t);
    const body = Buffer.from('{"a":1}');
    assert.equal(f.apply(body), body);
    assert.equal(f.ruleCount, 0);
  });

  it('applies a single rule object with regex groups and Rust-style target expansion', () => {
    write({ op: 'replace', source: '"model":"(?<m>gpt-[0-9])"', target: '"model":"${m}-x$$"' });
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(f.ruleCount, 1);
    assert.equal(apply(f, '{"model":"gpt-4","n":1}'), '{"model":"gpt-4-x$","n":1}');
  });

  it('applies an array of rules in order, with numbered groups and remove', () => {
    write([
      { op: 'replace', source: '(\\w+)@(\\w+)', target: '$2 at $1' },
      { op: 'remove', source: 'SECRET-\\d+ ?' },
      { op: 'replace', source: 'at', target: '$1a' }, // `$1a` is a group named "1a" in Rust: empty
    ]);
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(f.ruleCount, 3);
    assert.equal(apply(f, 'SECRET-42 bob@host'), 'host  bob');
  });

  it('falls back to a literal replace-all when the regex does not compile', () => {
    write({ op: 'replace', source: 'a(b', target: '$1x' });
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(apply(f, 'a(b a(b a(c'), '$1x $1x a(c');
  });

  it('turns a leading inline flag group into JS flags', () => {
    write({ op: 'replace', source: '(?i)hello', target: 'bye' });
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(apply(f, 'Hello HELLO'), 'bye bye');
  });

  it('returns the same Buffer when nothing matched and leaves empty bodies alone', () => {
    write({ op: 'remove', source: 'zzz' });
    const f = new RequestFilter(file, () => clock.t);
    const body = Buffer.from('abc');
    assert.equal(f.apply(body), body);
    const empty = Buffer.alloc(0);
    assert.equal(f.apply(empty), empty);
  });

  it('reloads on mtime change, at most once per second', () => {
    write({ op: 'replace', source: 'a', target: 'b' });
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(apply(f, 'aaa'), 'bbb');
    write({ op: 'replace', source: 'a', target: 'c' });
    clock.t += 500;
    assert.equal(apply(f, 'aaa'), 'bbb');
    clock.t += 500;
    assert.equal(apply(f, 'aaa'), 'ccc');
    unlinkSync(file);
    clock.t += 1000;
    assert.equal(apply(f, 'aaa'), 'aaa');
    assert.equal(f.ruleCount, 0);
  });

  it('clears all rules on broken JSON and does not retry until the file changes', () => {
    write([{ op: 'replace', source: 'a', target: 'b' }]);
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(apply(f, 'a'), 'b');
    write('[{"op":"replace","source":"a",');
    clock.t += 1000;
    assert.equal(apply(f, 'a'), 'a');
    assert.equal(f.ruleCount, 0);
    assert.match(f.lastError ?? '', /JSON|Unexpected|end/i);
    // Same mtime and size: the broken file is not read again.
    const broken = '[{"op":"replace","source":"a",';
    writeFileSync(file, '{"op":"remove","source":"a"}'.padEnd(broken.length, ' '));
    utimesSync(file, mtime, mtime);
    clock.t += 1000;
    assert.equal(apply(f, 'a'), 'a');
    write([{ op: 'replace', source: 'a', target: 'd' }]);
    clock.t += 1000;
    assert.equal(apply(f, 'a'), 'd');
    assert.equal(f.lastError, undefined);
  });

  it('treats an invalid rule as an invalid file', () => {
    write([{ op: 'replace', source: 'a', target: 'b' }, { op: 'delete', source: 'x' }]);
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(f.ruleCount, 0);
    assert.match(f.lastError ?? '', /op must be/);
  });

  it('keeps multi-byte text intact', () => {
    write({ op: 'replace', source: 'ü+', target: 'ue' });
    const f = new RequestFilter(file, () => clock.t);
    assert.equal(apply(f, '{"t":"Grüüße ✓"}'), '{"t":"Grueße ✓"}');
  });
});
