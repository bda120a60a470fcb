// One file the proxy re-reads when it changes (credential files, filter.json, usage_providers.json): parse and
// validate its text, keep the last good value when a new version is broken, tell listeners about a change.
// Reads are pulled, not pushed: `value` re-checks the file's stamp (mtime and size) at most every
// `checkIntervalMs`, so the request path pays one stat a second, never a read, until the file changes.
import { readFileSync, statSync } from 'node:fs';

export interface WatchedFileOptions<T> {
  /** Text → value; throws on anything invalid (the error is kept in `lastError`). */
  parse: (text: string) => T;
  /** The value while the file is missing (or too large to be the file it should be). */
  missing: () => T;
  /**
   * The value after a version that does not parse: default keeps the last good one; a file whose broken state
   * must count as empty (a credential file) returns that instead.
   */
  onInvalid?: (error: Error, lastGood: T) => T;
  /** Called when the file went missing (e.g. to write defaults). */
  onMissing?: () => void;
  /** Larger files are treated as missing, without being read. */
  maxBytes?: number;
  checkIntervalMs?: number;
  now?: () => number;
}

type Listener<T> = (value: T) => void;

/** A file re-read on change, holding the last good parsed value. */
export class WatchedFile<T> {
  private current: T;
  private stamp: string | undefined | null = null; // null: never checked
  private lastCheck = -Infinity;
  private error: Error | undefined;
  private readonly listeners = new Set<Listener<T>>();

  constructor(
    readonly path: string,
    private readonly opts: WatchedFileOptions<T>,
  ) {
    this.current = opts.missing();
  }

  /** The current value, after re-checking the file if the interval has passed. */
  get value(): T {
    this.refresh();
    return this.current;
  }

  /** Why the file's current version was rejected, if it was. */
  get lastError(): Error | undefined {
    this.refresh();
    return this.error;
  }

  /** Calls `listener` after each change of value; returns the unsubscribe function. */
  onDidChange(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-checks now when `force`, else only once the interval has passed; true when the value changed. */
  refresh(force = false): boolean {
    const t = (this.opts.now ?? Date.now)();
    if (!force && t - this.lastCheck < (this.opts.checkIntervalMs ?? 1000)) return false;
    this.lastCheck = t;
    let stamp: string | undefined;
    let size = 0;
    try {
      const st = statSync(this.path);
      size = st.size;
      stamp = `${st.mtimeMs}:${size}`;
    } catch {
      stamp = undefined;
    }
    if (stamp === this.stamp) return false;
    // Remembered even when the new version is broken, so it is not re-read until it changes again.
    this.stamp = stamp;
    if (stamp === undefined || (this.opts.maxBytes !== undefined && size > this.opts.maxBytes)) {
      this.error = undefined;
      if (stamp === undefined) this.opts.onMissing?.();
      return this.set(this.opts.missing());
    }
    try {
      const next = this.opts.parse(readFileSync(this.path, 'utf8'));
      this.error = undefined;
      return this.set(next);
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      return this.set(this.opts.onInvalid ? this.opts.onInvalid(this.error, this.current) : this.current);
    }
  }

  private set(next: T): boolean {
    if (next === this.current) return false;
    this.current = next;
    for (const l of [...this.listeners]) l(next);
    return true;
  }
}
