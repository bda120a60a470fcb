// Stream integrity: what the events of a 2xx SSE answer say about it, read line by line in the same pass as the
// usage scanner (usage.ts feeds every complete line here). The hot path looks only at `event:` names and at the
// first bytes of `data:` lines; only an error event's data is parsed.
//
// Per wire format:
// - Responses: `response.created` / `response.in_progress` / `response.queued` carry no output; `error` and
//   `response.failed` are failures; `response.completed` / `response.incomplete` end the stream.
// - Anthropic Messages: `message_start` and `ping` carry no output; `error` is a failure; `message_stop` ends it.
// - Chat Completions (data-only): a chunk whose delta has no text, reasoning or tool call carries no output;
//   `data: {"error": …}` is a failure; `data: [DONE]` (or a chunk with a `finish_reason`) ends it.
// Anything else carries output: the proxy never holds back an event it does not know to be empty.
import { classifyErrorObject } from './classify';
import { bytesAt, keptCopy, spanIs } from './jsonBody';
import type { ErrorFields } from './classify';
import type { ServiceName } from './types';

export type WireFormat = 'responses' | 'anthropic' | 'chat';

/** The wire format a request path speaks, or undefined for endpoints without a streamed answer format. */
export function wireFormatFor(service: ServiceName, path: string): WireFormat | undefined {
  if (path.endsWith('/chat/completions')) return 'chat';
  if (service === 'claude') return path.endsWith('/messages') ? 'anthropic' : undefined;
  return path.endsWith('/responses') ? 'responses' : undefined;
}

/** An error an upstream reported inside a 2xx answer, classified like an HTTP failure. */
export interface InBandError {
  cls: string;
  hint: string;
  /** The HTTP status the same failure would have had (for `on_status` rules and cooldowns). */
  status: number;
  /** The upstream's own message (and code), for the record. */
  message: string;
  /** Where it was found: the SSE event name, `data` for a data-only error chunk, or `body` for a JSON body. */
  source: string;
}

type Kind = 0 | 1 | 2 | 3; // content-free, output, terminal, error
const FREE = 0;
const OUTPUT = 1;
const TERMINAL = 2;
const ERROR = 3;

const KINDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['response.created', FREE], ['response.in_progress', FREE], ['response.queued', FREE],
  ['message_start', FREE], ['ping', FREE], ['keepalive', FREE], ['heartbeat', FREE],
  ['response.completed', TERMINAL], ['response.incomplete', TERMINAL], ['message_stop', TERMINAL],
  ['error', ERROR], ['response.failed', ERROR],
]);

const EVENT = Buffer.from('event:');
const DATA = Buffer.from('data:');
const TYPE_KEY = Buffer.from('"type"');
const ERROR_KEY = Buffer.from('"error"');
const DONE = Buffer.from('[DONE]');
const FINISH = Buffer.from('"finish_reason"');
const CHAT_OUTPUT = [Buffer.from('"tool_calls"'), Buffer.from('"function_call"')];
const CHAT_TEXT = [Buffer.from('"content"'), Buffer.from('"reasoning_content"'), Buffer.from('"reasoning"'), Buffer.from('"refusal"')];
const TYPE_WINDOW = 96;

// Byte loops (jsonBody's), not Buffer#compare: for prefixes this short a call into native code costs more.
function startsWith(buf: Buffer, s: number, e: number, p: Buffer): boolean {
  return e - s >= p.length && bytesAt(buf, s, p);
}

/** An event name seen on some stream, with its kind. */
interface EventName {
  bytes: Buffer;
  name: string;
  kind: Kind;
}

/**
 * Names already seen, shared by every stream: a stream's first event (and each change of name) finds its entry here
 * instead of copying and decoding the name again. Bounded: names past it are made per use.
 */
const NAMES: EventName[] = [];
const NAMES_MAX = 64;

function eventName(buf: Buffer, s: number, e: number): EventName {
  for (const n of NAMES) if (spanIs(buf, s, e, n.bytes)) return n;
  const name = buf.toString('latin1', s, e);
  const n: EventName = { bytes: keptCopy(buf, s, e), name, kind: KINDS.get(name) ?? OUTPUT };
  if (NAMES.length < NAMES_MAX) NAMES.push(n);
  return n;
}

function skipSpaces(buf: Buffer, i: number, e: number): number {
  while (i < e && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  return i;
}

/** The string after `"type"` `:` at `at`, when it is a short plain string. */
function typeValue(buf: Buffer, at: number, e: number): string | undefined {
  let i = skipSpaces(buf, at + TYPE_KEY.length, e);
  if (buf[i] !== 0x3a) return undefined;
  i = skipSpaces(buf, i + 1, e);
  if (buf[i] !== 0x22) return undefined;
  const end = buf.indexOf(0x22, i + 1);
  if (end < 0 || end > e || end - i > 64) return undefined;
  return buf.toString('latin1', i + 1, end);
}

/** True when `key` in `line` is followed by `:` and a string (a non-empty one when `nonEmpty`). */
function stringFollows(line: Buffer, key: Buffer, nonEmpty: boolean): boolean {
  for (let at = line.indexOf(key); at >= 0; at = line.indexOf(key, at + key.length)) {
    let i = skipSpaces(line, at + key.length, line.length);
    if (line[i] !== 0x3a) continue;
    i = skipSpaces(line, i + 1, line.length);
    if (line[i] !== 0x22) continue;
    if (!nonEmpty || (i + 1 < line.length && line[i + 1] !== 0x22)) return true;
  }
  return false;
}

/** True when `:` and a string follow at `i` (the value of a key that ends at `i`). */
function stringAt(buf: Buffer, i: number, e: number): boolean {
  i = skipSpaces(buf, i, e);
  if (buf[i] !== 0x3a) return false;
  i = skipSpaces(buf, i + 1, e);
  return buf[i] === 0x22;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The error object of an error event or body: `response.error`, `error`, or the root itself. */
export function errorFieldsOf(root: Record<string, unknown>): ErrorFields | undefined {
  const inner = rec(rec(root['response'])?.['error']) ?? rec(root['error']);
  if (inner) return { type: str(inner['type']), code: str(inner['code']), message: str(inner['message']) };
  if (typeof root['error'] === 'string') return { message: root['error'] };
  if (root['type'] === 'error' || root['code'] !== undefined || root['message'] !== undefined) {
    const type = str(root['type']);
    return { type: type === 'error' ? undefined : type, code: str(root['code']), message: str(root['message']) };
  }
  return undefined;
}

/** Classifies the error carried by `json` (an event's data or a body); undefined when it holds no error object. */
export function inBandErrorFromJson(json: string, source: string): InBandError | undefined {
  let root: Record<string, unknown> | undefined;
  try {
    root = rec(JSON.parse(json));
  } catch {
    return undefined;
  }
  const f = root ? errorFieldsOf(root) : undefined;
  if (!f) return undefined;
  return describe(f, source);
}

function describe(f: ErrorFields, source: string): InBandError {
  const c = classifyErrorObject(f);
  const what = [f.code ?? f.type, f.message].filter((x) => x !== undefined && x !== '').join(': ');
  return { ...c, message: (what || 'error event without details').slice(0, 500), source };
}

/**
 * Follows one SSE stream event by event. `outputStarted`, `terminal` and `error` tell the caller whether the
 * opening may still be held back, whether the stream ended properly, and whether it reported a failure.
 */
export class StreamIntegrity {
  outputStarted = false;
  terminal = false;
  /** The first error the stream reported. */
  error: InBandError | undefined;
  /** The error came before any output event. */
  errorBeforeOutput = false;
  /** Named events seen (a data-only stream never names one). */
  private named = false;
  private eventKind: Kind | undefined;
  private eventName = '';
  private pendingError = false;
  /** The previous event name: most events repeat it (a run of deltas), so no string is made for them. */
  private last: EventName | undefined;

  constructor(readonly format: WireFormat | undefined) {}

  /** One complete line (without its line break) at buf[s, e). */
  line(buf: Buffer, s: number, e: number): void {
    if (e === s) return this.boundary();
    const c = buf[s];
    if (c === 0x65 /* e */) {
      if (startsWith(buf, s, e, EVENT)) this.onName(buf, skipSpaces(buf, s + EVENT.length, e), e);
    } else if (c === 0x64 /* d */ && startsWith(buf, s, e, DATA)) {
      this.onData(buf, skipSpaces(buf, s + DATA.length, e), e);
    }
  }

  /** The stream ended: a pending named error without data still counts. */
  end(): void {
    this.boundary();
  }

  private boundary(): void {
    if (this.pendingError) this.fail(undefined, this.eventName);
    this.pendingError = false;
    this.eventKind = undefined;
  }

  private onName(buf: Buffer, s: number, e: number): void {
    while (e > s && (buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--;
    this.named = true;
    let n = this.last;
    if (n === undefined || !spanIs(buf, s, e, n.bytes)) this.last = n = eventName(buf, s, e);
    this.eventName = n.name;
    this.eventKind = n.kind;
    this.apply(n.kind, n.name);
  }

  private apply(kind: Kind, name: string): void {
    if (kind === OUTPUT) this.outputStarted = true;
    else if (kind === TERMINAL) this.terminal = true;
    else if (kind === ERROR) {
      this.pendingError = true;
      this.eventName = name;
    }
  }

  private onData(buf: Buffer, s: number, e: number): void {
    if (this.pendingError) {
      this.pendingError = false;
      const err = inBandErrorFromJson(buf.toString('utf8', s, e), this.eventName);
      this.fail(err, this.eventName);
      return;
    }
    if (this.eventKind !== undefined) return; // named event: its name said it all
    if (startsWith(buf, s, e, DONE)) {
      this.terminal = true;
      return;
    }
    if (buf[s] !== 0x7b /* { */) return;
    const i = skipSpaces(buf, s + 1, e);
    if (startsWith(buf, i, e, ERROR_KEY)) {
      // `{"error": null, …}` is no error; only an error object or text is.
      const err = inBandErrorFromJson(buf.toString('utf8', s, e), 'data');
      if (err) return this.fail(err, 'data');
    }
    if (!this.named && this.format !== 'chat') {
      const t = buf.subarray(s, Math.min(e, s + TYPE_WINDOW)).indexOf(TYPE_KEY);
      const type = t >= 0 ? typeValue(buf, s + t, e) : undefined;
      if (type !== undefined) {
        const kind = KINDS.get(type);
        if (kind !== undefined || type.startsWith('response.') || type.startsWith('content_block') || type.startsWith('message_')) {
          if (kind === ERROR) this.fail(inBandErrorFromJson(buf.toString('utf8', s, e), type), type);
          else this.apply(kind ?? OUTPUT, type);
          return;
        }
      }
    }
    this.chatChunk(buf, s, e);
  }

  /** A Chat Completions chunk: output when its delta carries text, reasoning or a tool call. */
  private chatChunk(buf: Buffer, s: number, e: number): void {
    if (!this.outputStarted) {
      const line = buf.subarray(s, e);
      if (CHAT_OUTPUT.some((m) => line.indexOf(m) >= 0) || CHAT_TEXT.some((m) => stringFollows(line, m, true))) {
        this.outputStarted = true;
      }
    }
    if (!this.terminal) {
      // `finish_reason` sits at the end of a chunk: a backward search from the line's end finds it at once.
      const at = buf.lastIndexOf(FINISH, e - FINISH.length);
      if (at >= s && stringAt(buf, at + FINISH.length, e)) this.terminal = true;
    }
  }

  private fail(err: InBandError | undefined, source: string): void {
    if (this.error) return;
    this.error = err ?? describe({}, source || 'error');
    this.errorBeforeOutput = !this.outputStarted;
  }
}
