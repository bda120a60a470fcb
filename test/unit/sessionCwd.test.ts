import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SessionCwdResolver, readSessionMetaCwd } from '../../src/io/sessionCwd';

const UUID_A = '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const UUID_B = '0199ffff-0000-7000-8000-000000000001';

function writeRollout(home: string, ymd: [string, string, string], ts: string, uuid: string, lines: unknown[]): string {
  const dir = path.join(home, 'sessions', ...ymd);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `rollout-${ts}-${uuid}.jsonl`);
  fs.writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

const meta = (cwd: string, extra: Record<string, unknown> = {}): unknown => ({
  timestamp: '2025-10-01T10:00:00.000Z', type: 'session_meta', payload: { id: 'x', cwd, ...extra },
});

describe('SessionCwdResolver', () => {
  let home: string;
  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-home-'));
    writeRollout(home, ['2025', '09', '30'], '2025-09-30T08-00-00', UUID_A, [meta('/old/project')]);
    // The newest file for the same uuid wins; a non-meta line comes first and the meta line is large.
    writeRollout(home, ['2025', '10', '01'], '2025-10-01T10-00-00', UUID_A, [
      '{"type":"response_item","payload":{}}',
      meta('/work/project', { instructions: 'x'.repeat(200_000) }),
      meta('/ignored'),
    ]);
    writeRollout(home, ['2025', '10', '01'], '2025-10-01T11-00-00', UUID_B, [{ type: 'turn_context', payload: {} }]);
    fs.writeFileSync(path.join(home, 'sessions', '2025', '10', '01', 'notes.txt'), 'ignore me');
    fs.mkdirSync(path.join(home, 'sessions', 'archive'), { recursive: true });
  });
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it('finds the cwd of the newest rollout matching the uuid, case-insensitively', async () => {
    const r = new SessionCwdResolver(home);
    assert.equal(await r.resolve(UUID_A), '/work/project');
    assert.equal(await r.resolve(UUID_A.toUpperCase()), '/work/project');
  });

  it('returns undefined for a rollout without session_meta and for unknown or blank ids', async () => {
    const r = new SessionCwdResolver(home);
    assert.equal(await r.resolve(UUID_B), undefined);
    assert.equal(await r.resolve('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(await r.resolve('  '), undefined);
  });

  it('caches hits, and retries misses only after a minute', async () => {
    let t = 1_000_000;
    const r = new SessionCwdResolver(home, { now: () => t });
    const late = '0199aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee';
    assert.equal(await r.resolve(late), undefined);
    const file = writeRollout(home, ['2025', '10', '02'], '2025-10-02T09-00-00', late, [meta('/late')]);
    t += 30_000;
    assert.equal(await r.resolve(late), undefined, 'negative result is still cached');
    t += 31_000;
    assert.equal(await r.resolve(late), '/late');
    fs.rmSync(file);
    assert.equal(await r.resolve(late), '/late', 'positive result comes from the cache');
  });

  it('prunes idle entries, keeps listed sessions, and caps the cache size', async () => {
    let t = 0;
    const r = new SessionCwdResolver(home, { now: () => t, ttlMs: 1000, maxEntries: 2 });
    await r.resolve('s1');
    await r.resolve('s2');
    t = 500;
    await r.resolve('s3');
    assert.equal(r.size, 3);
    r.prune();
    assert.equal(r.size, 2, 'LRU cap drops the least recently seen');
    t = 2000;
    r.prune(new Set(['S3']));
    assert.equal(r.size, 1);
  });

  it('with maxEntries 0 never caches', async () => {
    const r = new SessionCwdResolver(home, { maxEntries: 0 });
    assert.equal(await r.resolve(UUID_A), '/work/project');
    assert.equal(r.size, 0);
  });

  it('readSessionMetaCwd handles a missing file and a final line without newline', () => {
    assert.equal(readSessionMetaCwd(path.join(home, 'nope.jsonl')), undefined);
    const f = path.join(home, 'single.jsonl');
    fs.writeFileSync(f, JSON.stringify(meta('/single')));
    assert.equal(readSessionMetaCwd(f), '/single');
  });
});
