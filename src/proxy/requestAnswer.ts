// The record-keeping and answering half of a proxied request: its identity, the retry chain with per-attempt
// details, the route headers, error answers (scrubbed of every credential of the request), the http_debug
// previews and the one finish that records it. The routing half (pipeline.ts) extends it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResolution } from '../core/auth';
import { CLASS_HINTS } from '../core/classify';
import { memoByString } from '../core/memo';
import { SecretSet } from '../core/redact';
import { retryInfoForChain } from '../core/retry';
import { sessionIdFromHeaders } from '../core/session';
import { wireFormatFor } from '../core/sseIntegrity';
import type { WireFormat } from '../core/sseIntegrity';
import type { RetryAttemptDetail, UpstreamConfig, UsageMetrics } from '../core/types';
import { displayUrl } from '../core/urlMask';
import { dropQueued, finishQueued, finishSettled, queueSettle } from './afterBurst';
import type { SettlesLater } from './afterBurst';
import { ClientGone } from './clientGone';
import { errorBody } from './errors';
import { buildHttpDebug, warnLine } from './httpDebug';
import type { ExchangeRecord } from './httpDebug';
import { forwardableResponseHeaders } from './headers';
import { afterRequestBody } from './largeBodies';
import type { PipelineDeps } from './pipelineDeps';
import { recordFinished } from './requestRecord';
import { readEffort } from './requestBody';
import { answerSafely, triedHeader } from './safeAnswer';

/** Header listing every upstream the proxy tried, on a final failure. */
export const TRIED_HEADER = 'x-codex-helper-upstreams-tried';
/** On every answer: the config and upstream that produced it. */
export const ROUTE_HEADER = 'x-codex-helper-route';
/** On every answer: how many upstream attempts the proxy made. */
export const ATTEMPTS_HEADER = 'x-codex-helper-attempts';
/** What a failed attempt left for the answer, when nothing better comes. */
export interface LastFailure {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  cls?: string;
  hint?: string;
  transport?: string;
  /** No answer within the first-byte (or connect) timeout. */
  timeout?: boolean;
  /** The upstream's base_url cannot be used at all: no retry on it, no cooldown, just move on. */
  badTarget?: boolean;
  /** The upstream's own message (an in-band error), for the record. */
  message?: string;
  /**
   * An in-band error before any output: `status` is the status the same failure would have had (for the retry
   * rules); this is the answer as the upstream sent it (2xx, its opening events and the error), for pass-through.
   */
  wire?: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
}

function routeValue(r: { config: string; index: number; base: string }): string {
  // An unusable base_url is still named by its config and index.
  const host = parsedHost(r.base) ?? '-';
  // Header values must stay printable ASCII: config names may be anything the user typed.
  return `config=${encoded(r.config)}; upstream=${r.index}; host=${encoded(host)}`;
}

/** Where an attempt went (`base` as shown: secret query values masked), with the answer headers that say so. */
export interface AttemptRoute {
  readonly config: string;
  readonly index: number;
  readonly provider?: string;
  readonly base: string;
  /** The route header's value. */
  readonly header: string;
  /** How the attempt is named in the retry chain and log lines (`config:base (idx=N)`). */
  readonly label: string;
  /** How the upstream is named in the tried-upstreams header and error bodies (`config#N base`). */
  readonly tried: string;
  /** The answer headers of a request served on its first attempt (shared: never modified). */
  readonly firstAttemptHeaders: Readonly<Record<string, string>>;
}

/**
 * The route of an attempt on upstream `index` of config `config`: built once per upstream of a config snapshot
 * (a reloaded config brings new upstream objects), not once per request.
 */
const routes = new WeakMap<UpstreamConfig, AttemptRoute>();
export function attemptRoute(config: string, index: number, up: UpstreamConfig): AttemptRoute {
  const known = routes.get(up);
  if (known && known.config === config && known.index === index) return known;
  const provider = up.tags['provider_id'];
  const base = displayUrl(up.base_url);
  const header = routeValue({ config, index, base });
  const firstAttemptHeaders: Record<string, string> = {};
  firstAttemptHeaders[ATTEMPTS_HEADER] = '1';
  firstAttemptHeaders[ROUTE_HEADER] = header;
  const r: AttemptRoute = Object.freeze({
    config, index, provider, base, header,
    label: `${config}:${base} (idx=${index})`,
    tried: `${config}#${index} ${base}`,
    firstAttemptHeaders: Object.freeze(firstAttemptHeaders),
  });
  routes.set(up, r);
  return r;
}

/** How a request ended, for its record. */
interface FinishParams {
  status: number;
  ttfb?: number;
  usage?: UsageMetrics;
  errorClass?: string;
  hint?: string;
  message?: string;
}

/** What a request without an http_debug part records (shared: never modified). */
const NO_DEBUG: { http_debug?: unknown; http_debug_ref?: { id: string; file: string } } = Object.freeze({});

/** encodeURIComponent of config names and hosts: a handful of values, encoded once each. */
const encoded = memoByString(encodeURIComponent);

/** One proxied request from arrival to its record: what it knows and how it answers. */
export abstract class RequestAnswer implements SettlesLater {
  protected readonly t0: number;
  protected readonly path: string;
  protected readonly query: string;
  protected readonly sessionId: string | undefined;
  protected readonly gone = new ClientGone();
  protected id: number | undefined;
  protected finished = false;
  /** Its slot in the queue of requests whose bookkeeping waits (see `settleSoon()`); -1 when not queued. */
  private queueSlot = -1;
  protected model: string | undefined;
  protected mappedModel: string | undefined;
  protected effort: string | undefined;
  protected cwd: string | undefined;
  protected readonly chain: string[] = [];
  protected readonly tried: string[] = [];
  protected route: AttemptRoute | undefined;
  protected attempts = 0;
  /** When the current attempt started; with `details`, one entry per chain entry. */
  protected attemptAt: number | undefined;
  protected readonly details: RetryAttemptDetail[] = [];
  /** Why this request was routed where it was (shown in the recent-requests row). */
  protected routeNote: string | undefined;
  protected preferredConfig: string | undefined;
  protected streaming = false;
  protected auth: AuthResolution | undefined;
  protected readonly format: WireFormat | undefined;
  protected responseStarted = false;
  protected clientBody: Buffer | undefined;
  /** How many of the body's two holders (the record, the run) still hold it. */
  private bodyHolders = 2;
  protected exchange: ExchangeRecord | undefined;
  /** A clean answer's record, waiting for the burst with the rest of the bookkeeping (see `finishSoon()`). */
  private pendingFinish: { p: FinishParams; end: number } | undefined;
  /** Made on first use (see `secrets`): a request that succeeds scrubs nothing and never needs one. */
  private secretSet: SecretSet | undefined;
  protected static debugSeq = 0;

  constructor(
    protected readonly d: PipelineDeps,
    protected readonly req: IncomingMessage,
    protected readonly res: ServerResponse,
  ) {
    this.t0 = d.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    this.sessionId = sessionIdFromHeaders(req.headers);
    this.format = wireFormatFor(d.service, this.path);
    res.on('close', () => {
      if (!res.writableFinished) this.gone.abort();
    });
    d.onRequest?.(res, this);
  }

  /**
   * Every credential seen for this request (the client's own, each upstream's): scrubbed from whatever is logged,
   * recorded or answered.
   */
  protected get secrets(): SecretSet {
    return (this.secretSet ??= new SecretSet().addClientHeaders(this.req.headers));
  }

  /**
   * The proxy is about to die and answered this request itself (ProxyHost.failInFlight): the record says so, with
   * the status the client got, and the request stops here (its upstream call is aborted; whatever the pipeline does
   * next finds it finished and records nothing more, and blames no upstream).
   */
  recordLastWords(status: number, message: string): void {
    this.gone.abort();
    this.finish({ status, errorClass: 'proxy_restarting', message });
  }

  /**
   * Settles the bookkeeping once the burst is out (`afterBurst.ts`): sending each request and each answer's first
   * bytes comes first, and the records follow together, while the upstreams work. Whatever needs the bookkeeping
   * done calls `settle()` first.
   */
  protected settleSoon(): void {
    if (this.queueSlot >= 0) return;
    this.queueSlot = queueSettle(this);
  }

  /**
   * The bookkeeping that may wait for the burst: the record's beginning, the record of an answer finished meanwhile
   * (`finishSoon()`), and the subclass's own.
   */
  protected settle(): void {
    // Settled early (its answer is done): the queue lets go of it now, not when the wait ends.
    if (this.queueSlot >= 0) {
      dropQueued(this, this.queueSlot);
      this.queueSlot = -1;
    }
    this.begin();
    const f = this.pendingFinish;
    if (f) {
      this.pendingFinish = undefined;
      finishSettled();
      this.record(f.p, f.end);
    }
  }

  protected begin(): void {
    if (this.id !== undefined) return;
    const d = this.d;
    if (this.effort === undefined && this.clientBody) this.effort = readEffort(this.clientBody, d.service);
    if (this.sessionId && d.cwd) this.cwd = d.cwd.lookup(this.sessionId);
    this.id = d.state.beginRequest({
      session_id: this.sessionId,
      cwd: this.cwd,
      model: this.model,
      reasoning_effort: this.effort,
      method: this.req.method ?? 'GET',
      path: this.path,
      started_at_ms: this.t0,
    });
    // Begun after its first attempt was chosen (or failed before it was sent): the entry names that upstream.
    const r = this.route;
    if (r) d.state.updateRequestRoute(this.id, r.config, r.provider, r.base);
  }

  /** The deferred `settle()`: a failure is logged against its own request and never reaches the others queued. */
  settleQueued(): void {
    this.queueSlot = -1;
    try {
      this.settle();
    } catch (e) {
      this.d.log.error(this.secrets.text(`${this.d.service} ${this.req.method} ${this.path}: could not record the request: ${(e as Error)?.stack ?? e}`));
    }
  }

  protected sendFailure(f: LastFailure): void {
    if (f.wire) {
      // An in-band error and nowhere left to go: the client gets the upstream's answer as it was sent.
      const headers = { ...forwardableResponseHeaders(f.wire.headers), ...this.answerHeaders() };
      if (this.tried.length) headers[TRIED_HEADER] = this.tried.join(', ');
      headers['content-length'] = String(f.wire.body.length);
      this.respond(f.wire.status, headers, f.wire.body);
      this.finish({ status: f.wire.status, errorClass: f.cls, hint: f.hint, message: f.message });
      return;
    }
    if (f.transport !== undefined && f.body.length === 0) {
      if (f.timeout) {
        return this.fail(504, 'upstream_timeout', `no upstream answered in time: ${f.transport}`, CLASS_HINTS['upstream_timeout']);
      }
      return this.fail(f.status === 499 ? 502 : f.status, 'upstream_transport_error',
        `could not get an answer from any upstream: ${f.transport}`, CLASS_HINTS['upstream_transport_error']);
    }
    // The upstream's own headers (content-type, retry-after, request ids, location…), minus hop-by-hop ones, and
    // its body, both scrubbed: an upstream that echoes the key must not hand it to the client.
    const headers = { ...this.secrets.headers(forwardableResponseHeaders(f.headers)), ...this.answerHeaders() };
    const body = this.secrets.body(f.body);
    if (this.tried.length) headers[TRIED_HEADER] = triedHeader(this.tried);
    headers['content-length'] = String(body.length);
    this.respond(f.status, headers, body);
    this.finish({ status: f.status, errorClass: f.cls, hint: f.hint });
  }

  protected fail(status: number, type: string, message: string, hint?: string, retryAfterSecs?: number, upstreams?: unknown[]): void {
    hint ??= CLASS_HINTS[type];
    const text = errorBody(this.d.service, { status, type, message: this.secrets.text(message), hint, upstreams_tried: this.tried, upstreams });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...this.answerHeaders() };
    if (retryAfterSecs !== undefined) headers['retry-after'] = String(retryAfterSecs);
    if (this.tried.length) headers[TRIED_HEADER] = triedHeader(this.tried);
    this.respond(status, headers, Buffer.from(text));
    this.finish({ status, errorClass: type, hint });
  }

  protected respond(status: number, headers: Record<string, string | string[]>, body: Buffer): void {
    if (this.responseStarted || this.res.headersSent || this.res.destroyed) return;
    this.responseStarted = true;
    answerSafely(this.res, status, headers, body, this.d.service, (e) =>
      this.d.log.error(`${this.d.service} ${this.req.method} ${this.path}: could not send the answer as built: ${this.secrets.text(String((e as Error)?.message ?? e))}`));
  }

  /** http_debug for the log line and the warn preview, only for non-2xx answers unless *_ALL is set. */
  protected debugFor(status: number, cls: string | undefined, hint: string | undefined): { http_debug?: unknown; http_debug_ref?: { id: string; file: string } } {
    const o = this.d.httpDebug;
    const bad = status < 200 || status >= 300;
    const wantWarn = o.warn && (bad || o.warnAll) && status !== 499;
    const wantDebug = o.debug && (bad || o.debugAll);
    if (!wantWarn && !wantDebug) return NO_DEBUG;
    const x: ExchangeRecord = this.exchange ?? { clientUri: this.req.url ?? '/', clientHeaders: this.req.headers, clientBody: this.clientBody };
    x.errorClass ??= cls;
    x.errorHint ??= hint;
    const secrets = this.secrets.list();
    if (wantWarn) {
      const preview = this.secrets.deep(buildHttpDebug(x, o.warnBodyMax, o.logRequestBody, secrets));
      this.d.log.warn(warnLine(this.d.service, this.req.method ?? 'GET', status, preview));
    }
    if (!wantDebug) return {};
    const blob = this.secrets.deep(buildHttpDebug(x, o.debugBodyMax, o.logRequestBody, secrets));
    if (o.split && this.d.debugLog) {
      const id = `${this.d.now()}-${++RequestAnswer.debugSeq}`;
      this.d.debugLog.writeEvent({ id, service: this.d.service, method: this.req.method, path: this.path, status_code: status, http_debug: blob });
      return { http_debug_ref: { id, file: 'requests_debug.jsonl' } };
    }
    return { http_debug: blob };
  }

  /** Adds a retry-chain entry with what the attempt took (time, and the upstream's words when it said any). */
  protected note(entry: string, extra: RetryAttemptDetail = {}): void {
    this.chain.push(entry);
    const now = this.d.now();
    const at = this.attemptAt ?? now;
    this.details.push({ started_at_ms: at, duration_ms: now - at, ...extra });
  }

  /** `x-codex-helper-route` and `x-codex-helper-attempts`, on every answer; read-only (callers copy them). */
  protected answerHeaders(): Readonly<Record<string, string>> {
    const r = this.route;
    if (r && this.attempts === 1) return r.firstAttemptHeaders;
    const h: Record<string, string> = { [ATTEMPTS_HEADER]: String(this.attempts) };
    if (r) h[ROUTE_HEADER] = r.header;
    return h;
  }

  protected finishAborted(): void {
    this.finish({ status: 499, errorClass: 'client_disconnected' });
  }

  /** Records how the request ended, once (whatever comes later finds it finished and records nothing). */
  protected finish(p: FinishParams): void {
    if (this.finished) return;
    this.finished = true;
    this.record(p, this.d.now());
  }

  /**
   * `finish()` for an answer that ended cleanly and whose end already went to the client: its record waits for the
   * burst with the rest of the bookkeeping (see `settleSoon()`). Streams started together end together: the ends of
   * the others go out first, and the requests their clients send next are not queued behind these records. Every
   * read and flush of the state settles the queue first (the admin API, the log, the host's shutdown).
   */
  protected finishSoon(p: FinishParams): void {
    if (this.finished) return;
    this.finished = true;
    // What routing reads (where the session was served, the breaker the success closes) is settled now: the
    // client's next request may come in right behind this end.
    this.settle();
    this.pendingFinish = { p, end: this.d.now() };
    finishQueued();
    this.settleSoon();
  }

  private record(p: FinishParams, end: number): void {
    // The upstream's own words may echo a credential.
    const message = p.message === undefined ? undefined : this.secrets.text(p.message);
    this.settle();
    const d = this.d;
    const ok = p.status >= 200 && p.status < 300;
    // Failures carry upstream text (errors, echoed bodies): scrub what is recorded of them; a success has none.
    const chain = retryInfoForChain(this.chain);
    if (chain) chain.attempt_details = this.details.slice(0, this.chain.length);
    const retry = ok || !chain ? chain : this.secrets.deep(chain);
    const route = this.route;
    const httpDebug = this.debugFor(p.status, p.errorClass, p.hint);
    recordFinished(d, {
      id: this.id!,
      method: this.req.method ?? 'GET',
      path: this.path,
      status: p.status,
      startedAtMs: this.t0,
      endedAtMs: end,
      ttfbMs: p.ttfb,
      route,
      sessionId: this.sessionId,
      cwd: this.cwd,
      effort: this.effort,
      model: this.model,
      mappedModel: this.mappedModel,
      usage: p.usage,
      retry,
      errorClass: p.errorClass,
      hint: p.hint,
      message,
      routeNote: this.routeNote,
      auth: this.auth ? { authorization: this.auth.authorization, x_api_key: this.auth.x_api_key } : undefined,
      httpDebug,
    }, ok ? undefined : (r) => this.secrets.deep(r));
    this.letGoOfBody();
  }

  /**
   * Called by the record and by the end of the request's run: once both have, nothing reads the body (or the
   * exchange that holds it) any more, and a large one is handed back at once (see largeBodies.ts).
   */
  letGoOfBody(): void {
    if (--this.bodyHolders > 0) return;
    const bytes = this.clientBody?.length ?? 0;
    this.clientBody = undefined;
    this.exchange = undefined;
    afterRequestBody(bytes);
  }

  /** Answers and records a request that hit an internal error (a bug): the client still gets an answer. */
  failInternal(e: unknown): void {
    this.d.log.error(this.secrets.text(`${this.d.service} ${this.req.method} ${this.path}: internal error: ${(e as Error)?.stack ?? e}`));
    if (this.responseStarted || this.res.headersSent) {
      this.res.destroy();
      this.finish({ status: 500, errorClass: 'proxy_internal_error' });
    } else this.fail(500, 'proxy_internal_error', `internal proxy error: ${String((e as Error)?.message ?? e)}`);
  }
}

/** Host (with port) of a base_url, for log lines. */
export function hostOf(base: string): string {
  return parsedHost(base) ?? 'invalid base_url';
}

/**
 * Host (with port) of a base_url; null when it does not parse. base_urls come from the config: a handful, each
 * parsed once rather than on every request.
 */
const parsedHost = memoByString((base: string): string | null => {
  try {
    return new URL(base).host;
  } catch {
    return null;
  }
});

