// The proxied request, as a list of small steps: read body → resolve session → choose configs → select upstream
// → prepare body/headers → send → classify → retry/failover → respond/stream → record.
// Invariants (README "Proxy invariants"): a 2xx answer is forwarded chunk by chunk as it arrives (only its
// content-free opening events may be held, within a bound); nothing is retried once a byte reached the client; an
// in-band error or a cut stream is a failure of its upstream; every request is finished exactly once; secrets are
// never recorded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AuthResolution, CredentialLookup, SecretLookup } from '../core/auth';
import { CLASS_HINTS, classifyUpstreamResponse, errorObject } from '../core/classify';
import type { RequestFilter } from '../io/requestFilter';
import { CandidateWalk } from '../core/candidates';
import { cooldownFor, decide } from '../core/failover';
import type { AttemptFailure, FailureRecord } from '../core/failover';
import { replaceModel } from '../core/jsonBody';
import { LoadBalancer } from '../core/lb';
import type { CooldownBackoff, LbStateStore } from '../core/lb';
import { effectiveModel } from '../core/modelRouting';
import type { RequestLogWriter } from '../io/requestLogWriter';
import { recordFinished } from './requestRecord';
import { injectCredentials, resolveCredentials } from './credentials';
import { retryInfoForChain, shouldNeverRetry } from '../core/retry';
import type { RetryPlan } from '../core/retry';
import type { RouteBook, RouteTarget } from '../core/routes';
import { firstByteMs, upstreamTimeouts } from '../core/timeouts';
import type { ResolvedTimeouts } from '../core/timeouts';
import type { ConfigChoice } from '../core/routing';
import { sessionIdFromHeaders } from '../core/session';
import { wireFormatFor } from '../core/sseIntegrity';
import type { WireFormat } from '../core/sseIntegrity';
import type { SessionCwdResolver } from '../io/sessionCwd';
import type { ProxyState } from '../core/state';
import { SecretSet } from '../core/redact';
import { displayUrl, urlSecrets } from '../core/urlMask';
import type { RetryAttemptDetail, ServiceConfig, ServiceName, UpstreamConfig, UsageMetrics } from '../core/types';
import { ClientGone } from './clientGone';
import { answerSafely, triedHeader } from './safeAnswer';
import { errorBody, streamErrorEvent } from './errors';
import { SuccessForwarder } from './forwardSuccess';
import type { Opening } from './forwardSuccess';
import { buildHttpDebug, warnLine } from './httpDebug';
import type { ExchangeRecord, HttpDebugOptions } from './httpDebug';
import { forwardableHeaders, forwardableResponseHeaders, headerValue } from './headers';
import type { Logger } from './logger';
import { applyEffort, BodyTooLargeError, inspectBody, readBody } from './requestBody';
import type { RuntimeConfig } from './runtimeConfig';
import { baseOrigin, upstreamPath, TargetUrlError } from './targetUrl';
import { describeTransportError, isTimeoutError } from './upstream';
import { UpstreamCall } from './upstreamCall';
import type { ResponseHead } from './upstreamCall';

/** Everything the pipeline needs, passed in by the service that owns it. */
export interface PipelineDeps {
  service: ServiceName;
  runtime: RuntimeConfig;
  state: ProxyState;
  lbStore: LbStateStore;
  filter: RequestFilter;
  credentials: CredentialLookup;
  cwd?: SessionCwdResolver;
  agent: Dispatcher;
  /** The agent for an upstream's connect timeout (defaults to `agent`). */
  agentFor?: (connectMs: number) => Dispatcher;
  /** Resolved `[timeouts]` of the current config. */
  timeouts: () => ResolvedTimeouts;
  /** Sticky failover routes per session and the service's failover status. */
  routes: RouteBook;
  env: NodeJS.ProcessEnv;
  secrets?: SecretLookup;
  log: Logger;
  requestLog?: RequestLogWriter;
  /** requests_debug.jsonl, when http_debug blobs are split out of requests.jsonl. */
  debugLog?: RequestLogWriter;
  /** logs/retry_trace.jsonl, only when CODEX_HELPER_RETRY_TRACE is on. */
  retryTrace?: RequestLogWriter;
  httpDebug: HttpDebugOptions;
  maxBodyBytes: number;
  retryPlan: () => RetryPlan;
  /** The configs that may serve a request of this session, in order. */
  choose: (sessionId: string | undefined) => ConfigChoice;
  now: () => number;
  /** Called for each usage-exhausted upstream a request could not use, so its quota is re-checked (throttled). */
  onUsageExhausted?: (config: ServiceConfig, index: number, upstream: UpstreamConfig, path: string, method: string) => void;
  /** Called after a 2xx answer started streaming (usage-provider polling hooks in here). */
  onUpstreamSuccess?: (config: ServiceConfig, index: number, upstream: UpstreamConfig, path: string, method: string) => void;
}

const ACCEPT_ENCODING: ReadonlySet<string> = new Set(['accept-encoding']);

/** Header listing every upstream the proxy tried, on a final failure. */
export const TRIED_HEADER = 'x-codex-helper-upstreams-tried';
/** On every answer: the config and upstream that produced it. */
export const ROUTE_HEADER = 'x-codex-helper-route';
/** On every answer: how many upstream attempts the proxy made. */
export const ATTEMPTS_HEADER = 'x-codex-helper-attempts';
const ERROR_BODY_MAX = 4 * 1024 * 1024;

interface LastFailure {
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
  let host = '-';
  try {
    host = new URL(r.base).host;
  } catch {
    // an unusable base_url is still named by its config and index
  }
  // Header values must stay printable ASCII: config names may be anything the user typed.
  return `config=${encodeURIComponent(r.config)}; upstream=${r.index}; host=${encodeURIComponent(host)}`;
}

/** One proxied request from arrival to its record. */
class ProxyRequest {
  private readonly t0: number;
  private readonly path: string;
  private readonly query: string;
  private readonly sessionId: string | undefined;
  private readonly gone = new ClientGone();
  private id: number | undefined;
  private finished = false;
  private model: string | undefined;
  private mappedModel: string | undefined;
  private effort: string | undefined;
  private cwd: string | undefined;
  private readonly chain: string[] = [];
  private readonly tried: string[] = [];
  private route: { config: string; index: number; provider?: string; base: string } | undefined;
  private attempts = 0;
  /** When the current attempt started; with `details`, one entry per chain entry. */
  private attemptAt: number | undefined;
  private readonly details: RetryAttemptDetail[] = [];
  /** Why this request was routed where it was (shown in the recent-requests row). */
  private routeNote: string | undefined;
  private preferredConfig: string | undefined;
  private streaming = false;
  private auth: AuthResolution | undefined;
  private readonly format: WireFormat | undefined;
  private responseStarted = false;
  private clientBody: Buffer | undefined;
  private exchange: ExchangeRecord | undefined;
  /** Every credential seen for this request; scrubbed from whatever is logged, recorded or answered. */
  private readonly secrets: SecretSet;
  private static debugSeq = 0;

  constructor(
    private readonly d: PipelineDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.t0 = d.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    this.sessionId = sessionIdFromHeaders(req.headers);
    this.secrets = new SecretSet().addClientHeaders(req.headers);
    this.format = wireFormatFor(d.service, this.path);
    res.on('close', () => {
      if (!res.writableFinished) this.gone.abort();
    });
  }

  async run(): Promise<void> {
    const d = this.d;
    d.runtime.maybeReload();
    const loaded = d.runtime.loaded;
    if (this.sessionId) d.state.touchSession(this.sessionId);
    const choice = d.choose(this.sessionId);

    let body: Buffer;
    try {
      body = await readBody(this.req, d.maxBodyBytes);
    } catch (e) {
      this.begin();
      if (this.gone.aborted || this.req.destroyed) return this.finishAborted();
      if (e instanceof BodyTooLargeError) {
        this.res.setHeader('connection', 'close');
        return this.fail(413, 'request_too_large', `${e.message}; nothing was sent upstream`);
      }
      return this.fail(400, 'client_body_read_error', `could not read the request body: ${(e as Error).message}`);
    }
    this.clientBody = body;
    ({ model: this.model, effort: this.effort } = inspectBody(body, d.service));
    this.streaming = isStreamingRequest(body);
    const effortOverride = this.sessionId ? d.state.getSessionEffort(this.sessionId) : undefined;
    if (effortOverride && body.length > 0) {
      const rewritten = applyEffort(body, d.service, effortOverride);
      if (rewritten) {
        body = rewritten;
        this.effort = effortOverride;
      }
    }
    if (this.sessionId && d.cwd) this.cwd = d.cwd.lookup(this.sessionId);
    this.begin();

    if (choice.configs.length === 0) {
      const where = loaded.format === 'embedded' ? 'the embedded default' : loaded.path;
      return this.fail(502, 'no_active_upstream_config',
        `no active upstream config for ${d.service}: add a config with at least one upstream under [${d.service}] in ${where}`);
    }
    d.retryTrace?.writeEvent({ event: 'lbs_for_request', service: d.service, mode: choice.mode, pinned: choice.pinned,
      configs: choice.configs.map((c) => c.name), session_id: this.sessionId });
    await this.route_(choice.configs, body, d.retryPlan());
  }

  private begin(): void {
    if (this.id !== undefined) return;
    this.id = this.d.state.beginRequest({
      session_id: this.sessionId,
      cwd: this.cwd,
      model: this.model,
      reasoning_effort: this.effort,
      method: this.req.method ?? 'GET',
      path: this.path,
      started_at_ms: this.t0,
    });
  }

  /**
   * Walks the candidates (healthy first, then cooling ones as trials) and carries out the core's retry decision
   * after each failed attempt: retry in place, move to the next upstream or config, or pass the answer through.
   */
  private async route_(configs: ServiceConfig[], body: Buffer, plan: RetryPlan): Promise<void> {
    const d = this.d;
    const backoff: CooldownBackoff = { factor: plan.cooldown_backoff_factor, max_secs: plan.cooldown_backoff_max_secs };
    const lbs = configs.map((c) => new LoadBalancer(c, d.lbStore, d.now));
    this.preferredConfig = configs[0]!.name;
    const walk = new CandidateWalk(configs, lbs, this.model, plan, d.now, this.stickyIndex(configs));
    const globalTimeouts = d.timeouts();
    let last: LastFailure | undefined;
    let lastFrom: string | undefined;
    let carry = 0;
    let waitedMs = 0;
    for (;;) {
      if (this.gone.aborted) return this.finishAborted();
      const step = walk.next();
      if (step.kind === 'none') break;
      if (step.kind === 'wait') {
        waitedMs += step.ms;
        await this.gone.sleep(step.ms);
        continue;
      }
      const { ci } = step;
      let idx = step.index;
      const cfg = configs[ci]!;
      const lb = lbs[ci]!;
      walk.markSent(ci, idx);
      if (lastFrom !== undefined) {
        d.log.info(`${d.service} failover: ${lastFrom} → ${cfg.name}#${idx} (${hostOf(cfg.upstreams[idx]!.base_url)})${step.trial ? ' as a trial' : ''}`);
        this.routeNote = `failed over from ${lastFrom}${step.trial ? ' (trial of a cooling upstream)' : ''}`;
      } else if (step.sticky) {
        this.routeNote = `kept on ${cfg.name} (the session failed over there; ${this.preferredConfig} cannot serve yet)`;
      } else if (step.trial) {
        this.routeNote = 'trial of a cooling upstream (nothing healthy was left)';
      } else if (waitedMs > 0) {
        this.routeNote = `waited ${waitedMs} ms for ${cfg.name}#${idx}'s cooldown to end (every upstream was cooling)`;
      }
      let attempt = carry;
      carry = 0;
      // A half-open or still-cooling upstream gets exactly one request: its outcome closes or re-opens the breaker.
      const trial = step.trial || lb.isHalfOpen(idx);
      for (;;) {
        const up = cfg.upstreams[idx]!;
        const timeouts = upstreamTimeouts(globalTimeouts, up);
        const outcome = await this.attempt(cfg, lb, idx, up, body, timeouts);
        if (outcome === 'done') return;
        if (this.gone.aborted) return this.finishAborted();
        const { failure, retryAfter } = outcome;
        last = failure;
        const af: AttemptFailure = { status: failure.status, cls: failure.cls, retryAfter, model: this.mappedModel ?? this.model };
        if (failure.transport !== undefined) af.transport = true;
        if (failure.badTarget) af.badTarget = true;
        const decision = decide(plan, {
          attemptOnUpstream: attempt,
          configsTried: walk.tried.size,
          otherUpstreamInConfig: walk.hasCandidateIn(ci),
          otherConfig: walk.hasOtherConfig(ci),
          trial,
        }, af, Math.random, d.now());
        this.applyRecord(cfg, lb, idx, decision.record, failure, backoff);
        if (decision.action === 'pass_through') return this.sendFailure(failure);
        if (decision.delayMs > 0) await this.gone.sleep(decision.delayMs);
        if (this.gone.aborted) return this.finishAborted();
        if (decision.action === 'retry_same') {
          attempt++;
          continue;
        }
        lastFrom = `${cfg.name}#${idx} (${failure.cls ?? failure.transport ?? `status ${failure.status}`})`;
        // The upstream layer moved on (strategy `failover`): its attempt budget carries over to the next upstream.
        if (decision.record.kind === 'soft' && decision.action === 'next_upstream') carry = attempt + 1;
        break;
      }
    }
    if (this.gone.aborted) return this.finishAborted();
    if (last) return this.sendFailure(last);
    const blocked = walk.blocked();
    if (walk.unsupportedCount > 0 && blocked.every((b) => b.state === 'unsupported_model')) {
      return this.fail(404, 'no_upstream_for_model', `no upstream supports model '${this.model ?? '-'}'`);
    }
    // Nothing can serve (every upstream usage-exhausted, unsupported or out of the retry budget): say when to retry.
    // An exhausted upstream gets no traffic, so nothing else would ever re-check its quota: ask for it now.
    for (const b of blocked) {
      if (b.state !== 'usage_exhausted') continue;
      const cfg = configs.find((c) => c.name === b.config);
      const up = cfg?.upstreams[b.index];
      if (cfg && up) d.onUsageExhausted?.(cfg, b.index, up, this.path, this.req.method ?? 'GET');
    }
    const waits = blocked.map((b) => b.retry_in_secs).filter((s): s is number => s !== undefined && s > 0);
    const retryIn = waits.length ? Math.min(...waits) : undefined;
    const states = blocked.map((b) => `${b.config}#${b.index} ${b.state.replace(/_/g, ' ')}${b.retry_in_secs !== undefined ? ` (${b.retry_in_secs} s left)` : ''}`);
    return this.fail(503, 'no_upstream_available',
      `no upstream can serve this request now: ${states.join('; ')}${retryIn !== undefined ? `; retry in ${retryIn} s` : ''}`,
      undefined, retryIn, blocked);
  }

  /** The session's sticky failover upstream as (config, index) in this request's configs. */
  private stickyIndex(configs: ServiceConfig[]): { ci: number; index: number } | undefined {
    const r = this.d.routes.stickyFor(this.sessionId);
    if (!r) return undefined;
    const ci = configs.findIndex((c) => c.name === r.config);
    if (ci < 0) return undefined;
    const up = configs[ci]!.upstreams[r.index];
    return up && displayUrl(up.base_url) === r.base_url ? { ci, index: r.index } : undefined;
  }

  /** Carries out what the decision says the load balancer should remember, with a log line for a cooldown. */
  private applyRecord(cfg: ServiceConfig, lb: LoadBalancer, idx: number, rec: FailureRecord, f: LastFailure, backoff: CooldownBackoff): void {
    if (rec.kind === 'none') return;
    // An in-band error is remembered with the status the upstream really sent (a 200).
    const status = f.transport !== undefined ? undefined : (f.wire?.status ?? f.status);
    if (rec.kind === 'soft') {
      lb.recordFailure(idx, backoff, { status: f.wire?.status ?? f.status, error: f.transport ?? f.cls });
      return;
    }
    const reason = f.transport !== undefined ? `${rec.reason}: ${this.secrets.text(f.transport)}` : rec.reason;
    const secs = lb.penalize(idx, rec.secs, reason, backoff, status, rec.model);
    const last = this.details[this.details.length - 1];
    if (last) last.cooldown_secs = secs;
    const what = rec.model !== undefined ? `model ${rec.model} on ${cfg.name}#${idx}` : `${cfg.name}#${idx}`;
    this.d.log.info(`${this.d.service} cooldown: ${what} (${hostOf(cfg.upstreams[idx]!.base_url)}) for ${secs} s after ${rec.reason}${f.wire ? ` (in-band error in an HTTP ${f.wire.status} answer)` : status !== undefined ? ` (HTTP ${status})` : ''}`);
  }

  /** One request to one upstream. Returns 'done' when the client has its answer. */
  private async attempt(
    cfg: ServiceConfig,
    lb: LoadBalancer,
    idx: number,
    up: UpstreamConfig,
    body: Buffer,
    timeouts: ResolvedTimeouts,
  ): Promise<'done' | { failure: LastFailure; retryAfter: string | string[] | undefined }> {
    const d = this.d;
    let sendBody = body;
    let modelNote = this.model ?? '-';
    this.mappedModel = undefined;
    if (this.model !== undefined && Object.keys(up.model_mapping).length > 0) {
      const mapped = effectiveModel(up.model_mapping, this.model);
      if (mapped !== this.model) {
        sendBody = replaceModel(sendBody, mapped);
        this.mappedModel = mapped;
        modelNote = `${this.model}->${mapped}`;
      }
    }
    sendBody = d.filter.apply(sendBody);
    const providerId = up.tags['provider_id'];
    const shownBase = displayUrl(up.base_url);
    this.route = { config: cfg.name, index: idx, provider: providerId, base: shownBase };
    this.attempts++;
    this.attemptAt = d.now();
    if (this.id !== undefined) d.state.updateRequestRoute(this.id, cfg.name, providerId, shownBase);
    const label = `${cfg.name}:${shownBase} (idx=${idx})`;
    const triedLabel = `${cfg.name}#${idx} ${shownBase}`;
    if (!this.tried.includes(triedLabel)) this.tried.push(triedLabel);

    let origin: string;
    let path: string;
    try {
      origin = baseOrigin(up.base_url);
      path = upstreamPath(up.base_url, this.path, this.query);
    } catch (e) {
      const msg = e instanceof TargetUrlError ? e.message : String(e);
      this.note(`${label} target_build_error=${msg} model=${modelNote}`);
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: msg, badTarget: true }, retryAfter: undefined };
    }

    const headers = forwardableHeaders(this.req.headers, ACCEPT_ENCODING);
    // Compression buys nothing on the way back over loopback, and an identity stream keeps usage counting and the
    // terminal error event possible.
    headers.push('accept-encoding', 'identity');
    this.auth = resolveCredentials(d, up, this.req.headers);
    this.secrets.add(this.auth.token, this.auth.apiKey, ...urlSecrets(up.base_url));
    if (this.auth.invalid !== undefined) {
      this.note(`${label} credential_error model=${modelNote}`);
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: this.auth.invalid, badTarget: true }, retryAfter: undefined };
    }
    injectCredentials(headers, this.auth);
    if (sendBody.length > 0 || (this.req.method !== 'GET' && this.req.method !== 'HEAD')) {
      headers.push('content-length', String(sendBody.length));
    }

    this.exchange = {
      clientUri: this.req.url ?? '/',
      clientHeaders: this.req.headers,
      clientBody: this.clientBody,
      targetUrl: origin + path,
      upstreamRequestHeaders: headers,
      upstreamRequestBodyLen: sendBody.length,
      auth: { authorization: this.auth.authorization, x_api_key: this.auth.x_api_key },
    };
    d.retryTrace?.writeEvent({ event: 'attempt_select', service: d.service, config: cfg.name, index: idx, base_url: shownBase,
      provider_id: providerId, model: modelNote });
    const sentAt = d.now();
    if (this.gone.aborted) return { failure: { status: 499, body: Buffer.alloc(0), headers: {} }, retryAfter: undefined };
    const firstByte = firstByteMs(timeouts, this.streaming);
    const call = new UpstreamCall(d.agentFor ? d.agentFor(timeouts.connect_ms) : d.agent, {
      origin,
      path,
      method: (this.req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: sendBody.length > 0 ? sendBody : undefined,
      headersTimeout: firstByte,
      bodyTimeout: timeouts.idle_ms,
    });
    this.gone.call = call;
    let resp: ResponseHead;
    try {
      resp = await call.head;
    } catch (e) {
      if (this.gone.aborted) return { failure: { status: 499, body: Buffer.alloc(0), headers: {} }, retryAfter: undefined };
      const timedOut = isTimeoutError(e);
      const msg = timedOut && (e as { code?: unknown }).code === 'UND_ERR_HEADERS_TIMEOUT'
        ? `no response headers within ${firstByte} ms (timeouts.${this.streaming ? 'stream_first_byte_ms' : 'first_byte_ms'})`
        : describeTransportError(e);
      const cls = timedOut ? 'upstream_timeout' : 'upstream_transport_error';
      this.note(`${label} ${timedOut ? 'timeout' : 'transport_error'}=${msg} model=${modelNote}`);
      this.exchange.error = msg;
      this.exchange.errorClass = cls;
      d.retryTrace?.writeEvent({ event: 'attempt_result', service: d.service, config: cfg.name, index: idx, transport_error: msg });
      return { failure: { status: timedOut ? 504 : 502, body: Buffer.alloc(0), headers: {}, transport: msg, cls, timeout: timedOut }, retryAfter: undefined };
    }
    const headersAt = d.now();
    const status = resp.statusCode;

    if (status >= 200 && status < 300) {
      const plan = d.retryPlan();
      const fw = new SuccessForwarder(call, resp, this.res, {
        now: d.now, sentAt, headersAt, extraHeaders: this.answerHeaders(), format: this.format,
        holdMs: plan.hold_preamble_ms, holdBytes: plan.hold_preamble_bytes,
      });
      const opening = await fw.opening;
      if (opening.kind !== 'committed') return this.failedOpening(opening, resp, label, modelNote, cfg, idx, headersAt - sentAt);
      this.responseStarted = true;
      this.note(`${label} status=${status} class=- model=${modelNote}`);
      this.recordServed(cfg, lb, idx, up, status);
      d.onUpstreamSuccess?.(cfg, idx, up, this.path, this.req.method ?? 'GET');
      await this.pipeSuccess(fw, resp, lb, idx);
      return 'done';
    }

    // Non-2xx: buffer (bounded) to classify and maybe retry; nothing has reached the client yet.
    let errBody: Buffer;
    try {
      errBody = await call.collect(ERROR_BODY_MAX);
    } catch (e) {
      if (this.gone.aborted) return { failure: { status: 499, body: Buffer.alloc(0), headers: {} }, retryAfter: undefined };
      const msg = describeTransportError(e);
      this.note(`${label} body_read_error=${msg} model=${modelNote}`);
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: msg }, retryAfter: undefined };
    }
    const c = classifyUpstreamResponse(status, resp.headers, errBody);
    const said = errorObject(errBody)?.message;
    const ra = headerValue(resp.headers, 'retry-after');
    this.note(`${label} status=${status} class=${c.cls ?? '-'} model=${modelNote}`, {
      ...(said ? { upstream_message: this.secrets.text(said).slice(0, 300) } : {}),
      ...(ra !== undefined ? { retry_after: String(ra).slice(0, 64) } : {}),
    });
    Object.assign(this.exchange, { upstreamHeadersMs: headersAt - sentAt, responseHeaders: resp.headers, responseBody: errBody,
      errorClass: c.cls, errorHint: c.hint, cfRay: c.cfRay });
    d.retryTrace?.writeEvent({ event: 'attempt_result', service: d.service, config: cfg.name, index: idx, status, class: c.cls });
    const failure: LastFailure = { status, body: errBody, headers: resp.headers, cls: c.cls, hint: c.hint };
    return { failure, retryAfter: resp.headers['retry-after'] };
  }

  /**
   * A 2xx whose opening failed before anything reached the client (an in-band error, or a stream that broke or
   * ended before any output): an ordinary failed attempt for `route_()` and `decide()`.
   */
  private failedOpening(
    o: Exclude<Opening, { kind: 'committed' }>, resp: ResponseHead, label: string, modelNote: string,
    cfg: ServiceConfig, idx: number, headersMs: number,
  ): { failure: LastFailure; retryAfter: undefined } {
    const d = this.d;
    const status = resp.statusCode;
    Object.assign(this.exchange ?? {}, { upstreamHeadersMs: headersMs, responseHeaders: resp.headers, responseBody: o.held });
    if (o.kind === 'in_band') {
      const e = o.error;
      this.note(`${label} status=${status} class=${e.cls} in_band=${e.source} model=${modelNote}`, { upstream_message: this.secrets.text(e.message) });
      Object.assign(this.exchange ?? {}, { errorClass: e.cls, errorHint: e.hint, error: e.message });
      d.retryTrace?.writeEvent({ event: 'attempt_result', service: d.service, config: cfg.name, index: idx, status, class: e.cls, in_band: e.source });
      const failure: LastFailure = { status: e.status, body: Buffer.alloc(0), headers: {}, cls: e.cls, hint: e.hint, message: e.message,
        wire: { status, headers: resp.headers, body: o.held } };
      return { failure, retryAfter: undefined };
    }
    const timedOut = o.err !== undefined && isTimeoutError(o.err);
    const msg = o.err === undefined
      ? 'the stream ended before any output and without its terminal event'
      : timedOut ? `no data for ${d.timeouts().idle_ms} ms before any output (timeouts.idle_ms)` : `the stream broke before any output: ${describeTransportError(o.err)}`;
    const cls = timedOut ? 'upstream_timeout' : 'upstream_transport_error';
    this.note(`${label} status=${status} stream_cut=${msg} model=${modelNote}`);
    Object.assign(this.exchange ?? {}, { error: msg, errorClass: cls });
    d.retryTrace?.writeEvent({ event: 'attempt_result', service: d.service, config: cfg.name, index: idx, status, transport_error: msg });
    return { failure: { status: timedOut ? 504 : 502, body: Buffer.alloc(0), headers: {}, transport: msg, cls, timeout: timedOut }, retryAfter: undefined };
  }

  /** A 2xx from (cfg, idx): closes its breaker (logging a recovery), and records where the session was served. */
  private recordServed(cfg: ServiceConfig, lb: LoadBalancer, idx: number, up: UpstreamConfig, status: number): void {
    const d = this.d;
    const recovering = lb.needsRecovery(idx);
    lb.recordSuccess(idx, status, this.mappedModel ?? this.model);
    if (recovering) d.log.info(`${d.service} recovered: ${cfg.name}#${idx} (${hostOf(up.base_url)}) answered ${status}; its cooldown is cleared`);
    const preferred = this.preferredConfig ?? cfg.name;
    let reason = '';
    let retryAt: number | undefined;
    if (cfg.name !== preferred) {
      const view = d.lbStore.view()[preferred];
      const ups = view?.upstreams ?? [];
      const cooling = ups.map((u) => u.cooldown_until_ms).filter((t): t is number => t !== undefined);
      retryAt = cooling.length === ups.length && cooling.length > 0 ? Math.min(...cooling) : undefined;
      const err = ups.map((u) => u.last_error).find((e) => e !== undefined);
      reason = err ?? (this.routeNote ?? 'the preferred config could not serve');
      this.routeNote ??= `served by ${cfg.name} instead of ${preferred} (${reason})`;
    }
    const target: RouteTarget = { config: cfg.name, index: idx, base_url: displayUrl(up.base_url) };
    d.routes.recordServed(this.sessionId, preferred, target, reason, retryAt);
  }

  /**
   * Forwards a committed 2xx answer to its end. A failure after output started (a break, an in-band error, or a
   * stream without its terminal event) is a failure of the upstream: LB failure and cooldown per class, recorded.
   */
  private async pipeSuccess(fw: SuccessForwarder, resp: ResponseHead, lb: LoadBalancer, idx: number): Promise<void> {
    const d = this.d;
    const r = await fw.result;
    if (this.gone.aborted) {
      // A client that hangs up once the terminal event is through (Codex does) got a complete answer.
      if (r.complete && r.inBand === undefined) this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage });
      else this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage, errorClass: 'client_disconnected' });
      return;
    }
    const plan = d.retryPlan();
    const backoff = { factor: plan.cooldown_backoff_factor, max_secs: plan.cooldown_backoff_max_secs };
    const where = this.route ? `${this.route.config}#${this.route.index} (${hostOf(this.route.base)})` : '-';
    const what = `${d.service} ${this.req.method} ${this.path}`;
    if (r.inBand !== undefined && r.streamError === undefined) {
      // The client already has the upstream's error event (or body) as sent.
      const e = { ...r.inBand, message: this.secrets.text(r.inBand.message) };
      this.note(`in_band_error class=${e.cls} after_output`, { upstream_message: e.message });
      if (shouldNeverRetry(plan, e.status, e.cls)) {
        lb.recordFailure(idx, backoff, { status: resp.statusCode, error: e.cls });
        d.log.warn(`${what}: upstream reported ${e.cls} after the answer started: ${e.message}; ${where} is not cooled (a request error)`);
      } else {
        const rec = cooldownFor(plan, { status: e.status, cls: e.cls, model: this.mappedModel ?? this.model }, d.now());
        lb.recordFailure(idx, backoff, { status: resp.statusCode, error: e.cls });
        const secs = rec.kind === 'cooldown' ? lb.penalize(idx, rec.secs, `${rec.reason}: ${e.message}`, backoff, e.status, rec.model) : 0;
        d.log.warn(`${what}: upstream reported ${e.cls} after the answer started: ${e.message}; ${where} cools down for ${secs} s`);
      }
      this.res.end();
      this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage, errorClass: e.cls, hint: e.hint, message: e.message });
      return;
    }
    if (r.streamError !== undefined || r.incomplete) {
      const idle = r.streamError !== undefined && isTimeoutError(r.streamError);
      const msg = r.streamError === undefined
        ? `the stream ended without its terminal event (${terminalOf(this.format)})`
        : idle ? `no data for ${d.timeouts().idle_ms} ms (timeouts.idle_ms)` : this.secrets.text(describeTransportError(r.streamError));
      const cls = idle ? 'upstream_timeout' : 'upstream_stream_error';
      lb.recordFailure(idx, backoff, { status: resp.statusCode });
      const secs = lb.penalize(idx, plan.transport_cooldown_secs, `${cls}: ${msg}`, backoff, resp.statusCode);
      const how = r.streamError === undefined ? 'ended early' : idle ? 'went silent' : 'broke';
      d.log.warn(`${what}: upstream stream ${how} after the answer started: ${msg}; ${where} cools down for ${secs} s`);
      const label = r.streamError === undefined ? 'incomplete' : idle ? 'idle timeout' : 'error';
      if (r.isSse && !r.encoded && !this.res.destroyed) this.res.end(streamErrorEvent(d.service, `upstream stream ${label}: ${msg}`, this.format));
      else this.res.destroy();
      this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage, errorClass: cls, hint: CLASS_HINTS[cls], message: msg });
      return;
    }
    this.res.end();
    this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage });
  }

  private sendFailure(f: LastFailure): void {
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

  private fail(status: number, type: string, message: string, hint?: string, retryAfterSecs?: number, upstreams?: unknown[]): void {
    hint ??= CLASS_HINTS[type];
    const text = errorBody(this.d.service, { status, type, message: this.secrets.text(message), hint, upstreams_tried: this.tried, upstreams });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...this.answerHeaders() };
    if (retryAfterSecs !== undefined) headers['retry-after'] = String(retryAfterSecs);
    if (this.tried.length) headers[TRIED_HEADER] = triedHeader(this.tried);
    this.respond(status, headers, Buffer.from(text));
    this.finish({ status, errorClass: type, hint });
  }

  private respond(status: number, headers: Record<string, string | string[]>, body: Buffer): void {
    if (this.responseStarted || this.res.headersSent || this.res.destroyed) return;
    this.responseStarted = true;
    answerSafely(this.res, status, headers, body, this.d.service, (e) =>
      this.d.log.error(`${this.d.service} ${this.req.method} ${this.path}: could not send the answer as built: ${this.secrets.text(String((e as Error)?.message ?? e))}`));
  }

  /** http_debug for the log line and the warn preview, only for non-2xx answers unless *_ALL is set. */
  private debugFor(status: number, cls: string | undefined, hint: string | undefined): { http_debug?: unknown; http_debug_ref?: { id: string; file: string } } {
    const o = this.d.httpDebug;
    const bad = status < 200 || status >= 300;
    const wantWarn = o.warn && (bad || o.warnAll) && status !== 499;
    const wantDebug = o.debug && (bad || o.debugAll);
    if (!wantWarn && !wantDebug) return {};
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
      const id = `${this.d.now()}-${++ProxyRequest.debugSeq}`;
      this.d.debugLog.writeEvent({ id, service: this.d.service, method: this.req.method, path: this.path, status_code: status, http_debug: blob });
      return { http_debug_ref: { id, file: 'requests_debug.jsonl' } };
    }
    return { http_debug: blob };
  }

  /** Adds a retry-chain entry with what the attempt took (time, and the upstream's words when it said any). */
  private note(entry: string, extra: RetryAttemptDetail = {}): void {
    this.chain.push(entry);
    const now = this.d.now();
    const at = this.attemptAt ?? now;
    this.details.push({ started_at_ms: at, duration_ms: now - at, ...extra });
  }

  /** `x-codex-helper-route` and `x-codex-helper-attempts`, on every answer. */
  private answerHeaders(): Record<string, string> {
    const h: Record<string, string> = { [ATTEMPTS_HEADER]: String(this.attempts) };
    if (this.route) h[ROUTE_HEADER] = routeValue(this.route);
    return h;
  }

  private finishAborted(): void {
    this.finish({ status: 499, errorClass: 'client_disconnected' });
  }

  private finish(p: { status: number; ttfb?: number; usage?: UsageMetrics; errorClass?: string; hint?: string; message?: string }): void {
    if (this.finished) return;
    this.finished = true;
    // The upstream's own words may echo a credential.
    const message = p.message === undefined ? undefined : this.secrets.text(p.message);
    this.begin();
    const d = this.d;
    const end = d.now();
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

/** The event a complete stream of `format` ends with, for messages. */
function terminalOf(format: WireFormat | undefined): string {
  if (format === 'anthropic') return 'message_stop';
  if (format === 'chat') return 'data: [DONE]';
  return 'response.completed';
}

function hostOf(base: string): string {
  try {
    return new URL(base).host;
  } catch {
    return 'invalid base_url';
  }
}

const STREAM_TRUE = /"stream"\s*:\s*true/;

/** True when a JSON request body asks for a streamed answer (`"stream": true`), read without parsing it. */
export function isStreamingRequest(body: Buffer): boolean {
  const at = body.indexOf('"stream"');
  if (at < 0) return false;
  return STREAM_TRUE.test(body.toString('latin1', at, Math.min(body.length, at + 32)));
}

/** Handles one proxied request; never throws (every failure becomes an answer and a record). */
export async function handleProxyRequest(d: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = new ProxyRequest(d, req, res);
  try {
    await r.run();
  } catch (e) {
    r.failInternal(e);
  }
}

