// Token usage extraction for OpenAI Responses, Chat Completions and Anthropic Messages, buffered and streamed.
// Improvements over the seed: cached/cache-creation tokens, Anthropic message_start + message_delta merged,
// the stream is scanned to its end, and a usage event longer than the scan buffer is still recovered.
import type { UsageMetrics } from './types';
import { bytesAt, scanObjectFromEnd, skipWs } from './jsonBody';
import { usageAtEnd, usageMetrics } from './usageBytes';
import type { StreamIntegrity } from './sseIntegrity';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** JSON number or numeric string, truncated; anything else undefined. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    const n = t === '' ? NaN : Number(t);
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  }
  return undefined;
}

/** Maps one usage object to UsageMetrics; undefined when no known field is present (e.g. `usage: null`). */
export function usageFromValue(v: unknown): UsageMetrics | undefined {
  const u = obj(v);
  if (!u) return undefined;
  const outDetails = obj(u['output_tokens_details']);
  const complDetails = obj(u['completion_tokens_details']);
  const inDetails = obj(u['input_tokens_details']);
  const promptDetails = obj(u['prompt_tokens_details']);

  const input = num(u['prompt_tokens']) ?? num(u['input_tokens']);
  const output = num(u['completion_tokens']) ?? num(u['output_tokens']);
  const total = num(u['total_tokens']);
  const reasoning =
    num(outDetails?.['reasoning_tokens']) ?? num(complDetails?.['reasoning_tokens']) ?? num(u['reasoning_tokens']);
  const cached =
    num(inDetails?.['cached_tokens']) ?? num(promptDetails?.['cached_tokens']) ?? num(u['cache_read_input_tokens']);
  const cacheCreation = num(u['cache_creation_input_tokens']);
  return usageMetrics(input, output, total, reasoning, cached, cacheCreation);
}

/** First recognised usage at `usage`, `response.usage` or `message.usage`. */
function locateUsage(root: Obj): UsageMetrics | undefined {
  return (
    usageFromValue(root['usage']) ??
    usageFromValue(obj(root['response'])?.['usage']) ??
    usageFromValue(obj(root['message'])?.['usage'])
  );
}

/** Usage of a buffered (non-stream) JSON answer, at `usage` or `response.usage`. */
export function extractUsageFromJson(body: Uint8Array | string): UsageMetrics | undefined {
  let text: string;
  if (typeof body === 'string') {
    if (!body.includes('usage')) return undefined;
    text = body;
  } else {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    // Skip decoding and parsing big bodies that cannot hold usage.
    const keyAt = buf.lastIndexOf(USAGE_KEY);
    if (keyAt < 0 && buf.lastIndexOf(USAGE) < 0) return undefined;
    // The usual answer (usage last, plain integer counts) is read from its bytes, without decoding or parsing.
    const fast = keyAt < 0 ? null : usageAtEnd(buf, keyAt);
    if (fast) return fast;
    // Answers end with their top-level `usage`: parse that member alone, not the whole answer.
    const span = scanObjectFromEnd(buf, USAGE_MEMBER)?.members.get('usage');
    if (span) {
      try {
        const u = usageFromValue(JSON.parse(buf.toString('utf8', span.valueStart, span.valueEnd)));
        if (u) return u;
      } catch {
        /* fall back to the full parse below */
      }
    }
    text = buf.toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  const root = obj(parsed);
  if (!root) return undefined;
  return usageFromValue(root['usage']) ?? usageFromValue(obj(root['response'])?.['usage']);
}

/** Adds `add` into `into`; optional cache fields are created when `add` has them. */
export function addUsage(into: UsageMetrics, add: UsageMetrics): void {
  into.input_tokens += add.input_tokens;
  into.output_tokens += add.output_tokens;
  into.reasoning_tokens += add.reasoning_tokens;
  into.total_tokens += add.total_tokens;
  if (add.cached_input_tokens !== undefined) {
    into.cached_input_tokens = (into.cached_input_tokens ?? 0) + add.cached_input_tokens;
  }
  if (add.cache_creation_input_tokens !== undefined) {
    into.cache_creation_input_tokens = (into.cache_creation_input_tokens ?? 0) + add.cache_creation_input_tokens;
  }
}

/** Anthropic counts are cumulative, so the larger value of start and delta is the right one for every field. */
function mergeAnthropic(a: UsageMetrics | undefined, b: UsageMetrics): UsageMetrics {
  if (!a) return { ...b };
  const m: UsageMetrics = {
    input_tokens: Math.max(a.input_tokens, b.input_tokens),
    output_tokens: Math.max(a.output_tokens, b.output_tokens),
    reasoning_tokens: Math.max(a.reasoning_tokens, b.reasoning_tokens),
    total_tokens: 0,
  };
  m.total_tokens = m.input_tokens + m.output_tokens;
  const cached = maxOpt(a.cached_input_tokens, b.cached_input_tokens);
  if (cached !== undefined) m.cached_input_tokens = cached;
  const creation = maxOpt(a.cache_creation_input_tokens, b.cache_creation_input_tokens);
  if (creation !== undefined) m.cache_creation_input_tokens = creation;
  return m;
}

function maxOpt(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

const USAGE = Buffer.from('usage');
const USAGE_KEY = Buffer.from('"usage"');
const USAGE_MEMBER: ReadonlySet<string> = new Set(['usage']);
const DATA = Buffer.from('data:');
const LF = 0x0a;
const COLON = 0x3a;
const QUOTE = 0x22;
const NULL = Buffer.from('null');
/** `usage"`: the name of a usage member without its opening quote (see noUsageValue). */
const USAGE_CLOSED = Buffer.from('usage"');

const CR = 0x0d;
/** What the integrity detector sees of a line whose head was dropped (event names and prefixes are short). */
const HEAD_KEEP = 4096;

/**
 * Incremental usage scanner over an SSE byte stream. Only complete `data:` lines that contain the bytes "usage"
 * are decoded and parsed. Memory is bounded: only the unfinished last line is kept, and of a line longer than
 * `maxBufferBytes` only the tail, from which the final `"usage":{…}` object is recovered (plus its first bytes
 * for the integrity detector).
 * With a `StreamIntegrity` detector, the same pass hands it every complete line: usage and stream integrity are
 * read in one walk over the bytes.
 */
export class SseUsageScanner {
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** The current line outgrew the cap and its head was dropped. */
  private truncated = false;
  /** The first bytes of the kept line, for the detector when the rest of its head is dropped. */
  private head: Buffer | undefined;
  private last: UsageMetrics | undefined;
  private anthropic: UsageMetrics | undefined;

  constructor(private readonly maxBufferBytes = 1024 * 1024, readonly integrity?: StreamIntegrity) {}

  get usage(): UsageMetrics | undefined {
    return this.last;
  }

  /**
   * Feeds one chunk; the chunk is not retained beyond an unfinished last line (which is copied). Returns how many
   * of its bytes were read: all of them, unless `untilOutput` stops the walk just after the line that started the
   * stream's output (its detector's `outputStarted`), so that the caller can send it before the rest is read; the
   * rest is then fed as a chunk of its own.
   */
  push(chunk: Uint8Array, untilOutput = false): number {
    if (chunk.byteLength === 0) return 0;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const integrity = this.integrity;
    const stop = untilOutput && integrity !== undefined && !integrity.outputStarted;
    let start = 0;
    if (this.partsLen > 0 || this.truncated) {
      const nl = buf.indexOf(LF);
      if (nl < 0) {
        this.keep(buf);
        return buf.length;
      }
      this.keep(buf.subarray(0, nl));
      this.flushKept();
      start = nl + 1;
      if (stop && integrity.outputStarted) return start;
    }
    if (integrity) {
      // Every line goes to the detector; only lines holding "usage" are parsed for usage, found by one native
      // search that runs ahead of the line walk.
      let nextUsage = buf.indexOf(USAGE, start);
      while (start < buf.length) {
        const nl = buf.indexOf(LF, start);
        if (nl < 0) {
          this.keep(buf.subarray(start));
          return buf.length;
        }
        integrity.line(buf, start, nl > start && buf[nl - 1] === CR ? nl - 1 : nl);
        if (nextUsage >= 0 && nextUsage < nl) {
          this.line(buf, start, nl);
          nextUsage = buf.indexOf(USAGE, nl + 1);
        }
        start = nl + 1;
        if (stop && integrity.outputStarted) return start;
      }
      return buf.length;
    }
    // Jump from one "usage" occurrence to the next instead of walking every line: two native scans per chunk
    // when the chunk holds no usage at all.
    while (start < buf.length) {
      const u = buf.indexOf(USAGE, start);
      if (u < 0) {
        const lastNl = buf.lastIndexOf(LF);
        if (lastNl >= start) start = lastNl + 1;
        if (start < buf.length) this.keep(buf.subarray(start));
        return buf.length;
      }
      const lineStart = Math.max(start, buf.lastIndexOf(LF, u) + 1);
      const lineEnd = buf.indexOf(LF, u);
      if (lineEnd < 0) {
        this.keep(buf.subarray(lineStart));
        return buf.length;
      }
      this.line(buf, lineStart, lineEnd);
      start = lineEnd + 1;
    }
    return buf.length;
  }

  /** Handles a final line without a trailing newline. */
  end(): void {
    if (this.partsLen > 0 || this.truncated) this.flushKept();
    this.integrity?.end();
  }

  private keep(part: Buffer): void {
    const max = this.maxBufferBytes;
    if (part.length >= max) {
      if (this.integrity && !this.truncated) this.head = Buffer.from(this.parts.length ? (this.parts[0] as Buffer).subarray(0, HEAD_KEEP) : part.subarray(0, HEAD_KEEP));
      this.parts = [Buffer.from(part.subarray(part.length - max))];
      this.partsLen = max;
      this.truncated = true;
      return;
    }
    this.parts.push(Buffer.from(part));
    this.partsLen += part.length;
    // Drop whole parts from the front while the rest still covers the cap: bounded memory without re-copying.
    while (this.parts.length > 1 && this.partsLen - (this.parts[0] as Buffer).length >= max) {
      if (this.integrity && !this.truncated) this.head = Buffer.from((this.parts[0] as Buffer).subarray(0, HEAD_KEEP));
      this.partsLen -= (this.parts.shift() as Buffer).length;
      this.truncated = true;
    }
  }

  private flushKept(): void {
    let joined = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.partsLen);
    const truncated = this.truncated || joined.length > this.maxBufferBytes;
    if (joined.length > this.maxBufferBytes) joined = joined.subarray(joined.length - this.maxBufferBytes);
    this.parts = [];
    this.partsLen = 0;
    this.truncated = false;
    if (this.integrity) {
      const h = truncated ? (this.head ?? joined) : joined;
      this.integrity.line(h, 0, h.length > 0 && h[h.length - 1] === CR ? h.length - 1 : h.length);
      this.head = undefined;
    }
    if (truncated) this.recoverFromTail(joined);
    else this.line(joined, 0, joined.length);
  }

  private line(buf: Buffer, s: number, e: number): void {
    if (e > s && buf[e - 1] === 0x0d) e--;
    if (e - s < DATA.length + 5 || buf.compare(DATA, 0, DATA.length, s, s + DATA.length) !== 0) return;
    const body = buf.subarray(s + DATA.length, e);
    if (noUsageValue(body)) return;
    let root: Obj | undefined;
    try {
      root = obj(JSON.parse(body.toString('utf8')));
    } catch {
      return;
    }
    if (!root) return;
    const u = locateUsage(root);
    if (u) this.record(root['type'], u);
  }

  private record(type: unknown, u: UsageMetrics): void {
    if (type === 'message_start' || type === 'message_delta') {
      this.anthropic = mergeAnthropic(this.anthropic, u);
      this.last = this.anthropic;
    } else {
      this.last = u;
    }
  }

  /** Best effort for an event longer than the cap: parse the last balanced `"usage":{…}` object in the tail. */
  private recoverFromTail(tail: Buffer): void {
    let from = tail.length;
    for (let tries = 0; tries < 8 && from > 0; tries++) {
      const at = tail.lastIndexOf(USAGE_KEY, from - 1);
      if (at < 0) return;
      from = at;
      if (at > 0 && tail[at - 1] === 0x5c) continue; // an escaped quote: text inside a string
      const objStart = skipToObject(tail, at + USAGE_KEY.length);
      if (objStart < 0) continue;
      const objEnd = balancedEnd(tail, objStart);
      if (objEnd < 0) continue;
      let u: UsageMetrics | undefined;
      try {
        u = usageFromValue(JSON.parse(tail.toString('utf8', objStart, objEnd)));
      } catch {
        continue;
      }
      if (u) {
        // The event type was in the dropped head; only OpenAI events get this long, so last-wins applies.
        this.record(undefined, u);
        return;
      }
    }
  }
}

/**
 * True when no member named "usage" in `body` holds anything but `null`: the line has no usage to parse. The
 * Responses API opens every stream with two events whose usage is null (response.created and
 * response.in_progress), each repeating the request's tools and instructions (~9.5 KB for Codex, tens of KB with
 * instructions) that would otherwise be decoded and parsed before the first output. A quote cannot stand unescaped
 * inside a JSON string, so only `"usage"` followed by `:` names a member; text that mentions usage is passed over
 * by the native search. A usage member spelled with `\u` escapes is not looked for (no API writes one).
 */
function noUsageValue(body: Buffer): boolean {
  // Searched without its opening quote: a needle that starts with `"` stops the native search at every quote of the
  // JSON (Codex's 9.5 KB response.created: ~5 µs a search, against ~2 from `u`).
  for (let at = body.indexOf(USAGE_CLOSED); at >= 0; at = body.indexOf(USAGE_CLOSED, at + USAGE_CLOSED.length)) {
    if (body[at - 1] !== QUOTE) continue;
    const colon = skipWs(body, at + USAGE_CLOSED.length);
    if (body[colon] !== COLON) continue;
    if (!bytesAt(body, skipWs(body, colon + 1), NULL)) return false;
  }
  return true;
}

/** Index of the `{` after `:` (whitespace allowed), or -1. */
function skipToObject(b: Buffer, i: number): number {
  let colon = false;
  for (; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) continue;
    if (!colon && c === 0x3a) {
      colon = true;
      continue;
    }
    return colon && c === 0x7b ? i : -1;
  }
  return -1;
}

/** End (exclusive) of the JSON object starting at `start`, honouring strings; -1 when it is cut off. */
function balancedEnd(b: Buffer, start: number): number {
  let depth = 0;
  let inStr = false;
  for (let i = start; i < b.length; i++) {
    const c = b[i] as number;
    if (inStr) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i + 1;
  }
  return -1;
}
