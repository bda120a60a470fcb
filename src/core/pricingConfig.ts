// Validation of `[pricing."<model glob>"]` tables. Kept beside config.ts, which hands in its error and warning
// helpers so messages point at file:line and key like every other config error.
import type { KeySeg } from './configSource';
import type { ModelPrice } from './pricing';

export interface PricingParseHooks {
  /** Throws a ConfigError at `p`. */
  fail(p: KeySeg[], detail: string): never;
  /** Warns about keys of `t` (at `p`) that are not in `known`. */
  warnUnknown(t: Record<string, unknown>, p: KeySeg[], known: ReadonlySet<string>): void;
}

const NUMBER_KEYS = ['input', 'output', 'cached_input', 'reasoning', 'cache_write'] as const;
const STRING_KEYS = ['currency', 'as_of', 'source'] as const;
const KNOWN = new Set<string>([...NUMBER_KEYS, ...STRING_KEYS]);
const MAX_PRICE = 1_000_000;

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function has(t: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(t, k) && t[k] !== null && t[k] !== undefined;
}

function price(h: PricingParseHooks, v: unknown, p: KeySeg[]): number {
  // TOML integers arrive as bigint, floats as number.
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
  if (!Number.isFinite(n) || n < 0 || n > MAX_PRICE) {
    h.fail(p, `expected a price per million tokens (a number from 0 to ${MAX_PRICE})`);
  }
  return n;
}

/** Parses the `[pricing]` table: glob → prices per million tokens. `input` and `output` are required. */
export function parsePricing(h: PricingParseHooks, v: unknown): Record<string, ModelPrice> {
  if (!isTable(v)) h.fail(['pricing'], 'expected a table of model globs, e.g. [pricing."gpt-5*"]');
  const out: Record<string, ModelPrice> = {};
  for (const [glob, entry] of Object.entries(v)) {
    const p: KeySeg[] = ['pricing', glob];
    if (glob.trim() === '') h.fail(p, 'a model glob must not be empty');
    if (!isTable(entry)) h.fail(p, 'expected a table with input and output prices, e.g. { input = 1.25, output = 10 }');
    h.warnUnknown(entry, p, KNOWN);
    for (const k of ['input', 'output']) if (!has(entry, k)) h.fail([...p, k], 'missing required key (price per million tokens)');
    const mp: ModelPrice = { input: price(h, entry['input'], [...p, 'input']), output: price(h, entry['output'], [...p, 'output']) };
    for (const k of ['cached_input', 'reasoning', 'cache_write'] as const) {
      if (has(entry, k)) mp[k] = price(h, entry[k], [...p, k]);
    }
    for (const k of STRING_KEYS) {
      if (!has(entry, k)) continue;
      const s = entry[k] instanceof Date ? (entry[k] as Date).toISOString().slice(0, 10) : entry[k];
      if (typeof s !== 'string' || s.trim() === '' || s.length > 200) h.fail([...p, k], 'expected a non-empty string');
      mp[k] = k === 'currency' ? s.trim().toUpperCase() : s.trim();
    }
    Object.defineProperty(out, glob, { value: mp, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
