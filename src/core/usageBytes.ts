// The usage of a buffered JSON answer read straight from its bytes, for the usual shape only: the answer's last
// member is `"usage": {…}` with plain keys and integer counts (both APIs answer that way). Anything else — strings,
// fractions, arrays, escapes, deep nesting, a `usage` that is not the root's last member — returns null and is
// left to JSON.parse. No string is decoded and no object is built but the result.
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
const REASONING_TOKENS = Buffer.from('reasoning_tokens');
const CACHED_TOKENS = Buffer.from('cached_tokens');

// What the readers below return: a count (its value left in `count`), a value that is no count (null, an object),
// or one they cannot read. They leave the position after the value in `at`: no object per value read.
const COUNT = 0;
const NOT_A_COUNT = -1;
const UNREADABLE = -2;
let count = 0;
let at = 0;

function skipWs(buf: Buffer, i: number): number {
  for (;;) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

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

function sameBytes(buf: Buffer, start: number, end: number, key: Buffer): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (buf[start + k] !== key[k]) return false;
  return true;
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
    const isInner = inner !== undefined && sameBytes(buf, i + 1, ke, inner);
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
 */
export function usageAtEnd(buf: Buffer): UsageMetrics | null {
  if (buf[skipWs(buf, 0)] !== LBRACE) return null;
  const keyAt = buf.lastIndexOf(USAGE_KEY);
  if (keyAt < 0) return null;
  // A key follows `{` or `,`: anything else (a malformed body) is JSON.parse's to judge.
  let b = keyAt - 1;
  while (b >= 0 && (buf[b] === 0x20 || buf[b] === 0x0a || buf[b] === 0x0d || buf[b] === 0x09)) b--;
  if (buf[b] !== COMMA && buf[b] !== LBRACE) return null;
  let i = skipWs(buf, keyAt + USAGE_KEY.length);
  if (buf[i] !== COLON) return null;
  i = skipWs(buf, i + 1);
  if (buf[i] !== LBRACE) return null;
  let prompt: number | undefined;
  let input: number | undefined;
  let completion: number | undefined;
  let output: number | undefined;
  let total: number | undefined;
  let reasoning: number | undefined;
  let cacheRead: number | undefined;
  let cacheCreation: number | undefined;
  let outReasoning: number | undefined;
  let complReasoning: number | undefined;
  let inCached: number | undefined;
  let promptCached: number | undefined;
  i = skipWs(buf, i + 1);
  if (buf[i] !== RBRACE) {
    for (;;) {
      if (buf[i] !== QUOTE) return null;
      const ks = i + 1;
      const ke = keyEnd(buf, ks);
      if (ke < 0) return null;
      let key = -1;
      for (let k = 0; k < TOP_KEYS.length; k++) {
        if (sameBytes(buf, ks, ke, TOP_KEYS[k]!)) {
          key = k;
          break;
        }
      }
      i = skipWs(buf, ke + 1);
      if (buf[i] !== COLON) return null;
      i = skipWs(buf, i + 1);
      const isDetails = key >= K_OUT_DETAILS;
      const inner = !isDetails ? undefined : key === K_OUT_DETAILS || key === K_COMPL_DETAILS ? REASONING_TOKENS : CACHED_TOKENS;
      const v = readValue(buf, i, 1, inner);
      if (v === UNREADABLE) return null;
      // A details object that is not an object (an integer) has no count, like `obj()` reads it.
      const n = v === COUNT && (!isDetails || buf[i] === LBRACE) ? count : undefined;
      switch (key) {
        case K_PROMPT: prompt = n; break;
        case K_INPUT: input = n; break;
        case K_COMPLETION: completion = n; break;
        case K_OUTPUT: output = n; break;
        case K_TOTAL: total = n; break;
        case K_REASONING: reasoning = n; break;
        case K_CACHE_READ: cacheRead = n; break;
        case K_CACHE_CREATION: cacheCreation = n; break;
        case K_OUT_DETAILS: outReasoning = n; break;
        case K_COMPL_DETAILS: complReasoning = n; break;
        case K_IN_DETAILS: inCached = n; break;
        case K_PROMPT_DETAILS: promptCached = n; break;
        default: break;
      }
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
  return usageMetrics(prompt ?? input, completion ?? output, total, outReasoning ?? complReasoning ?? reasoning,
    inCached ?? promptCached ?? cacheRead, cacheCreation) ?? null;
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
