// filter.json, re-checked at most once a second by mtime and size; the rules themselves are src/core/filter.ts.
// A broken file means no rules (and `lastError` says why) until it changes again, as in the seed.
import { applyFilterRules, parseFilterRules } from '../core/filter';
import type { FilterRules } from '../core/filter';
import { WatchedFile } from './watchedFile';

const NO_RULES: FilterRules = Object.freeze([]);

/** Applies the rules of a filter.json file to request bodies, reloading it when it changes. */
export class RequestFilter {
  private readonly file: WatchedFile<FilterRules>;

  constructor(filePath: string, now: () => number = Date.now) {
    this.file = new WatchedFile<FilterRules>(filePath, {
      parse: parseFilterRules,
      missing: () => NO_RULES,
      onInvalid: () => NO_RULES,
      checkIntervalMs: 1000,
      now,
    });
  }

  get ruleCount(): number {
    return this.file.value.length;
  }

  /** Why the last load produced no rules (parse error), if it did. */
  get lastError(): string | undefined {
    return this.file.lastError?.message;
  }

  /** Rewritten body, or the very same Buffer when there are no rules or nothing changed. */
  apply(body: Buffer): Buffer {
    return applyFilterRules(this.file.value, body);
  }
}
