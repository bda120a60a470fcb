// The usage of a buffered JSON answer read straight from its bytes, for the usual shape only: the answer's last
// member is `"usage": {…}` with plain keys and integer counts (both APIs answer that way). Anything else — strings,
// fractions, arrays, escapes, deep nesting, a `usage` that is not the root's last member — returns null and is
// left to JSON.parse. No string is decoded and no object is built but the result.
import { skipWs, skipWsBack, spanIs } from './jsonBody';
import type { UsageMetrics } from './types';

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;
/** Digits of an integer read here; a longer one is left to JSON.parse (its rounding). */
const MAX_DIGITS = 15;
const USAGE_KEY = Buffer.from('"usage"');

// Top-level members the count comes from (usageFromValue's names), and the details objects with their one count.
const K_PROMPT = 0;
const K_INPUT = 1;
const K_COMPLETION = 2;
const K_OUTPUT = 3;
const K_TOTAL = 4;
const K_REASONING = 5;
const K_CACHE_READ = 6;
const K_CACHE_CREATION = 7;
const K_OUT_DETAILS = 8;
const K_COMPL_DETAILS = 9;
const K_IN_DETAILS = 10;
const K_PROMPT_DETAILS = 11;
const TOP_KEYS: readonly Buffer[] = [
  'prompt_tokens', 'input_tokens', 'completion_tokens', 'output_tokens', 'total_tokens', 'reasoning_tokens',
  'cache_read_input_tokens', 'cache_creation_input_tokens', 'output_tokens_details', 'completion_tokens_details',
  'input_tokens_details', 'prompt_tokens_details',
].map((k) => Buffer.from(k));
/** The count of each of TOP_KEYS in the answer being read (NaN: absent, or not a count), reused by every call. */
const slots = new Float64Array(TOP_KEYS.length);
const REASONING_TOKENS = Buffer.from('reasoning_tokens');
const CACHED_TOKENS = Buffer.from('cached_tokens');

// What the readers below return: a count (its value left in `count`), a value that is no count (null, an object),
// or one they cannot read. They leave the position after the value in `at`: no object per value read.
const COUNT = 0;
const NOT_A_COUNT = -1;
const UNREADABLE = -2;
let count = 0;
let at = 0;

/** End of a plain key starting after its opening quote (letters, digits, `_`, not first), or -1. */
function keyEnd(buf: Buffer, i: number): number {
  if (buf[i] === 0x5f) return -1; // `__proto__` and friends are JSON.parse's
  const start = i;
  for (;;) {
    const c = buf[i];
    if (c === undefined) return -1;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= ZERO && c <= NINE) || c === 0x5f) {
      i++;
      continue;
    }
    return c === QUOTE && i > start ? i : -1;
  }
}

/** Reads an integer at `i` into `count`: COUNT, or UNREADABLE for anything but a plain integer. */
function readInteger(buf: Buffer, i: number): number {
  const neg = buf[i] === 0x2d;
  const first = neg ? i + 1 : i;
  let d = first;
  let n = 0;
  for (;;) {
    const c = buf[d];
    if (c === undefined || c < ZERO || c > NINE) break;
    n = n * 10 + (c - ZERO);
    d++;
  }
  const digits = d - first;
  if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && buf[first] === ZERO)) return UNREADABLE;
  const next = buf[d];
  if (next === 0x2e || next === 0x65 || next === 0x45) return UNREADABLE;
  count = neg ? -n : n;
  at = d;
  return COUNT;
}

/**
 * Reads the value at `i`: COUNT (an integer, in `count`), NOT_A_COUNT (`null`, or an object whose members are
 * all readable; with `inner`, the last integer member named `inner` is left in `count` and COUNT returned), or
 * UNREADABLE. Sets `at` past the value.
 */
function readValue(buf: Buffer, i: number, depth: number, inner?: Buffer): number {
  const c = buf[i];
  if (c === 0x6e) {
    if (buf[i + 1] !== 0x75 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x6c) return UNREADABLE;
    at = i + 4;
    return NOT_A_COUNT;
  }
  if (c !== LBRACE) return readInteger(buf, i);
  if (depth > 2) return UNREADABLE;
  let found = NOT_A_COUNT;
  let foundCount = 0;
  i = skipWs(buf, i + 1);
  if (buf[i] === RBRACE) {
    at = i + 1;
    return NOT_A_COUNT;
  }
  for (;;) {
    if (buf[i] !== QUOTE) return UNREADABLE;
    const ke = keyEnd(buf, i + 1);
    if (ke < 0) return UNREADABLE;
    const isInner = inner !== undefined && spanIs(buf, i + 1, ke, inner);
    i = skipWs(buf, ke + 1);
    if (buf[i] !== COLON) return UNREADABLE;
    const v = readValue(buf, skipWs(buf, i + 1), depth + 1);
    if (v === UNREADABLE) return UNREADABLE;
    if (isInner) {
      found = v;
      foundCount = count;
    }
    i = skipWs(buf, at);
    if (buf[i] === COMMA) {
      i = skipWs(buf, i + 1);
      continue;
    }
    if (buf[i] !== RBRACE) return UNREADABLE;
    at = i + 1;
    count = foundCount;
    return found;
  }
}

/**
 * The usage `usageFromValue(JSON.parse(…))` gives for a JSON answer whose last member is a usage object of the
 * usual shape, or null when this reader cannot tell (the caller parses). Null as well when no known count is there.
 * `keyAt`: where the last `"usage"` is, when the caller has looked already.
 */
export function usageAtEnd(buf: Buffer, keyAt = buf.lastIndexOf(USAGE_KEY)): UsageMetrics | null {
  if (buf[skipWs(buf, 0)] !== LBRACE) return null;
  if (keyAt < 0) return null;
  // A key follows `{` or `,`: anything else (a malformed body) is JSON.parse's to judge.
  const b = skipWsBack(buf, keyAt - 1);
  if (buf[b] !== COMMA && buf[b] !== LBRACE) return null;
  let i = skipWs(buf, keyAt + USAGE_KEY.length);
  if (buf[i] !== COLON) return null;
  i = skipWs(buf, i + 1);
  if (buf[i] !== LBRACE) return null;
  for (let k = 0; k < slots.length; k++) slots[k] = NaN;
  i = skipWs(buf, i + 1);
  if (buf[i] !== RBRACE) {
    for (;;) {
      if (buf[i] !== QUOTE) return null;
      const ks = i + 1;
      const ke = keyEnd(buf, ks);
      if (ke < 0) return null;
      let key = -1;
      for (let k = 0; k < TOP_KEYS.length; k++) {
        if (spanIs(buf, ks, ke, TOP_KEYS[k]!)) {
          key = k;
          break;
        }
      }
      i = skipWs(buf, ke + 1);
      if (buf[i] !== COLON) return null;
      i = skipWs(buf, i + 1);
      const isDetails = key >= K_OUT_DETAILS;
      const inner = !isDetails ? undefined
        : key === K_OUT_DETAILS || key === K_COMPL_DETAILS ? REASONING_TOKENS : CACHED_TOKENS;
      const v = readValue(buf, i, 1, inner);
      if (v === UNREADABLE) return null;
      // A details object that is not an object (an integer) has no count, like `obj()` reads it.
      if (key >= 0) slots[key] = v === COUNT && (!isDetails || buf[i] === LBRACE) ? count : NaN;
      i = skipWs(buf, at);
      if (buf[i] === COMMA) {
        i = skipWs(buf, i + 1);
        continue;
      }
      if (buf[i] !== RBRACE) return null;
      break;
    }
  }
  // The usage object must close the root object: it is then the root's last member.
  i = skipWs(buf, i + 1);
  if (buf[i] !== RBRACE || skipWs(buf, i + 1) !== buf.length) return null;
  return usageMetrics(
    slot(K_PROMPT) ?? slot(K_INPUT),
    slot(K_COMPLETION) ?? slot(K_OUTPUT),
    slot(K_TOTAL),
    slot(K_OUT_DETAILS) ?? slot(K_COMPL_DETAILS) ?? slot(K_REASONING),
    slot(K_IN_DETAILS) ?? slot(K_PROMPT_DETAILS) ?? slot(K_CACHE_READ),
    slot(K_CACHE_CREATION),
  ) ?? null;
}

/** The count last read for the member `key` of TOP_KEYS (NaN: absent, or not a count). */
function slot(key: number): number | undefined {
  const v = slots[key]!;
  return Number.isNaN(v) ? undefined : v;
}

/** The counts as UsageMetrics (absent ones 0, the total the sum when not given); undefined when none is known. */
export function usageMetrics(
  input: number | undefined, output: number | undefined, total: number | undefined,
  reasoning: number | undefined, cached: number | undefined, cacheCreation: number | undefined,
): UsageMetrics | undefined {
  if (input === undefined && output === undefined && total === undefined && reasoning === undefined
    && cached === undefined && cacheCreation === undefined) {
    return undefined;
  }
  const m: UsageMetrics = {
    input_tokens: input ?? 0,
    output_tokens: output ?? 0,
    reasoning_tokens: reasoning ?? 0,
    total_tokens: total ?? (input ?? 0) + (output ?? 0),
  };
  if (cached !== undefined) m.cached_input_tokens = cached;
  if (cacheCreation !== undefined) m.cache_creation_input_tokens = cacheCreation;
  return m;
}
