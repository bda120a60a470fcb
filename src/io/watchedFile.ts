// One file the proxy re-reads when it changes (config.toml, credential files, filter.json, usage_providers.json):
// parse and validate its text, keep the last good value when a new version is broken, tell listeners about a change.
// Reads are pulled, not pushed: `value` re-checks the file's stamp (path, mtime and size) at most every
// `checkIntervalMs`, so the request path pays one stat a second, never a read, until the file changes.
import { readFileSync, statSync } from 'node:fs';
import { Emitter } from '../core/events';
import type { Event } from '../core/events';

export interface WatchedFileOptions<T> {
  /** Text → value; throws on anything invalid (the error is kept in `lastError`). */
  parse?: (text: string, path: string) => T;
  /**
   * Instead of `parse`: builds the value from the path itself, present or not (config.toml, whose loader also
   * knows the legacy config.json and the embedded default). Throws on anything invalid.
   */
  load?: (path: string) => T;
  /** The value while the file is missing (or too large to be the file it should be); with `parse`. */
  missing?: () => T;
  /** Refuses a parsed value given the last good one (throws); not asked for the first value. */
  validate?: (next: T, lastGood: T) => void;
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

/** What one check did. */
export interface RefreshResult {
  /** The file's stamp differed from the last check. */
  changed: boolean;
  /** The new version was rejected (the value stayed, or became `onInvalid`'s). */
  error?: Error;
}

const UNCHANGED: RefreshResult = Object.freeze({ changed: false });

/** A file re-read on change, holding the last good parsed value. */
export class WatchedFile<T> {
  private current: T | undefined;
  private hasValue = false;
  private stamp: string | undefined | null = null; // null: never checked
  private statPath: string;
  private statMtimeMs: number | undefined;
  private lastCheck = -Infinity;
  private error: Error | undefined;
  private readonly changes = new Emitter<T>();

  constructor(
    private readonly where: string | (() => string),
    private readonly opts: WatchedFileOptions<T>,
  ) {
    this.statPath = this.resolvePath();
    if (opts.missing) {
      this.current = opts.missing();
      this.hasValue = true;
    }
  }

  /** The path checked last (a function path may switch, e.g. config.toml ↔ config.json). */
  get path(): string {
    return this.statPath;
  }

  /** The mtime seen at the last check; undefined when the file was missing. */
  get mtimeMs(): number | undefined {
    return this.statMtimeMs;
  }

  /** The current value, after re-checking the file if the interval has passed. */
  get value(): T {
    this.refresh();
    return this.peek();
  }

  /** The current value without checking the file. */
  peek(): T {
    if (!this.hasValue) throw new Error(`${this.statPath}: read before its first load`);
    return this.current as T;
  }

  /** Why the file's current version was rejected, if it was. */
  get lastError(): Error | undefined {
    this.refresh();
    return this.error;
  }

  /** Fires with the new value after each change of value. */
  readonly onDidChange: Event<T> = this.changes.event;

  /**
   * Re-checks the file once the interval has passed (`force`: now). An unchanged stamp is not re-read unless
   * `reread`. Returns whether the stamp changed and why a new version was rejected.
   */
  refresh(o: { force?: boolean; reread?: boolean } | boolean = false): RefreshResult {
    // The request path calls this with no argument: no allocation until the interval has passed.
    const reread = o !== true && o !== false && o.reread === true;
    const force = o === true || reread || (o !== false && o.force === true);
    const t = (this.opts.now ?? Date.now)();
    if (!force && t - this.lastCheck < (this.opts.checkIntervalMs ?? 1000)) return UNCHANGED;
    this.lastCheck = t;
    const path = this.resolvePath();
    let stamp: string | undefined;
    let size = 0;
    let mtime: number | undefined;
    try {
      const st = statSync(path);
      size = st.size;
      mtime = st.mtimeMs;
      stamp = `${path}:${mtime}:${size}`;
    } catch {
      stamp = undefined;
    }
    const changed = stamp !== this.stamp || path !== this.statPath;
    if (!changed && !reread) return UNCHANGED;
    // Remembered even when the new version is broken, so it is not re-read until it changes again.
    this.stamp = stamp;
    this.statPath = path;
    this.statMtimeMs = mtime;
    let next: T;
    try {
      next = this.read(path, stamp === undefined, size);
      if (this.hasValue && this.opts.validate) this.opts.validate(next, this.current as T);
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      if (this.hasValue) this.set(this.opts.onInvalid ? this.opts.onInvalid(this.error, this.current as T) : (this.current as T));
      return { changed, error: this.error };
    }
    this.error = undefined;
    this.set(next);
    return { changed };
  }

  private read(path: string, missing: boolean, size: number): T {
    if (this.opts.load) return this.opts.load(path);
    const tooLarge = this.opts.maxBytes !== undefined && size > this.opts.maxBytes;
    if (missing || tooLarge) {
      if (missing) this.opts.onMissing?.();
      return this.opts.missing!();
    }
    return this.opts.parse!(readFileSync(path, 'utf8'), path);
  }

  private resolvePath(): string {
    return typeof this.where === 'string' ? this.where : this.where();
  }

  private set(next: T): void {
    const first = !this.hasValue;
    if (!first && next === this.current) return;
    this.current = next;
    this.hasValue = true;
    this.changes.fire(next);
  }
}
