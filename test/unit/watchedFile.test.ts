// WatchedFile (src/io/watchedFile.ts): the one "re-read this file when it changes" used by the credential files,
// filter.json and usage_providers.json. Real files in a temporary folder.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WatchedFile } from '../../src/io/watchedFile';

describe('WatchedFile', () => {
  let dir: string;
  let stamp = 1_700_000_000;
  // An explicit, always-new mtime: two writes within one clock tick must still count as a change.
  const write = (file: string, text: string) => {
    writeFileSync(file, text);
    stamp += 10;
    utimesSync(file, stamp, stamp);
  };
  const parseNumber = (text: string): number => {
    const n = Number(text.trim());
    if (!Number.isFinite(n)) throw new Error(`not a number: ${text.trim()}`);
    return n;
  };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'watched-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses, keeps the last good value over a broken version (with the reason), and takes the next good one', () => {
    const file = join(dir, 'n.txt');
    write(file, '1');
    const w = new WatchedFile(file, { parse: parseNumber, missing: () => 0 });
    assert.equal(w.value, 1);
    write(file, 'one');
    assert.ok(w.refresh(true).error);
    assert.equal(w.value, 1);
    assert.match(w.lastError?.message ?? '', /not a number: one/);
    write(file, '2');
    assert.deepEqual(w.refresh(true), { changed: true });
    assert.equal(w.value, 2);
    assert.equal(w.lastError, undefined);
  });

  it('onInvalid can make a broken file count as empty instead', () => {
    const file = join(dir, 'n.txt');
    write(file, '5');
    const w = new WatchedFile(file, { parse: parseNumber, missing: () => 0, onInvalid: () => -1 });
    assert.equal(w.value, 5);
    write(file, '{');
    w.refresh(true);
    assert.equal(w.value, -1);
  });

  it('a missing file gives the missing value and calls onMissing; a file past maxBytes is not read', () => {
    const file = join(dir, 'n.txt');
    let missingCalls = 0;
    const w = new WatchedFile(file, { parse: parseNumber, missing: () => 0, onMissing: () => missingCalls++, maxBytes: 4 });
    assert.equal(w.value, 0);
    assert.equal(missingCalls, 1);
    write(file, '7');
    w.refresh(true);
    assert.equal(w.value, 7);
    write(file, '123456');
    w.refresh(true);
    assert.equal(w.value, 0, 'too large: treated as missing');
    unlinkSync(file);
    w.refresh(true);
    assert.equal(missingCalls, 2);
  });

  it('emits each change once, and not for an unchanged file or a broken one that keeps the value', () => {
    const file = join(dir, 'n.txt');
    write(file, '1');
    const w = new WatchedFile(file, { parse: parseNumber, missing: () => 0 });
    const seen: number[] = [];
    const off = w.onDidChange((v) => seen.push(v));
    w.refresh(true);
    w.refresh(true);
    write(file, 'x');
    w.refresh(true);
    write(file, '3');
    w.refresh(true);
    off.dispose();
    write(file, '4');
    w.refresh(true);
    assert.deepEqual(seen, [1, 3]);
  });

  it('checks the file at most once per interval', () => {
    const file = join(dir, 'n.txt');
    write(file, '1');
    let t = 0;
    const w = new WatchedFile(file, { parse: parseNumber, missing: () => 0, checkIntervalMs: 1000, now: () => t });
    assert.equal(w.value, 1);
    write(file, '2');
    t = 999;
    assert.equal(w.value, 1, 'inside the interval: not re-checked');
    t = 1000;
    assert.equal(w.value, 2);
  });

  it('load mode: follows a path that switches files, refuses a value validate rejects, and re-reads on demand', () => {
    const toml = join(dir, 'a.toml');
    const json = join(dir, 'a.json');
    write(json, '10');
    let loads = 0;
    const w = new WatchedFile<number>(() => (existsSync(toml) ? toml : json), {
      load: (p) => {
        loads++;
        return parseNumber(readFileSync(p, 'utf8'));
      },
      // Never shrink: like a reload that would empty a service.
      validate: (next, last) => {
        if (next < last) throw new Error(`would shrink from ${last} to ${next}`);
      },
    });
    assert.throws(() => w.peek(), /before its first load/);
    assert.deepEqual(w.refresh({ reread: true }), { changed: true });
    assert.equal(w.value, 10);
    write(toml, '12');
    assert.equal(w.refresh(true).changed, true);
    assert.equal(w.path, toml);
    assert.equal(w.value, 12);
    write(toml, '3');
    const r = w.refresh(true);
    assert.match(r.error?.message ?? '', /would shrink from 12 to 3/);
    assert.equal(w.value, 12, 'the last good value stays');
    const before = loads;
    assert.deepEqual(w.refresh(true), { changed: false }, 'unchanged: not re-read');
    assert.equal(loads, before);
    w.refresh({ reread: true });
    assert.equal(loads, before + 1, 'reread reads an unchanged file again');
  });
});
