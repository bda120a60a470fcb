// One request to an upstream on undici's raw dispatch API: no Readable stream per response and no AbortSignal
// per request (both showed up in profiles), explicit pause/resume for back-pressure, and abort at any moment.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { CallDeadlines, Watched } from './callDeadlines';
import type { CallLimits, UpstreamTimeoutError } from './callDeadlines';
import { sharedAgent } from './upstream';

/** The limits of every proxied call in flight (one timer for all of them; see callDeadlines.ts). */
export const callDeadlines = new CallDeadlines();

export interface ResponseHead {
  statusCode: number;
  headers: IncomingHttpHeaders;
}

type Controller = Dispatcher.DispatchController;

const NO_LIMITS: CallLimits = Object.freeze({ firstByteMs: 0, idleMs: 0 });

/**
 * A dispatched request; `head` settles with the status and headers, then `consume` streams the body. With `limits`,
 * the first-byte and idle limits are kept by `callDeadlines` (undici's own are switched off for the call); the
 * failure is an `UpstreamTimeoutError`.
 */
export class UpstreamCall extends Watched implements Dispatcher.DispatchHandler {
  readonly head: Promise<ResponseHead>;
  private resolveHead!: (h: ResponseHead) => void;
  private rejectHead!: (e: Error) => void;
  private controller: Controller | undefined;
  private pendingAbort: Error | undefined;
  private queued: Buffer[] | undefined = [];
  private sinkData: ((chunk: Buffer) => void) | undefined;
  private sinkEnd: ((err?: Error) => void) | undefined;
  private done: { err?: Error } | undefined;

  constructor(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions, limits?: CallLimits) {
    super(limits ?? NO_LIMITS);
    this.head = new Promise<ResponseHead>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    if (limits) {
      // `opts` is made for this call by its caller: undici's own limits are switched off in place.
      opts.headersTimeout = 0;
      opts.bodyTimeout = 0;
      callDeadlines.watch(this);
    }
    try {
      dispatcher.dispatch(opts, this);
    } catch (e) {
      this.onResponseError(undefined, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The whole answer was received (or the request failed). */
  get ended(): boolean {
    return this.done !== undefined;
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  onResponseStart(_c: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational
    this.gotHead = true;
    this.resolveHead({ statusCode, headers });
  }

  onResponseData(_c: Controller, chunk: Buffer): void {
    this.sawData = true;
    if (this.sinkData) this.sinkData(chunk);
    else this.queued?.push(chunk);
  }

  onResponseEnd(): void {
    this.finish(undefined);
  }

  onResponseError(_c: Controller | undefined, err: Error): void {
    if (!this.gotHead) {
      this.gotHead = true;
      this.rejectHead(err);
    }
    this.finish(err);
  }

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = { err };
    callDeadlines.unwatch(this);
    this.sinkEnd?.(err);
  }

  /** Delivers body chunks (those already received first) and then calls `onEnd` once, with the error if any. */
  consume(onData: (chunk: Buffer) => void, onEnd: (err?: Error) => void): void {
    const queued = this.queued ?? [];
    this.queued = undefined;
    this.sinkData = onData;
    for (const c of queued) onData(c);
    this.sinkEnd = onEnd;
    if (this.done) onEnd(this.done.err);
  }

  /** Reads the whole body, keeping at most `max` bytes. */
  collect(max: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.consume(
        (c) => {
          if (size + c.length <= max) {
            chunks.push(c);
            size += c.length;
          }
        },
        (err) => (err ? reject(err) : resolve(Buffer.concat(chunks, size))),
      );
    });
  }

  pause(): void {
    this.paused = true;
    this.controller?.pause();
  }

  resume(): void {
    this.paused = false;
    this.controller?.resume();
  }

  expire(err: UpstreamTimeoutError): void {
    const started = this.controller !== undefined;
    this.abort(err);
    // Still waiting for a connection: undici aborts it when it would start; whoever waits hears of it now.
    if (!started) this.onResponseError(undefined, err);
  }

  /** Aborts the request now (or as soon as it starts). */
  abort(reason: Error): void {
    if (this.done) return;
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort = reason;
  }
}

export interface SimpleResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class SimpleRequestError extends Error {
  constructor(readonly code: 'TIMEOUT' | 'TRANSPORT' | 'BODY_TOO_LARGE', message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A small buffered request (admin client, health probes, usage polls) with a total timeout and a body cap. */
export async function simpleRequest(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs: number;
    maxBytes?: number;
    dispatcher?: Dispatcher;
    /** Aborts the request; its reason is what the promise rejects with. */
    signal?: AbortSignal;
  },
): Promise<SimpleResponse> {
  const u = new URL(url);
  const call = new UpstreamCall(opts.dispatcher ?? sharedAgent(), {
    origin: u.origin,
    path: u.pathname + u.search,
    method: (opts.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: opts.body !== undefined ? { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) } : opts.headers,
    body: opts.body,
  });
  const max = opts.maxBytes ?? 8 * 1024 * 1024;
  const timer = setTimeout(() => call.abort(new SimpleRequestError('TIMEOUT', `no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  const onAbort = () => call.abort(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const head = await call.head;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      call.consume(
        (c) => {
          size += c.length;
          if (size > max) call.abort(new SimpleRequestError('BODY_TOO_LARGE', `response larger than ${max} bytes`));
          else chunks.push(c);
        },
        (err) => (err ? reject(err) : resolve(Buffer.concat(chunks))),
      );
    });
    return { statusCode: head.statusCode, headers: head.headers, body };
  } catch (e) {
    if (e instanceof SimpleRequestError) throw e;
    if (opts.signal?.aborted && e === opts.signal.reason) throw e;
    const code = (e as { code?: unknown })?.code;
    const text = `${(e as Error)?.message ?? String(e)}${typeof code === 'string' ? ` (${code})` : ''}`;
    throw new SimpleRequestError('TRANSPORT', text, { cause: e });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
