// requests.jsonl writer (seed logging.rs). Unlike the seed, which appends synchronously under a global mutex on
// every request, lines are queued in memory and appended in batches off the request path; rotation happens
// before each batch. A plain record is formatted once the event loop turn that finished it is done (with the other
// records of that turn, in one loop): none of that work sits between a finished answer and the requests that came in
// with it, and the record does not live long enough to be copied by the garbage collector (which a record held for
// the whole flush interval would be).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { EnvOptions } from '../core/envOptions';
import { formatRequestLogLine, redactText } from '../core/requestLog';
import { encodeRequestLogLine } from '../core/requestLogEncode';
import type { RequestLogRecord } from '../core/requestLog';

export interface RequestLogWriterOptions {
  /** The logs directory, normally `<helper home>/logs`. */
  dir: string;
  fileName?: string;
  maxBytes?: number;
  maxFiles?: number;
  onlyErrors?: boolean;
  flushIntervalMs?: number;
  /** Lines held in memory before new ones are dropped (the disk is slower than the proxy). */
  maxQueue?: number;
  now?: () => number;
  /** Known secrets (configured keys); lines with an `http_debug` part are scrubbed of them. */
  secrets?: () => readonly string[];
  onError?: (err: unknown) => void;
}

/** Size of the buffers lines are encoded into (a batch of a busy 200 ms fits in a few). */
const CHUNK_BYTES = 256 * 1024;
/** Free bytes a buffer must have left for a line to be encoded into it (longer lines are measured first). */
const LINE_ROOM = 4096;
/** How often the file's size is read again from the file system (it is counted in between). */
const SIZE_CHECK_MS = 5000;

/** Append-only JSONL writer with batching, a bounded queue and size-based rotation. */
export class RequestLogWriter {
  readonly file: string;
  private readonly dir: string;
  private readonly fileName: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly onlyErrors: boolean;
  private readonly flushIntervalMs: number;
  private readonly maxQueue: number;
  private readonly now: () => number;
  private readonly secrets: (() => readonly string[]) | undefined;
  private readonly onError: ((err: unknown) => void) | undefined;
  /** Queued records and lines, in order, not yet encoded. */
  private pending: Array<RequestLogRecord | string> = [];
  /** Encoded lines, in a few large buffers (no join and no re-encoding of the batch). */
  private chunks: Buffer[] = [];
  private current: Buffer | undefined;
  private used = 0;
  /**
   * Encode buffers whose batch is on disk, kept for the next batches: a fresh 256 KiB buffer costs a page fault per
   * 4 KiB written into it (and churns the allocator), one in use costs neither.
   */
  private spare: Buffer[] = [];
  /** The file's size as last asked of the file system plus what was appended since, and when it was asked. */
  private knownSize: number | undefined;
  private sizeCheckedAt = 0;
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private encodeSoon: NodeJS.Immediate | undefined;
  private chain: Promise<void> = Promise.resolve();
  private dirReady = false;
  private closed = false;
  /** Lines dropped because the queue was full. */
  dropped = 0;
  /** Called at the start of every flush: whoever holds finished records back hands them over here. */
  beforeFlush: (() => void) | undefined;

  constructor(opts: RequestLogWriterOptions) {
    this.dir = opts.dir;
    this.fileName = opts.fileName ?? 'requests.jsonl';
    this.file = join(this.dir, this.fileName);
    this.maxBytes = opts.maxBytes ?? 50 * 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? 10;
    this.onlyErrors = opts.onlyErrors ?? false;
    this.flushIntervalMs = Math.max(0, opts.flushIntervalMs ?? 200);
    this.maxQueue = Math.max(1, opts.maxQueue ?? 10_000);
    this.now = opts.now ?? Date.now;
    this.secrets = opts.secrets;
    this.onError = opts.onError;
  }

  /** Queues one request line; returns immediately. */
  write(record: RequestLogRecord): void {
    if (this.onlyErrors && record.status_code >= 200 && record.status_code < 300 && record.error_class === undefined) return;
    // A line with an http_debug part is scrubbed of the secrets known now, not of those known at the flush.
    if (record.http_debug !== undefined && this.secrets) {
      this.enqueue(redactText(formatRequestLogLine(record, this.now()), this.secrets()));
    } else this.enqueue(record.timestamp_ms === undefined ? { ...record, timestamp_ms: this.now() } : record);
  }

  /** Queues an arbitrary event (retry trace), stamping `ts_ms` when missing. */
  writeEvent(event: Record<string, unknown>): void {
    const e = event.ts_ms === undefined ? { ts_ms: this.now(), ...event } : event;
    this.enqueue(JSON.stringify(e));
  }

  private enqueue(item: RequestLogRecord | string): void {
    if (this.closed) return;
    if (this.queued >= this.maxQueue) {
      this.dropped += 1;
      return;
    }
    this.queued += 1;
    this.pending.push(item);
    this.encodeSoon ??= setImmediate(() => {
      this.encodeSoon = undefined;
      this.encodeQueued();
    });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything queued so far; resolves when it is on disk (errors go to `onError`). */
  flush(): Promise<void> {
    this.beforeFlush?.();
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Flushes and stops accepting lines. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.flush();
    this.closed = true;
  }

  /** Formats and encodes what is queued into the current buffer. */
  private encodeQueued(): void {
    if (this.encodeSoon) {
      clearImmediate(this.encodeSoon);
      this.encodeSoon = undefined;
    }
    const items = this.pending;
    this.pending = [];
    for (const item of items) {
      let line: string;
      if (typeof item === 'string') line = item;
      else {
        // Straight into the buffer; a line that does not fit in what is left (or holds an odd value) is formatted.
        const ts = item.timestamp_ms ?? this.now();
        const buf = this.current && this.current.length - this.used >= LINE_ROOM ? this.current : this.startBuffer(CHUNK_BYTES);
        const end = encodeRequestLogLine(item, ts, buf, this.used, buf.length - 1);
        if (end >= 0) {
          buf[end] = 0x0a;
          this.used = end + 1;
          continue;
        }
        line = formatRequestLogLine(item, ts);
      }
      // A UTF-8 line takes at most 3 bytes per UTF-16 unit, plus its newline.
      const room = line.length * 3 + 1;
      const buf = this.current && this.current.length - this.used >= room ? this.current : this.startBuffer(room);
      this.used += buf.write(line, this.used, 'utf8');
      buf[this.used++] = 0x0a;
    }
  }

  /** Seals the current buffer and starts one with at least `room` bytes (a spare one when it is big enough). */
  private startBuffer(room: number): Buffer {
    this.seal();
    this.current = (room <= CHUNK_BYTES ? this.spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
    return this.current;
  }

  /** Moves the filled part of the current buffer to the batch. */
  private seal(): void {
    if (this.current && this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
    this.current = undefined;
    this.used = 0;
  }

  private async drain(): Promise<void> {
    this.encodeQueued();
    this.seal();
    if (this.chunks.length === 0) return;
    const batch = this.chunks;
    const bytes = batch.reduce((n, b) => n + b.length, 0);
    this.chunks = [];
    this.queued = 0;
    try {
      if (!this.dirReady) {
        await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
        this.dirReady = true;
      }
      await this.rotateIfNeeded(bytes);
      const fh = await fsp.open(this.file, 'a', 0o600);
      try {
        let left = batch;
        // writev may write less than asked (a full disk, a signal): the rest follows, from where it stopped.
        for (let total = bytes; total > 0 && left.length > 0;) {
          const { bytesWritten } = await fh.writev(left);
          if (bytesWritten <= 0) throw new Error(`could not append to ${this.file}`);
          total -= bytesWritten;
          left = skipBytes(left, bytesWritten);
        }
      } finally {
        await fh.close();
      }
    } catch (err) {
      this.onError?.(err);
    } finally {
      this.keepSpares(batch);
    }
  }

  /** Takes back the encode buffers of a batch that is done with (at most two are kept). */
  private keepSpares(batch: Buffer[]): void {
    for (const b of batch) {
      if (this.spare.length >= 2) return;
      if (b.byteOffset === 0 && b.buffer.byteLength === CHUNK_BYTES) this.spare.push(Buffer.from(b.buffer, 0, CHUNK_BYTES));
    }
  }

  private async rotateIfNeeded(batchBytes: number): Promise<void> {
    // The size is asked of the file system once in a while (another process may rotate or truncate the file) and
    // counted in between, instead of a stat per batch.
    const now = this.now();
    if (this.knownSize === undefined || now - this.sizeCheckedAt >= SIZE_CHECK_MS) {
      try {
        this.knownSize = (await fsp.stat(this.file)).size;
      } catch {
        this.knownSize = 0;
      }
      this.sizeCheckedAt = now;
    }
    const size = this.knownSize;
    this.knownSize += batchBytes;
    if (size < this.maxBytes) return;
    this.knownSize = batchBytes;
    const stem = this.fileName.endsWith('.jsonl') ? this.fileName.slice(0, -'.jsonl'.length) : this.fileName;
    const names = new Set(await fsp.readdir(this.dir));
    let ts = this.now();
    while (names.has(`${stem}.${ts}.jsonl`)) ts += 1;
    await fsp.rename(this.file, join(this.dir, `${stem}.${ts}.jsonl`));
    const rotated = [...names, `${stem}.${ts}.jsonl`]
      .filter((n) => n.startsWith(`${stem}.`) && n.endsWith('.jsonl') && /^\d+$/.test(n.slice(stem.length + 1, -6)))
      .sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.maxFiles))) {
      await fsp.rm(join(this.dir, old), { force: true });
    }
  }
}

/** A writer for logs/retry_trace.jsonl when CODEX_HELPER_RETRY_TRACE is on, else undefined. */
export function retryTraceWriter(
  opts: Omit<RequestLogWriterOptions, 'fileName' | 'onlyErrors'>,
  knobs: Pick<EnvOptions, 'retryTrace' | 'retryTracePath'>,
): RequestLogWriter | undefined {
  if (!knobs.retryTrace) return undefined;
  const custom = knobs.retryTracePath;
  if (custom) {
    const slash = Math.max(custom.lastIndexOf('/'), custom.lastIndexOf('\\'));
    if (slash > 0) return new RequestLogWriter({ ...opts, dir: custom.slice(0, slash), fileName: custom.slice(slash + 1) });
  }
  return new RequestLogWriter({ ...opts, fileName: 'retry_trace.jsonl' });
}

/** The buffers left after the first `n` bytes. */
function skipBytes(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  if (i === bufs.length) return [];
  return [bufs[i]!.subarray(n), ...bufs.slice(i + 1)];
}
