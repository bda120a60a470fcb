import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionCwdResolver, uuidV7Time } from '../../src/io/sessionCwd';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Writes a rollout file for `id` in the local-date folder of `when`. */
function rollout(home: string, when: Date, id: string, cwd: string): void {
  const dir = join(home, 'sessions', String(when.getFullYear()), pad(when.getMonth() + 1), pad(when.getDate()));
  mkdirSync(dir, { recursive: true });
  const ts = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T10-00-00`;
  writeFileSync(join(dir, `rollout-${ts}-${id}.jsonl`), JSON.stringify({ type: 'session_meta', payload: { id, cwd } }) + '\n');
}

/** A UUIDv7 whose timestamp is `ms`. */
function uuidV7(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7abc-8def-0123456789ab`;
}

describe('session cwd lookup on the request path', () => {
  let home: string;
  beforeEach(() => (home = mkdtempSync(join(tmpdir(), 'cwd-'))));
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('reads the creation time of a UUIDv7 and nothing else', () => {
    assert.equal(uuidV7Time(uuidV7(1_764_000_000_000)), 1_764_000_000_000);
    assert.equal(uuidV7Time('6f1c6a2e-0000-4000-8000-000000000000'), undefined, 'v4');
    assert.equal(uuidV7Time('not-a-uuid'), undefined);
  });

  it('finds a Codex (UUIDv7) session in its day folder at once', () => {
    const when = new Date(2026, 10, 20, 15, 30);
    const id = uuidV7(when.getTime());
    rollout(home, when, id, '/work/project-a');
    // Many other days exist; none of them is listed.
    for (let d = 1; d < 15; d++) rollout(home, new Date(2026, 9, d), uuidV7(new Date(2026, 9, d).getTime()), `/old/${d}`);
    const r = new SessionCwdResolver(home);
    assert.equal(r.lookup(id), '/work/project-a');
    assert.equal(r.lookup(id.toUpperCase()), '/work/project-a');
  });

  it('looks anything else up in the background and knows it on the next request', async () => {
    const id = 'legacy-session-0001';
    rollout(home, new Date(2025, 0, 3), id, '/work/legacy');
    const r = new SessionCwdResolver(home);
    assert.equal(r.lookup(id), undefined, 'no synchronous full scan');
    await r.idle();
    assert.equal(r.lookup(id), '/work/legacy');
    assert.equal(r.lookup('never-seen'), undefined);
    await r.idle();
    assert.equal(r.lookup('never-seen'), undefined);
  });
});
