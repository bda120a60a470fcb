// Session id → working directory, read from Codex rollout files (seed `resolve_session_cwd`).
// Codex names each rollout `sessions/YYYY/MM/DD/rollout-<19-char ts>-<uuid>.jsonl` and writes a
// `session_meta` record whose payload carries the cwd, so the uuid in the file name is enough to find it.
import { closeSync, openSync, promises as fsp, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

const ROLLOUT_RE = /^rollout-(.{19})-(.+)\.jsonl$/;
const NEGATIVE_TTL_MS = 60_000;
const MAX_SCAN_FILES = 10_000;
/** The session_meta line holds the base instructions and can be large, but never this large. */
const MAX_META_READ_BYTES = 8 * 1024 * 1024;

interface CwdEntry {
  cwd: string | undefined;
  checked_at_ms: number;
  last_seen_ms: number;
}

export interface SessionCwdResolverOptions {
  /** Idle time after which an entry is dropped by `prune()`; 0 disables TTL pruning. Default 12 h. */
  ttlMs?: number;
  /** Cache size; 0 disables caching (every lookup scans). Default 2000. */
  maxEntries?: number;
  now?: () => number;
}

async function numericDirsDesc(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a));
}

/** Reads `payload.cwd` of the first session_meta record of a rollout file. */
export function readSessionMetaCwd(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let pending = '';
    let total = 0;
    let pos = 0;
    const decoder = new TextDecoder('utf-8');
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      const eof = n <= 0;
      pos += Math.max(0, n);
      total += Math.max(0, n);
      pending += eof ? decoder.decode() : decoder.decode(chunk.subarray(0, n), { stream: true });
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0 || (eof && pending.length > 0)) {
        const line = nl >= 0 ? pending.slice(0, nl) : pending;
        pending = nl >= 0 ? pending.slice(nl + 1) : '';
        const cwd = metaCwd(line);
        if (cwd !== null) return cwd;
      }
      if (eof || total >= MAX_META_READ_BYTES) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** null = not a session_meta line (keep reading); undefined = session_meta without a cwd (stop). */
function metaCwd(line: string): string | undefined | null {
  if (!line.includes('session_meta')) return null;
  try {
    const v = JSON.parse(line) as { type?: unknown; payload?: { cwd?: unknown } };
    if (v.type !== 'session_meta') return null;
    return typeof v.payload?.cwd === 'string' ? v.payload.cwd : undefined;
  } catch {
    return null;
  }
}

/** Finds a session's cwd, caching hits and (for a minute) misses. */
export class SessionCwdResolver {
  private readonly cache = new Map<string, CwdEntry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly codexHome: string, opts: SessionCwdResolverOptions = {}) {
    this.ttlMs = Math.max(0, opts.ttlMs ?? 12 * 3600 * 1000);
    this.maxEntries = Math.max(0, Math.floor(opts.maxEntries ?? 2000));
    this.now = opts.now ?? Date.now;
  }

  /** The cwd recorded for `sessionId`, or undefined when no rollout file is known (yet). */
  async resolve(sessionId: string): Promise<string | undefined> {
    const key = sessionId.trim().toLowerCase();
    if (!key) return undefined;
    const now = this.now();
    if (this.maxEntries > 0) {
      const hit = this.cache.get(key);
      // A miss is retried after a minute: the client may send requests before Codex writes the rollout.
      if (hit && (hit.cwd !== undefined || now - hit.checked_at_ms < NEGATIVE_TTL_MS)) {
        hit.last_seen_ms = now;
        return hit.cwd;
      }
    }
    const cwd = await this.scanAll(key);
    if (this.maxEntries > 0) this.cache.set(key, { cwd, checked_at_ms: now, last_seen_ms: now });
    return cwd;
  }

  /**
   * For the request path: never scans the whole sessions folder synchronously. Codex session ids are UUIDv7,
   * whose first 48 bits are the creation time, so only that day's folder (±1 day) is listed; anything else is
   * looked up in the background (async I/O) and is known to the session's next request.
   */
  lookup(sessionId: string): string | undefined {
    const key = sessionId.trim().toLowerCase();
    if (!key) return undefined;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && (hit.cwd !== undefined || now - hit.checked_at_ms < NEGATIVE_TTL_MS)) {
      hit.last_seen_ms = now;
      return hit.cwd;
    }
    const fast = this.scanDated(key);
    if (fast !== undefined || this.maxEntries === 0) {
      if (this.maxEntries > 0) this.cache.set(key, { cwd: fast, checked_at_ms: now, last_seen_ms: now });
      return fast;
    }
    this.cache.set(key, { cwd: undefined, checked_at_ms: now, last_seen_ms: now });
    if (!this.pending.has(key)) {
      this.pending.add(key);
      void this.scanAll(key)
        .then((cwd) => {
          if (cwd !== undefined) this.cache.set(key, { cwd, checked_at_ms: this.now(), last_seen_ms: this.now() });
        })
        .catch(() => undefined)
        .finally(() => this.pending.delete(key));
    }
    return undefined;
  }

  /** Resolves when no background lookup is running (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private readonly pending = new Set<string>();

  /** Looks only in the day folders a UUIDv7 session id points at. */
  private scanDated(key: string): string | undefined {
    const ms = uuidV7Time(key);
    if (ms === undefined) return undefined;
    const root = join(this.codexHome, 'sessions');
    const days = new Set<string>();
    for (const delta of [0, -86_400_000, 86_400_000]) {
      const d = new Date(ms + delta);
      // Codex names folders by local date; the UTC date is checked too in case it does not.
      days.add(join(String(d.getFullYear()), pad(d.getMonth() + 1), pad(d.getDate())));
      days.add(join(String(d.getUTCFullYear()), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())));
    }
    for (const day of days) {
      let names: string[];
      try {
        names = readdirSync(join(root, day));
      } catch {
        continue;
      }
      for (const name of names) {
        const m = ROLLOUT_RE.exec(name);
        if (m && (m[2] as string).toLowerCase() === key) return readSessionMetaCwd(join(root, day, name));
      }
    }
    return undefined;
  }

  /** Every rollout, newest day and file first (capped), with asynchronous directory listing. */
  private async scanAll(key: string): Promise<string | undefined> {
    const root = join(this.codexHome, 'sessions');
    let seen = 0;
    for (const y of await numericDirsDesc(root)) {
      for (const m of await numericDirsDesc(join(root, y))) {
        for (const d of await numericDirsDesc(join(root, y, m))) {
          const dayDir = join(root, y, m, d);
          let names: string[];
          try {
            names = await fsp.readdir(dayDir);
          } catch {
            continue;
          }
          const files: Array<{ name: string; ts: string; uuid: string }> = [];
          for (const name of names) {
            const mm = ROLLOUT_RE.exec(name);
            if (mm) files.push({ name, ts: mm[1] as string, uuid: mm[2] as string });
          }
          files.sort((x, z) => (x.ts === z.ts ? cmpDesc(x.uuid, z.uuid) : cmpDesc(x.ts, z.ts)));
          for (const f of files) {
            if (++seen > MAX_SCAN_FILES) return undefined;
            if (f.uuid.toLowerCase() === key) return readSessionMetaCwd(join(dayDir, f.name));
          }
        }
      }
    }
    return undefined;
  }

  /** Number of cached entries (positive and negative). */
  get size(): number {
    return this.cache.size;
  }

  /** Drops idle entries (except `keep`), then the least recently seen beyond the size cap. */
  prune(keep?: ReadonlySet<string>): void {
    const now = this.now();
    const isKept = (k: string): boolean => {
      if (!keep) return false;
      for (const s of keep) if (s.toLowerCase() === k) return true;
      return false;
    };
    if (this.ttlMs > 0) {
      const cutoff = now - this.ttlMs;
      for (const [k, v] of this.cache) if (v.last_seen_ms < cutoff && !isKept(k)) this.cache.delete(k);
    }
    if (this.maxEntries > 0 && this.cache.size > this.maxEntries) {
      const byAge = [...this.cache.entries()].sort((a, b) => a[1].last_seen_ms - b[1].last_seen_ms);
      for (const [k] of byAge.slice(0, this.cache.size - this.maxEntries)) this.cache.delete(k);
    }
  }
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Creation time (epoch ms) of a UUIDv7, or undefined for any other id. */
export function uuidV7Time(id: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.exec(id);
  return m ? parseInt((m[1] as string) + (m[2] as string), 16) : undefined;
}

function cmpDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
