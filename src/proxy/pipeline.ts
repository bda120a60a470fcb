// The proxied request, as a list of small steps: read body → resolve session → choose configs → select upstream
// → prepare body/headers → send → classify → retry/failover → respond/stream → record.
// Invariants (README "Proxy invariants"): a 2xx answer is forwarded chunk by chunk as it arrives (only its
// content-free opening events may be held, within a bound); nothing is retried once a byte reached the client; an
// in-band error or a cut stream is a failure of its upstream; every request is finished exactly once; secrets are
// never recorded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { CLASS_HINTS, classifyUpstreamResponse, errorObject } from '../core/classify';
import { CandidateWalk } from '../core/candidates';
import { cooldownFor, decide } from '../core/failover';
import type { AttemptFailure, FailureRecord } from '../core/failover';
import { bytesAt, readModel, replaceModel, skipWs } from '../core/jsonBody';
import type { LoadBalancer } from '../core/lb';
import type { CooldownBackoff } from '../core/lb';
import { mappedModelFor } from '../core/modelRouting';
import { injectCredentials, resolveCredentials } from './credentials';
import { shouldNeverRetry } from '../core/retry';
import type { RetryPlan } from '../core/retry';
import type { RouteTarget } from '../core/routes';
import { firstByteMs, upstreamTimeouts } from '../core/timeouts';
import type { ResolvedTimeouts } from '../core/timeouts';
import type { WireFormat } from '../core/sseIntegrity';
import { displayUrl, urlSecrets } from '../core/urlMask';
import type { ServiceConfig, UpstreamConfig } from '../core/types';
import { streamErrorEvent } from './errors';
import { isClean, SuccessForwarder } from './forwardSuccess';
import type { ForwardResult } from './forwardSuccess';
import type { Opening } from './forwardSuccess';
import { forwardableHeaders, headerValue } from './headers';
import { applyEffort, BodyTooLargeError, readBody } from './requestBody';
import { baseOrigin, upstreamPath, TargetUrlError } from './targetUrl';
import { describeTransportError, isTimeoutError } from './upstream';
import { UpstreamCall } from './upstreamCall';
import { UpstreamTimeoutError } from './callDeadlines';
import type { ResponseHead } from './upstreamCall';
import { attemptRoute, hostOf, RequestAnswer } from './requestAnswer';
import { afterBurst } from './afterBurst';
import type { PipelineDeps } from './pipelineDeps';
import type { LastFailure } from './requestAnswer';


const ACCEPT_ENCODING: ReadonlySet<string> = new Set(['accept-encoding']);
const ERROR_BODY_MAX = 4 * 1024 * 1024;

/** The idle limit a stream ran past: its upstream's own (the error carries it), else the global one. */
function idleLimit(err: unknown, globalMs: number): number {
  return err instanceof UpstreamTimeoutError ? err.limitMs : globalMs;
}

export { ATTEMPTS_HEADER, ROUTE_HEADER, TRIED_HEADER } from './requestAnswer';

/** One proxied request from arrival to its record: the routing half (read, choose, attempt, retry, stream). */
class ProxyRequest extends RequestAnswer {
  /** The load balancer of the first config in routing order (the one traffic should go to). */
  private preferredLb: LoadBalancer | undefined;
  /** A committed answer whose upstream is not yet recorded as having served it (see `settle()`). */
  private served: { cfg: ServiceConfig; lb: LoadBalancer; idx: number; up: UpstreamConfig; status: number } | undefined;

  protected override settle(): void {
    super.settle();
    const s = this.served;
    if (!s) return;
    this.served = undefined;
    this.recordServed(s.cfg, s.lb, s.idx, s.up, s.status);
    this.d.onUpstreamSuccess?.(s.cfg, s.idx, s.up, this.path, this.req.method ?? 'GET');
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
    // Only what decides where and how the request goes is read before it is sent; the rest of the record (the
    // effort the body asks for, the session's directory) is read by begin(), once the request is on its way.
    this.model = readModel(body);
    this.streaming = isStreamingRequest(body);
    const effortOverride = this.sessionId ? d.state.getSessionEffort(this.sessionId) : undefined;
    if (effortOverride && body.length > 0) {
      const rewritten = applyEffort(body, d.service, effortOverride);
      if (rewritten) {
        body = rewritten;
        this.effort = effortOverride;
      }
    }

    if (choice.configs.length === 0) {
      const where = loaded.format === 'embedded' ? 'the embedded default' : loaded.path;
      return this.fail(502, 'no_active_upstream_config',
        `no active upstream config for ${d.service}: add a config with at least one upstream under [${d.service}] in ${where}`);
    }
    d.retryTrace?.writeEvent({ event: 'lbs_for_request', service: d.service, mode: choice.mode, pinned: choice.pinned,
      configs: choice.configs.map((c) => c.name), session_id: this.sessionId });
    await this.route_(choice.configs, body, d.retryPlan());
  }

  /**
   * Walks the candidates (healthy first, then cooling ones as trials) and carries out the core's retry decision
   * after each failed attempt: retry in place, move to the next upstream or config, or pass the answer through.
   */
  private async route_(configs: ServiceConfig[], body: Buffer, plan: RetryPlan): Promise<void> {
    const d = this.d;
    const lbs = d.lbStore.balancersFor(configs);
    this.preferredConfig = configs[0]!.name;
    this.preferredLb = lbs[0];
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
        // A request waiting for a cooldown to end is in flight: it shows while it waits.
        this.begin();
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
        this.applyRecord(cfg, lb, idx, decision.record, failure, { factor: plan.cooldown_backoff_factor, max_secs: plan.cooldown_backoff_max_secs });
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
    if (this.model !== undefined) {
      const mapped = mappedModelFor(up.model_mapping, this.model);
      if (mapped !== this.model) {
        sendBody = replaceModel(sendBody, mapped);
        this.mappedModel = mapped;
        modelNote = `${this.model}->${mapped}`;
      }
    }
    sendBody = d.filter.apply(sendBody);
    const route = attemptRoute(cfg.name, idx, up);
    this.route = route;
    const providerId = route.provider;
    const shownBase = route.base;
    this.attempts++;
    this.attemptAt = d.now();
    if (this.id !== undefined) d.state.updateRequestRoute(this.id, cfg.name, providerId, shownBase);
    const label = route.label;
    if (!this.tried.includes(route.tried)) this.tried.push(route.tried);

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
    if (this.auth.token !== undefined || this.auth.apiKey !== undefined) this.secrets.add(this.auth.token, this.auth.apiKey);
    const inUrl = urlSecrets(up.base_url);
    if (inUrl.length > 0) this.secrets.add(...inUrl);
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
    }, { firstByteMs: firstByte, idleMs: timeouts.idle_ms });
    this.gone.call = call;
    // The record follows the request out (see run()), once this turn's requests are all sent.
    this.settleSoon();
    let resp: ResponseHead;
    try {
      resp = await call.head;
    } catch (e) {
      if (this.gone.aborted) return { failure: { status: 499, body: Buffer.alloc(0), headers: {} }, retryAfter: undefined };
      const timedOut = isTimeoutError(e);
      const msg = e instanceof UpstreamTimeoutError && e.phase === 'first_byte'
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
        onCleanEnd: (r, resolve) => this.cleanEnd(status, r, resolve),
      });
      // Usually committed on the chunks that came with the head: no need to wait for the turn to end.
      if (!fw.committed) {
        const opening = await fw.opening;
        if (opening.kind !== 'committed') return this.failedOpening(opening, resp, label, modelNote, cfg, idx, headersAt - sentAt);
      }
      this.responseStarted = true;
      // A chain is only recorded once a request took more than one attempt: the first attempt's success needs none.
      if (this.chain.length > 0) this.note(`${label} status=${status} class=- model=${modelNote}`);
      // Where it was served is recorded with the rest of the turn's bookkeeping (see settleSoon()).
      this.served = { cfg, lb, idx, up, status };
      this.settleSoon();
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
      : timedOut ? `no data for ${idleLimit(o.err, d.timeouts().idle_ms)} ms before any output (timeouts.idle_ms)` : `the stream broke before any output: ${describeTransportError(o.err)}`;
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
      // Read from the preferred config's own balancer: a whole LB view per request would cost every request of a
      // long failover.
      const summary = this.preferredLb?.coolingSummary() ?? {};
      retryAt = summary.allCoolingUntil;
      reason = summary.lastError ?? (this.routeNote ?? 'the preferred config could not serve');
      this.routeNote ??= `served by ${cfg.name} instead of ${preferred} (${reason})`;
    }
    const target: RouteTarget = { config: cfg.name, index: idx, base_url: displayUrl(up.base_url) };
    d.routes.recordServed(this.sessionId, preferred, target, reason, retryAt);
  }

  /**
   * A clean answer went out in full: recorded now (the record itself waits for the burst, see `finishSoon()`), and
   * the steps waiting on the forwarder resume once the burst is out too. The streams of a wave end together, and
   * their clients' next requests come in right behind them: those go first.
   */
  private cleanEnd(status: number, r: ForwardResult, resolve: () => void): void {
    // The whole answer came with its head (the forwarder is still being made): the attempt records where it was
    // served before anything else, as for any answer.
    if (!this.responseStarted) return resolve();
    if (!this.gone.aborted) this.finishSoon({ status, ttfb: r.ttfb, usage: r.usage });
    afterBurst(resolve);
  }

  /**
   * Forwards a committed 2xx answer to its end. A failure after output started (a break, an in-band error, or a
   * stream without its terminal event) is a failure of the upstream: LB failure and cooldown per class, recorded.
   */
  private async pipeSuccess(fw: SuccessForwarder, resp: ResponseHead, lb: LoadBalancer, idx: number): Promise<void> {
    const d = this.d;
    const r = await fw.result;
    // A clean answer is recorded as it ends (cleanEnd(), a no-op here then), or here when it came whole with its
    // head; a client that hangs up after a clean end changes nothing.
    if (isClean(r) && (this.finished || !this.gone.aborted)) {
      this.finishSoon({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage });
      return;
    }
    // The success is on the balancer before anything below records a failure of the same answer.
    this.settle();
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
    // What is left: the stream broke, went silent or ended without its terminal event after output started.
    const idle = r.streamError !== undefined && isTimeoutError(r.streamError);
    const msg = r.streamError === undefined
      ? `the stream ended without its terminal event (${terminalOf(this.format)})`
      : idle ? `no data for ${idleLimit(r.streamError, d.timeouts().idle_ms)} ms (timeouts.idle_ms)` : this.secrets.text(describeTransportError(r.streamError));
    const cls = idle ? 'upstream_timeout' : 'upstream_stream_error';
    lb.recordFailure(idx, backoff, { status: resp.statusCode });
    const secs = lb.penalize(idx, plan.transport_cooldown_secs, `${cls}: ${msg}`, backoff, resp.statusCode);
    const how = r.streamError === undefined ? 'ended early' : idle ? 'went silent' : 'broke';
    d.log.warn(`${what}: upstream stream ${how} after the answer started: ${msg}; ${where} cools down for ${secs} s`);
    const label = r.streamError === undefined ? 'incomplete' : idle ? 'idle timeout' : 'error';
    if (r.isSse && !r.encoded && !this.res.destroyed) this.res.end(streamErrorEvent(d.service, `upstream stream ${label}: ${msg}`, this.format));
    else this.res.destroy();
    this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage, errorClass: cls, hint: CLASS_HINTS[cls], message: msg });
  }

}

/** The event a complete stream of `format` ends with, for messages. */
function terminalOf(format: WireFormat | undefined): string {
  if (format === 'anthropic') return 'message_stop';
  if (format === 'chat') return 'data: [DONE]';
  return 'response.completed';
}


const STREAM_KEY = Buffer.from('"stream"');
const TRUE = Buffer.from('true');
const COLON = 0x3a;

/**
 * True when a JSON request body asks for a streamed answer (`"stream": true`), read without parsing it. Searched
 * from the end: both clients put `stream` after the conversation, and a repeated key counts by its last occurrence.
 */
export function isStreamingRequest(body: Buffer): boolean {
  const at = body.lastIndexOf(STREAM_KEY);
  if (at < 0) return false;
  const colon = skipWs(body, at + STREAM_KEY.length);
  return body[colon] === COLON && bytesAt(body, skipWs(body, colon + 1), TRUE);
}

/** Handles one proxied request; never throws (every failure becomes an answer and a record). */
export function handleProxyRequest(d: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = new ProxyRequest(d, req, res);
  return r.run().then(() => r.letGoOfBody(), (e: unknown) => {
    r.failInternal(e);
    r.letGoOfBody();
  });
}

