// Forwarding a 2xx answer. Content is never held back; content-free opening events may be, within a bound:
// - SSE: the opening events that carry no output (response.created, message_start, ping, comments…) are held
//   until the first event that carries output, the end of the stream, or the bound (`[retry] hold_preamble_ms` /
//   `hold_preamble_bytes`). An error or a disconnect inside the hold drops the held bytes and nothing reaches the
//   client, so the pipeline can fail over invisibly. The first output event is written the moment it arrives.
// - JSON: only the first bytes are looked at; a body that opens as an error object (`{"error":…`) is collected
//   (bounded) and classified.
// After that, every chunk is forwarded as it arrives with back-pressure; usage and integrity are read in one pass.
import type { ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { isWs } from '../core/jsonBody';
import { inBandErrorFromJson, StreamIntegrity } from '../core/sseIntegrity';
import type { InBandError, WireFormat } from '../core/sseIntegrity';
import type { UsageMetrics } from '../core/types';
import { extractUsageFromJson, SseUsageScanner } from '../core/usage';
import { forwardableResponseHeaders, headerValue } from './headers';
import type { ResponseHead, UpstreamCall } from './upstreamCall';

const NON_STREAM_CAPTURE_MAX = 16 * 1024 * 1024;
// A compressed answer is inflated for usage only; a bomb stops here instead of filling memory.
const DECODE_MAX = 32 * 1024 * 1024;
/** A JSON 2xx body that opens like an error object is collected up to this size to be classified. */
const JSON_ERROR_MAX = 64 * 1024;
/** Bytes of a JSON body needed to tell whether it opens like an error object. */
const JSON_PEEK = 32;
const JSON_ERROR_OPENING = /^\s*\{\s*"(?:error"\s*:\s*["{]|type"\s*:\s*"error")/;
const ERROR_OPENINGS = ['{"error":{', '{"error":"', '{"type":"error"'];

/**
 * Decides on bytes alone, for the common answer, that a body does not open like an error object: its first member
 * key starts with neither `e` (error) nor `t` (type), or it is not an object at all. False means "look closer".
 */
function clearlyNotErrorOpening(b: Buffer): boolean {
  let i = 0;
  while (isWs(b[i])) i++;
  if (i >= b.length) return false;
  if (b[i] !== 0x7b) return true;
  i++;
  while (isWs(b[i])) i++;
  if (i + 1 >= b.length) return false;
  if (b[i] !== 0x22) return true;
  const c = b[i + 1];
  return c !== 0x65 && c !== 0x74;
}

/** True while the first bytes of a JSON body could still grow into an error opening. */
function mayOpenAsError(head: string): boolean {
  const h = head.replace(/\s+/g, '');
  return ERROR_OPENINGS.some((c) => c.startsWith(h));
}

/**
 * True when a body answered as JSON is really an event stream (some relays say `application/json` for SSE). A body
 * that opens like JSON is JSON: only other bodies are searched for a `data:` line.
 */
function looksLikeSse(body: Buffer): boolean {
  let i = 0;
  while (isWs(body[i])) i++;
  if (body[i] === 0x7b || body[i] === 0x5b) return false;
  const head = body.toString('latin1', i, Math.min(body.length, i + 64));
  return head.startsWith('event:') || head.startsWith('data:') || body.includes('\ndata:');
}

/** A decoded copy of a compressed body for usage extraction only (the client gets the original bytes). */
function decodeForUsage(body: Buffer, encoding: string | undefined): Buffer | undefined {
  try {
    switch ((encoding ?? '').trim().toLowerCase()) {
      case '':
      case 'identity':
        return body;
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body, { maxOutputLength: DECODE_MAX });
      case 'br':
        return brotliDecompressSync(body, { maxOutputLength: DECODE_MAX });
      case 'deflate':
        return inflateSync(body, { maxOutputLength: DECODE_MAX });
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

export interface ForwardOptions {
  now: () => number;
  sentAt: number;
  headersAt: number;
  extraHeaders?: Readonly<Record<string, string>>;
  /** The wire format of the request (decides which terminal event a complete stream ends with). */
  format?: WireFormat;
  /** Bound of the hold of content-free opening events; 0 ms forwards everything at once. */
  holdMs: number;
  holdBytes: number;
  /**
   * A clean answer's end, told in the turn it went out (the client has all of it). The listener hands `result` over
   * by calling `resolve`, at once or later: whatever waits on `result` then runs outside that turn.
   */
  onCleanEnd?: (r: ForwardResult, resolve: () => void) => void;
}

/** How the opening of the answer went: committed (headers sent, forwarding), or failed before anything was sent. */
export type Opening =
  | { kind: 'committed' }
  /** An error event or JSON error body before any output; the upstream call is aborted. */
  | { kind: 'in_band'; error: InBandError; held: Buffer }
  /** The upstream broke (`err`) or ended before any output and without its terminal event. */
  | { kind: 'cut'; err?: Error; held: Buffer };

export interface ForwardResult {
  isSse: boolean;
  /** The body has a content-encoding (nothing may be appended to it as text). */
  encoded: boolean;
  ttfb: number;
  usage?: UsageMetrics;
  /** Set when the upstream stream broke after the answer started. */
  streamError?: Error;
  /** An error the upstream reported inside the answer after it started (forwarded to the client as sent). */
  inBand?: InBandError;
  /** The stream ended cleanly but without its format's terminal event. */
  incomplete?: boolean;
  /** The format's terminal event went through (the answer is complete even if the client hung up after it). */
  complete?: boolean;
}

type Mode = 'hold' | 'peek' | 'collect' | 'forward' | 'dropped';

const COMMITTED: Opening = Object.freeze({ kind: 'committed' });
const COMMITTED_OPENING: Promise<Opening> = Promise.resolve(COMMITTED);

/** Responses streaming plain (not re-encoded) SSE: the ones a terminal error event can still be appended to. */
const plainSse = new WeakSet<ServerResponse>();

/** True once `res` passes through a plain SSE stream (see ProxyHost.failInFlight). */
export function isPlainSse(res: ServerResponse): boolean {
  return plainSse.has(res);
}

/** The answer ended as the upstream meant it to: no break, no in-band error, no missing terminal event. */
export function isClean(r: ForwardResult): boolean {
  return r.inBand === undefined && r.streamError === undefined && !r.incomplete;
}

/** Streams `call`'s 2xx answer to `res`: `opening` settles at commit or at a failure before output, `result` at the end. */
export class SuccessForwarder {
  readonly result: Promise<ForwardResult>;
  readonly isSse: boolean;
  private openingDone: Opening | undefined;
  private openingPromise: Promise<Opening> | undefined;
  private settleOpening: ((o: Opening) => void) | undefined;
  private resolveResult!: (r: ForwardResult) => void;
  private readonly encoding: string | undefined;
  private readonly scanner: SseUsageScanner | undefined;
  private readonly integrity: StreamIntegrity | undefined;
  private readonly outHeaders: Record<string, string | string[]>;
  private captured: Buffer[] | undefined;
  private capturedBytes = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private mode: Mode = 'forward';
  private timer: NodeJS.Timeout | undefined;
  private firstChunkAt: number | undefined;
  /** The peek saw the body open like anything but an error object (no need to look again at the end). */
  private openedClean = false;
  private waitingDrain = false;
  private scannerEnded = false;
  /** The answer's first bytes were written (and sent at once). */
  private sentFirst = false;
  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    this.call.resume();
  };

  constructor(
    private readonly call: UpstreamCall,
    private readonly resp: ResponseHead,
    private readonly res: ServerResponse,
    private readonly o: ForwardOptions,
  ) {
    this.result = new Promise((r) => (this.resolveResult = r));
    const ctype = String(headerValue(resp.headers, 'content-type') ?? '').toLowerCase();
    this.isSse = ctype.includes('text/event-stream');
    this.encoding = headerValue(resp.headers, 'content-encoding');
    // Never holds content-length (a hop-by-hop header here): an event stream gets none, a body its upstream's.
    const out = forwardableResponseHeaders(resp.headers);
    if (this.isSse) {
      out['cache-control'] ??= 'no-cache';
      out['x-accel-buffering'] = 'no';
    } else {
      const declaredLength = headerValue(resp.headers, 'content-length');
      if (declaredLength !== undefined && !('transfer-encoding' in resp.headers)) out['content-length'] = declaredLength;
    }
    const extra = o.extraHeaders;
    if (extra) for (const name in extra) out[name] = extra[name]!;
    this.outHeaders = out;
    if (this.isSse && !this.encoding) {
      this.integrity = new StreamIntegrity(o.format);
      this.scanner = new SseUsageScanner(undefined, this.integrity);
    }
    if (!this.isSse) this.captured = [];
    const holding = o.holdMs > 0 && !this.encoding;
    // Only a stream of a known format is held: its events say when output starts.
    if (holding && this.isSse && o.holdBytes > 0 && o.format !== undefined) this.mode = 'hold';
    else if (holding && (ctype.includes('json') || ctype === '')) this.mode = 'peek';
    if (this.mode === 'forward') this.commit();
    call.consume((c) => this.onData(c), (err) => this.onEnd(err));
    // The chunks that came with the head usually decide the hold (the first output event, or a JSON opening): the
    // bound's timer is only armed when they did not.
    if (this.mode === 'hold') this.startTimer();
  }

  /**
   * Settles at commit or at a failure before output. An answer that commits on the chunks it came with (the usual
   * case) is already settled when asked: it costs no promise of its own.
   */
  get opening(): Promise<Opening> {
    const done = this.openingDone;
    if (done) return done === COMMITTED ? COMMITTED_OPENING : Promise.resolve(done);
    return (this.openingPromise ??= new Promise((r) => (this.settleOpening = r)));
  }

  /** The answer is committed (its head went to the client): what `opening` would settle with, known now. */
  get committed(): boolean {
    return this.openingDone === COMMITTED;
  }

  private resolveOpening(o: Opening): void {
    if (this.openingDone) return;
    this.openingDone = o;
    this.settleOpening?.(o);
  }

  private startTimer(): void {
    this.timer ??= setTimeout(() => this.mode !== 'forward' && this.mode !== 'dropped' && this.commit(), this.o.holdMs);
  }

  /** Sends the head and whatever was held; from here on every chunk is forwarded as it arrives. */
  private commit(): void {
    if (this.timer) clearTimeout(this.timer);
    this.mode = 'forward';
    this.res.writeHead(this.resp.statusCode, this.outHeaders);
    if (this.isSse && !this.encoding) plainSse.add(this.res);
    const held = this.held;
    this.held = [];
    if (held.length === 0) {
      if (this.isSse) this.res.flushHeaders();
    } else {
      // The held chunks go out as they are, in one write of the socket (node corks it at the first write; the
      // last one, through write(), sends them all): no copy of an opening that may be tens of KB.
      const last = held.length - 1;
      for (let i = 0; i < last; i++) this.res.write(held[i]);
      this.write(held[last]!);
    }
    this.resolveOpening(COMMITTED);
  }

  private write(chunk: Buffer): void {
    const ok = this.res.write(chunk);
    if (!this.sentFirst) {
      // node:http corks the socket at the first write until the end of the tick (to send the head with it): the
      // head and first bytes of an answer still coming go out now instead, not after the rest of this turn's work
      // (the stream scan, bookkeeping). A complete answer ends in this turn: its end goes in the same write.
      this.sentFirst = true;
      if (!this.call.ended) this.res.uncork();
    }
    if (!ok && !this.waitingDrain) {
      this.waitingDrain = true;
      this.call.pause();
      this.res.once('drain', this.onDrain);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.firstChunkAt === undefined) this.firstChunkAt = this.o.now();
    const mode = this.mode;
    if (mode === 'dropped') return;
    if (mode === 'hold') return this.onHeldData(chunk);
    if (mode === 'forward') this.write(chunk);
    else {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
    }
    if (this.scanner) this.scanner.push(chunk);
    else if (this.captured && this.capturedBytes + chunk.length <= NON_STREAM_CAPTURE_MAX) {
      this.captured.push(chunk);
      this.capturedBytes += chunk.length;
    }
    if (mode === 'peek') {
      if (this.held.length === 1 && clearlyNotErrorOpening(chunk)) {
        this.openedClean = true;
        return this.commit();
      }
      const head = this.heldBody().toString('latin1', 0, Math.min(this.heldBytes, JSON_PEEK));
      if (JSON_ERROR_OPENING.test(head)) this.mode = 'collect';
      else if (head.length >= JSON_PEEK || !mayOpenAsError(head)) {
        this.openedClean = true;
        return this.commit();
      }
      this.startTimer();
    } else if (mode === 'collect' && this.heldBytes > JSON_ERROR_MAX) this.commit();
  }

  /**
   * A chunk while the opening is held. It is read only up to the line that starts the output: that commits at once
   * (the held bytes and this whole chunk go out), and the rest of the chunk (in a burst, often the whole answer and
   * its usage event) is read after the write instead of before it.
   */
  private onHeldData(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const scanner = this.scanner!;
    const g = this.integrity!;
    const read = scanner.push(chunk, true);
    if (g.error && g.errorBeforeOutput) return this.drop({ kind: 'in_band', error: g.error, held: this.heldBody() });
    if (g.outputStarted || g.error || this.heldBytes >= this.o.holdBytes) {
      this.commit();
      if (read < chunk.length) scanner.push(chunk.subarray(read));
    }
  }

  private heldBody(): Buffer {
    if (this.held.length > 1) this.held = [Buffer.concat(this.held, this.heldBytes)];
    return this.held[0] ?? Buffer.alloc(0);
  }

  /** Nothing was sent: forget the answer, stop the upstream, and let the pipeline fail over. */
  private drop(o: Opening): void {
    if (this.timer) clearTimeout(this.timer);
    this.mode = 'dropped';
    this.held = [];
    this.call.abort(new Error('in-band error before any output'));
    this.resolveOpening(o);
    this.resolveResult(this.summary(undefined));
  }

  private onEnd(err: Error | undefined): void {
    const mode = this.mode;
    if (mode === 'dropped') return;
    if (mode === 'hold') {
      this.endScanner();
      const g = this.integrity!;
      if (g.error && g.errorBeforeOutput) return this.drop({ kind: 'in_band', error: g.error, held: this.heldBody() });
      if (err || (!g.outputStarted && !g.terminal && this.o.format !== undefined)) {
        return this.drop(err ? { kind: 'cut', err, held: this.heldBody() } : { kind: 'cut', held: this.heldBody() });
      }
      this.commit();
    } else if (mode === 'peek' || mode === 'collect') {
      if (err) return this.drop({ kind: 'cut', err, held: this.heldBody() });
      const body = this.heldBody();
      const e = mode === 'collect' ? inBandErrorFromJson(body.toString('utf8'), 'body') : undefined;
      if (e) return this.drop({ kind: 'in_band', error: e, held: body });
      this.commit();
    }
    if (this.waitingDrain) this.res.off('drain', this.onDrain);
    const r = this.summary(err);
    // A clean answer ends in the turn its last bytes came in: node sends a response's writes at the end of the turn
    // (a corked socket), so the end goes out in the same write as the last bytes instead of a write of its own.
    if (isClean(r) && !this.res.destroyed) {
      this.res.end();
      const told = this.o.onCleanEnd;
      if (told) return told(r, () => this.resolveResult(r));
    }
    this.resolveResult(r);
  }

  private endScanner(): void {
    if (this.scannerEnded) return;
    this.scannerEnded = true;
    this.scanner?.end();
  }

  private summary(streamError: Error | undefined): ForwardResult {
    const o = this.o;
    const ttfb = this.isSse ? (this.firstChunkAt ?? o.now()) - o.sentAt : o.headersAt - o.sentAt;
    const r: ForwardResult = { isSse: this.isSse, encoded: !!this.encoding, ttfb };
    if (streamError) r.streamError = streamError;
    if (this.scanner) {
      if (this.mode !== 'dropped') this.endScanner();
      r.usage = this.scanner.usage;
      const g = this.integrity!;
      if (g.terminal && o.format !== undefined) r.complete = true;
      if (g.error) r.inBand = g.error;
      else if (!streamError && o.format !== undefined && !g.terminal) r.incomplete = true;
    } else if (this.captured && this.capturedBytes > 0) {
      const raw = this.captured.length === 1 ? this.captured[0]! : Buffer.concat(this.captured, this.capturedBytes);
      const decoded = decodeForUsage(raw, this.encoding);
      if (decoded) {
        if (looksLikeSse(decoded)) {
          const s = new SseUsageScanner();
          s.push(decoded);
          s.end();
          r.usage = s.usage;
        } else {
          r.usage = extractUsageFromJson(decoded);
          // Forwarded without a hold (or past its bound): a JSON error body still counts as a failure.
          if (!streamError && !this.openedClean && JSON_ERROR_OPENING.test(decoded.toString('latin1', 0, JSON_PEEK))) {
            const e = inBandErrorFromJson(decoded.toString('utf8'), 'body');
            if (e) r.inBand = e;
          }
        }
      }
    }
    return r;
  }
}
