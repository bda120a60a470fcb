// Surgical edits of JSON request bodies. A rewrite (model mapping, effort override) replaces only the bytes of
// the value it changes, so key order, spacing and every other byte reach the upstream exactly as the client sent
// them, and a 2 MB Codex turn is never parsed into objects and serialised again.
import { memoByString } from './memo';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Byte span of one member of a JSON object. */
export interface MemberSpan {
  keyStart: number;
  valueStart: number;
  valueEnd: number;
}

/** The members of one JSON object found by `scanObject`. */
export interface ObjectScan {
  /** Offset of the `{`. */
  start: number;
  /** Offset of the closing `}` (only set when the scan reached it). */
  end?: number;
  /**
   * The members found. With `wanted`, only keys that could be one of them are decoded and kept (a key of another
   * length is skipped unread); `count` still counts every member passed.
   */
  members: Map<string, MemberSpan>;
  count: number;
}

/** UTF-8 length of a wanted key (the same few keys every time). */
const byteLength = memoByString((k: string) => Buffer.byteLength(k));

/** The key between `start` and `end` (its quotes excluded); undefined when its escapes are malformed. */
function decodeKey(buf: Buffer, start: number, end: number): string | undefined {
  // Keys without escapes (the norm) are decoded without JSON.parse.
  let i = start;
  while (i < end && buf[i] !== BACKSLASH) i++;
  if (i === end) return plainString(buf, start, end);
  const raw = buf.toString('utf8', start, end);
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

/** True when the raw key `buf[start, end)` (between its quotes) may decode to a key of `wanted`. */
function mayBeWanted(buf: Buffer, start: number, end: number, wanted: ReadonlySet<string> | undefined): boolean {
  if (!wanted) return true;
  const len = end - start;
  for (const k of wanted) if (byteLength(k) === len) return true;
  // An escaped key is longer raw than decoded.
  for (let i = start; i < end; i++) if (buf[i] === BACKSLASH) return true;
  return false;
}

/** JSON whitespace (space, tab, CR, LF); false past the end of a buffer. */
export function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function skipWs(buf: Uint8Array, i: number): number {
  while (i < buf.length && isWs(buf[i]!)) i++;
  return i;
}

/** Returns the offset just past the closing quote of the string starting at `i` (which must be `"`), or -1. */
function skipString(buf: Buffer, i: number): number {
  // Most strings (keys, short values) end within a few bytes: a plain loop beats a native search for those.
  const near = Math.min(buf.length, i + 24);
  for (let j = i + 1; j < near; j++) {
    const b = buf[j];
    if (b === BACKSLASH) break;
    if (b === QUOTE) return j + 1;
  }
  let pos = i + 1;
  for (;;) {
    const q = buf.indexOf(QUOTE, pos);
    if (q < 0) return -1;
    let bs = 0;
    let k = q - 1;
    while (k > i && buf[k] === BACKSLASH) {
      bs++;
      k--;
    }
    if (bs % 2 === 0) return q + 1;
    pos = q + 1;
  }
}

/** Returns the offset just past the JSON value starting at `i`, or -1 when it is malformed. */
function skipValue(buf: Buffer, i: number): number {
  const c = buf[i];
  if (c === undefined) return -1;
  if (c === QUOTE) return skipString(buf, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    let pos = i;
    while (pos < buf.length) {
      const b = buf[pos]!;
      if (b === QUOTE) {
        pos = skipString(buf, pos);
        if (pos < 0) return -1;
        continue;
      }
      if (b === LBRACE || b === LBRACKET) depth++;
      else if (b === RBRACE || b === RBRACKET) {
        depth--;
        if (depth === 0) return pos + 1;
      }
      pos++;
    }
    return -1;
  }
  // number, true, false, null
  let pos = i;
  while (pos < buf.length) {
    const b = buf[pos]!;
    if (b === COMMA || b === RBRACE || b === RBRACKET || isWs(b)) break;
    pos++;
  }
  return pos > i ? pos : -1;
}

/**
 * Scans the members of the object starting at `start` (after whitespace). Stops early once every key in `wanted`
 * is found (when given). Returns undefined when the text is not a well-formed object up to where it stopped.
 */
export function scanObject(buf: Buffer, start = 0, wanted?: ReadonlySet<string>): ObjectScan | undefined {
  let i = skipWs(buf, start);
  if (buf[i] !== LBRACE) return undefined;
  const scan: ObjectScan = { start: i, members: new Map(), count: 0 };
  i = skipWs(buf, i + 1);
  if (buf[i] === RBRACE) {
    scan.end = i;
    return scan;
  }
  let found = 0;
  for (;;) {
    if (buf[i] !== QUOTE) return undefined;
    const keyStart = i;
    const keyEnd = skipString(buf, i);
    if (keyEnd < 0) return undefined;
    const key = mayBeWanted(buf, keyStart + 1, keyEnd - 1, wanted) ? decodeKey(buf, keyStart + 1, keyEnd - 1) : null;
    if (key === undefined) return undefined;
    i = skipWs(buf, keyEnd);
    if (buf[i] !== COLON) return undefined;
    const valueStart = skipWs(buf, i + 1);
    const valueEnd = skipValue(buf, valueStart);
    if (valueEnd < 0) return undefined;
    scan.count++;
    if (key !== null && !scan.members.has(key)) {
      scan.members.set(key, { keyStart, valueStart, valueEnd });
      if (wanted?.has(key) && ++found === wanted.size) return scan;
    }
    i = skipWs(buf, valueEnd);
    if (buf[i] === COMMA) {
      i = skipWs(buf, i + 1);
      continue;
    }
    if (buf[i] === RBRACE) {
      scan.end = i;
      return scan;
    }
    return undefined;
  }
}

export function skipWsBack(buf: Uint8Array, i: number): number {
  while (i >= 0 && isWs(buf[i]!)) i--;
  return i;
}

/** Offset of the opening quote of the string whose closing quote is at `close`, or -1. */
function stringStartBack(buf: Buffer, close: number): number {
  // As in skipString: a short string's opening quote is found faster by a plain loop (an escaped quote or a
  // backslash right before a quote sends it to the careful search).
  const near = Math.max(0, close - 24);
  for (let j = close - 1; j > near; j--) {
    const b = buf[j];
    if (b === BACKSLASH) break;
    if (b === QUOTE) {
      if (buf[j - 1] !== BACKSLASH) return j;
      break;
    }
  }
  let pos = close - 1;
  while (pos >= 0) {
    const q = buf.lastIndexOf(QUOTE, pos);
    if (q < 0) return -1;
    let bs = 0;
    let k = q - 1;
    while (k >= 0 && buf[k] === BACKSLASH) {
      bs++;
      k--;
    }
    if (bs % 2 === 0) return q;
    pos = q - 1;
  }
  return -1;
}

/** Start offset of the JSON value whose last byte is at `last`, or -1 when it is malformed. */
function skipValueBack(buf: Buffer, last: number): number {
  const c = buf[last];
  if (c === undefined) return -1;
  if (c === QUOTE) return stringStartBack(buf, last);
  if (c === RBRACE || c === RBRACKET) {
    let depth = 0;
    let pos = last;
    while (pos >= 0) {
      const b = buf[pos]!;
      if (b === QUOTE) {
        pos = stringStartBack(buf, pos);
        if (pos < 0) return -1;
        pos--;
        continue;
      }
      if (b === RBRACE || b === RBRACKET) depth++;
      else if (b === LBRACE || b === LBRACKET) {
        depth--;
        if (depth === 0) return pos;
      }
      pos--;
    }
    return -1;
  }
  let pos = last;
  while (pos >= 0) {
    const b = buf[pos]!;
    if (b === COMMA || b === COLON || b === LBRACE || b === LBRACKET || isWs(b)) break;
    pos--;
  }
  return pos < last ? pos + 1 : -1;
}

/**
 * Like `scanObject` on a whole-body top-level object, but walks its members from the closing brace backwards and
 * stops once every key in `wanted` is found. Codex puts `reasoning` after the whole conversation, so a forward
 * scan reads every byte of a 2 MB turn to reach it; this reads a few hundred. A repeated key resolves to its last
 * occurrence, as JSON.parse (and so the upstream) does. `start` is only set when the scan reached the `{`.
 */
export function scanObjectFromEnd(buf: Buffer, wanted: ReadonlySet<string>): ObjectScan | undefined {
  if (buf[skipWs(buf, 0)] !== LBRACE) return undefined;
  let i = skipWsBack(buf, buf.length - 1);
  if (buf[i] !== RBRACE) return undefined;
  const scan: ObjectScan = { start: -1, end: i, members: new Map(), count: 0 };
  i = skipWsBack(buf, i - 1);
  if (buf[i] === LBRACE) {
    scan.start = i;
    return scan;
  }
  let found = 0;
  for (;;) {
    const valueEnd = i + 1;
    const valueStart = skipValueBack(buf, i);
    if (valueStart < 0) return undefined;
    i = skipWsBack(buf, valueStart - 1);
    if (buf[i] !== COLON) return undefined;
    i = skipWsBack(buf, i - 1);
    if (buf[i] !== QUOTE) return undefined;
    const keyStart = stringStartBack(buf, i);
    if (keyStart < 0) return undefined;
    const key = mayBeWanted(buf, keyStart + 1, i, wanted) ? decodeKey(buf, keyStart + 1, i) : null;
    if (key === undefined) return undefined;
    scan.count++;
    if (key !== null && !scan.members.has(key)) {
      scan.members.set(key, { keyStart, valueStart, valueEnd });
      if (wanted.has(key) && ++found === wanted.size) return scan;
    }
    i = skipWsBack(buf, keyStart - 1);
    if (buf[i] === COMMA) {
      i = skipWsBack(buf, i - 1);
      continue;
    }
    if (buf[i] === LBRACE && skipWsBack(buf, i - 1) < 0) {
      scan.start = i;
      return scan;
    }
    return undefined;
  }
}

const MODEL_KEY = new Set(['model']);

/** True when `buf[start, end)` holds no backslash and no control character. */
function isPlain(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === BACKSLASH || c < 0x20) return false;
  }
  return true;
}

const MODEL_FIRST = Buffer.from('"model"');

/** True when `buf` holds `needle` at `i`. */
export function bytesAt(buf: Buffer, i: number, needle: Buffer): boolean {
  if (i + needle.length > buf.length) return false;
  for (let k = 0; k < needle.length; k++) if (buf[i + k] !== needle[k]) return false;
  return true;
}

/**
 * A copy of `buf[start, end)` in memory of its own, for bytes kept long: a small `Buffer.from` is a slice of node's
 * shared 8 KiB pool and would keep the pool's whole block alive.
 */
export function keptCopy(buf: Buffer, start: number, end: number): Buffer {
  const copy = Buffer.allocUnsafeSlow(end - start);
  buf.copy(copy, 0, start, end);
  return copy;
}

/** True when `buf[start, end)` is exactly `bytes`. */
export function spanIs(buf: Buffer, start: number, end: number, bytes: Buffer): boolean {
  return end - start === bytes.length && bytesAt(buf, start, bytes);
}

/** Reads the top-level string `"model"` of a JSON object body without parsing the rest. */
export function readModel(buf: Buffer): string | undefined {
  // Both clients send the model as the first member: read in place, with no scan record, when it is.
  let i = skipWs(buf, 0);
  if (buf[i] === LBRACE) {
    i = skipWs(buf, i + 1);
    if (bytesAt(buf, i, MODEL_FIRST)) {
      const colon = skipWs(buf, i + MODEL_FIRST.length);
      if (buf[colon] !== COLON) return undefined;
      const valueStart = skipWs(buf, colon + 1);
      if (buf[valueStart] !== QUOTE) return undefined;
      const valueEnd = skipString(buf, valueStart);
      return valueEnd < 0 ? undefined : decodeString(buf, { keyStart: i, valueStart, valueEnd });
    }
  }
  const scan = scanObject(buf, 0, MODEL_KEY);
  const span = scan?.members.get('model');
  if (!span || buf[span.valueStart] !== QUOTE) return undefined;
  return decodeString(buf, span);
}

/**
 * Short strings decoded lately, by a cheap hash of their bytes: the model and effort of one client's requests are
 * the same bytes request after request, and the string they decode to is kept by the request's record. Reusing it
 * allocates nothing, and a string seen before has its hash computed already for the map lookups that follow.
 */
const RECENT_SLOTS = 64;
const RECENT_MAX_BYTES = 64;
const recentBytes: Array<Buffer | undefined> = new Array<Buffer | undefined>(RECENT_SLOTS).fill(undefined);
const recentStrings: string[] = new Array<string>(RECENT_SLOTS).fill('');

/** `buf.toString('utf8', start, end)`, the same string object as last time for the same short run of bytes. */
export function plainString(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  if (len > RECENT_MAX_BYTES || len <= 0) return buf.toString('utf8', start, end);
  const slot = (len * 31 + buf[start]! * 7 + buf[end - 1]! * 13 + buf[start + (len >> 1)]!) & (RECENT_SLOTS - 1);
  const known = recentBytes[slot];
  if (known !== undefined && spanIs(buf, start, end, known)) return recentStrings[slot]!;
  const str = buf.toString('utf8', start, end);
  recentBytes[slot] = keptCopy(buf, start, end);
  recentStrings[slot] = str;
  return str;
}

/** The string value at `span` (which must start with a quote); undefined when it is malformed. */
export function decodeString(buf: Buffer, span: MemberSpan): string | undefined {
  const end = span.valueEnd - 1;
  // Without escapes (or control characters, which JSON forbids and JSON.parse below refuses) the bytes between the
  // quotes are the string.
  if (end > span.valueStart && buf[end] === QUOTE && isPlain(buf, span.valueStart + 1, end)) {
    return plainString(buf, span.valueStart + 1, end);
  }
  try {
    return JSON.parse(buf.toString('utf8', span.valueStart, span.valueEnd)) as string;
  } catch {
    return undefined;
  }
}

function splice(buf: Buffer, start: number, end: number, insert: string): Buffer {
  return Buffer.concat([buf.subarray(0, start), Buffer.from(insert, 'utf8'), buf.subarray(end)]);
}

/** Replaces the top-level `"model"` string value; returns the body unchanged when there is none. */
export function replaceModel(buf: Buffer, model: string): Buffer {
  const scan = scanObject(buf, 0, MODEL_KEY);
  const span = scan?.members.get('model');
  if (!span || buf[span.valueStart] !== QUOTE) return buf;
  return splice(buf, span.valueStart, span.valueEnd, JSON.stringify(model));
}

/** Inserts `"key":value` as the last member of the object `scan` (which must have been scanned to its end). */
function appendMember(buf: Buffer, scan: ObjectScan, key: string, valueJson: string): Buffer | undefined {
  if (scan.end === undefined) return undefined;
  const member = `${JSON.stringify(key)}:${valueJson}`;
  return splice(buf, scan.end, scan.end, scan.count > 0 ? `,${member}` : member);
}

/**
 * Sets `<objectKey>.<field>` (e.g. `reasoning.effort`) to a string, creating the object when missing.
 * Returns undefined when the body is not a JSON object (the caller then forwards it unchanged).
 */
export function setNestedString(buf: Buffer, objectKey: string, field: string, value: string): Buffer | undefined {
  // From the end: the option objects (`reasoning`, `output_config`) follow the conversation.
  const top = scanObjectFromEnd(buf, new Set([objectKey]));
  if (!top) return undefined;
  const span = top.members.get(objectKey);
  const valueJson = JSON.stringify(value);
  if (!span) return appendMember(buf, top, objectKey, `{${JSON.stringify(field)}:${valueJson}}`);
  if (buf[span.valueStart] !== LBRACE) {
    return splice(buf, span.valueStart, span.valueEnd, `{${JSON.stringify(field)}:${valueJson}}`);
  }
  const inner = scanObject(buf, span.valueStart);
  if (!inner) return undefined;
  const f = inner.members.get(field);
  if (f) return splice(buf, f.valueStart, f.valueEnd, valueJson);
  return appendMember(buf, inner, field, valueJson);
}

/** Reads `<objectKey>.<field>` when it is a string. */
export function readNestedString(buf: Buffer, objectKey: string, field: string): string | undefined {
  const top = scanObject(buf, 0);
  const span = top?.members.get(objectKey);
  if (!span || buf[span.valueStart] !== LBRACE) return undefined;
  const inner = scanObject(buf, span.valueStart, new Set([field]));
  const f = inner?.members.get(field);
  if (!f || buf[f.valueStart] !== QUOTE) return undefined;
  return decodeString(buf, f);
}
