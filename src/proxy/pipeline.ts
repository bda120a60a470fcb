// The proxied request, as a list of small steps: read body → resolve session → choose configs → select upstream
// → prepare body/headers → send → classify → retry/failover → respond/stream → record.
// Invariants (README "Proxy invariants"): a 2xx answer is forwarded chunk by chunk as it arrives; nothing is
// retried once a byte reached the client; every request is finished exactly once; secrets are never recorded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { resolveUpstreamAuth } from '../core/auth';
import type { AuthResolution, CredentialFile, SecretLookup } from '../core/auth';
import { CLASS_HINTS, classifyUpstreamResponse } from '../core/classify';
import type { RequestFilter } from '../core/filter';
import { replaceModel } from '../core/jsonBody';
import { LoadBalancer } from '../core/lb';
import type { CooldownBackoff, LbStateStore } from '../core/lb';
import { effectiveModel, isModelSupported } from '../core/modelRouting';
import type { RequestLogRecord, RequestLogWriter } from '../core/requestLog';
import {
  backoffDelayMs,
  cooldownSecsForClass,
  retryDelayMs,
  retryInfoForChain,
  shouldNeverRetry,
  shouldRetryClass,
  shouldRetryStatus,
} from '../core/retry';
import type { RetryPlan } from '../core/retry';
import type { ConfigChoice } from '../core/routing';
import { sessionIdFromHeaders } from '../core/session';
import type { SessionCwdResolver } from '../core/sessionCwd';
import type { ProxyState } from '../core/state';
import { SecretSet } from '../core/redact';
import { displayUrl, urlSecrets } from '../core/urlMask';
import type { ServiceConfig, ServiceName, UpstreamConfig, UsageMetrics } from '../core/types';
import { ClientGone } from './clientGone';
import { answerSafely, triedHeader } from './safeAnswer';
import { errorBody, streamErrorEvent } from './errors';
import { forwardSuccess } from './forwardSuccess';
import { buildHttpDebug, warnLine } from './httpDebug';
import type { ExchangeRecord, HttpDebugOptions } from './httpDebug';
import { forwardableHeaders, forwardableResponseHeaders } from './headers';
import type { Logger } from './logger';
import { applyEffort, BodyTooLargeError, inspectBody, readBody } from './requestBody';
import type { RuntimeConfig } from './runtimeConfig';
import { baseOrigin, upstreamPath, TargetUrlError } from './targetUrl';
import { describeTransportError } from './upstream';
import { UpstreamCall } from './upstreamCall';
import type { ResponseHead } from './upstreamCall';

/** Everything the pipeline needs, passed in by the service that owns it. */
export interface PipelineDeps {
  service: ServiceName;
  runtime: RuntimeConfig;
  state: ProxyState;
  lbStore: LbStateStore;
  filter: RequestFilter;
  credentials: CredentialFile;
  cwd?: SessionCwdResolver;
  agent: Dispatcher;
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
  /** Called after a 2xx answer started streaming (usage-provider polling hooks in here). */
  onUpstreamSuccess?: (config: ServiceConfig, index: number, upstream: UpstreamConfig, path: string, method: string) => void;
}

const ACCEPT_ENCODING: ReadonlySet<string> = new Set(['accept-encoding']);

/** Header listing every upstream the proxy tried, on a final failure. */
export const TRIED_HEADER = 'x-codex-helper-upstreams-tried';
const ERROR_BODY_MAX = 4 * 1024 * 1024;

interface LastFailure {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  cls?: string;
  hint?: string;
  transport?: string;
  /** The upstream's base_url cannot be used at all: no retry on it, no cooldown, just move on. */
  badTarget?: boolean;
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
  private route: { config: string; provider?: string; base: string } | undefined;
  private auth: AuthResolution | undefined;
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

  /** Provider layer: configs in order; upstream layer inside each. */
  private async route_(configs: ServiceConfig[], body: Buffer, plan: RetryPlan): Promise<void> {
    const d = this.d;
    const strict = configs.length > 1;
    const backoff: CooldownBackoff = { factor: plan.cooldown_backoff_factor, max_secs: plan.cooldown_backoff_max_secs };
    let last: LastFailure | undefined;
    let unsupported = 0;
    let cooling = 0;
    let providerAttempts = 0;
    for (const cfg of configs) {
      if (providerAttempts >= plan.provider.max_attempts || this.gone.aborted) break;
      const lb = new LoadBalancer(cfg, d.lbStore, d.now);
      const avoid = new Set<number>();
      let sentHere = false;
      for (;;) {
        const pick = this.pickUpstream(cfg, lb, avoid, strict);
        if (pick.kind === 'none') {
          if (!sentHere && avoid.size < cfg.upstreams.length) cooling++;
          break;
        }
        if (pick.kind === 'unsupported') {
          unsupported++;
          continue;
        }
        let idx = pick.index;
        let attempt = 0;
        // Upstream layer.
        for (;;) {
          const upstream = cfg.upstreams[idx]!;
          sentHere = true;
          const outcome = await this.attempt(cfg, lb, idx, upstream, body);
          if (outcome === 'done') return;
          if (this.gone.aborted) return this.finishAborted();
          const { failure, retryAfter } = outcome;
          last = failure;
          if (failure.badTarget) {
            avoid.add(idx);
            break;
          }
          const retryable = failure.transport !== undefined
            ? shouldRetryClass(plan.upstream, 'upstream_transport_error')
            : shouldRetryStatus(plan.upstream, failure.status) || shouldRetryClass(plan.upstream, failure.cls);
          if (retryable && attempt + 1 < plan.upstream.max_attempts) {
            await this.gone.sleep(retryDelayMs(plan.upstream, attempt, retryAfter));
            attempt++;
            if (plan.upstream.strategy === 'failover') {
              // Seed defect fix: `failover` at the upstream layer moves to the next upstream of the config.
              lb.recordFailure(idx, backoff, { status: failure.status, error: failure.transport ?? failure.cls });
              avoid.add(idx);
              const next = this.pickUpstream(cfg, lb, avoid, strict);
              if (next.kind === 'picked') idx = next.index;
              else avoid.delete(idx);
            }
            continue;
          }
          const providerRetryable = failure.transport !== undefined
            || shouldRetryStatus(plan.provider, failure.status) || shouldRetryClass(plan.provider, failure.cls);
          if (providerRetryable) {
            const cls = failure.transport !== undefined ? 'upstream_transport_error' : failure.cls;
            const reason = failure.transport ?? cls ?? `status_${failure.status}`;
            lb.penalize(idx, cooldownSecsForClass(plan, cls), reason, backoff, failure.transport ? undefined : failure.status);
            avoid.add(idx);
            break;
          }
          // Neither layer retries this answer: hand it to the client as it is.
          return this.sendFailure(failure);
        }
        if (avoid.size >= cfg.upstreams.length) break;
      }
      if (sentHere) {
        providerAttempts++;
        if (plan.provider.base_backoff_ms > 0 && providerAttempts < plan.provider.max_attempts) {
          await this.gone.sleep(backoffDelayMs(plan.provider, providerAttempts - 1));
        }
      }
    }
    if (this.gone.aborted) return this.finishAborted();
    if (last) return this.sendFailure(last);
    if (unsupported > 0 && cooling === 0) {
      return this.fail(404, 'no_upstream_for_model', `no upstream supports model '${this.model ?? '-'}'`);
    }
    return this.fail(502, 'no_upstream_available',
      `no upstreams available: every upstream of ${configs.map((c) => `'${c.name}'`).join(', ')} is cooling down or was skipped; try again shortly or check the health of your upstreams`);
  }

  private pickUpstream(
    cfg: ServiceConfig,
    lb: LoadBalancer,
    avoid: Set<number>,
    strict: boolean,
  ): { kind: 'picked'; index: number } | { kind: 'unsupported' } | { kind: 'none' } {
    if (avoid.size >= cfg.upstreams.length) return { kind: 'none' };
    const idx = lb.select(avoid, strict);
    if (idx === undefined || avoid.has(idx)) return { kind: 'none' };
    const up = cfg.upstreams[idx]!;
    if (this.model !== undefined && !isModelSupported(up.supported_models, up.model_mapping, this.model)) {
      this.chain.push(`${cfg.name}:${up.base_url} (idx=${idx}) skipped_unsupported_model=${this.model}`);
      avoid.add(idx);
      return { kind: 'unsupported' };
    }
    return { kind: 'picked', index: idx };
  }

  /** One request to one upstream. Returns 'done' when the client has its answer. */
  private async attempt(
    cfg: ServiceConfig,
    lb: LoadBalancer,
    idx: number,
    up: UpstreamConfig,
    body: Buffer,
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
    this.route = { config: cfg.name, provider: providerId, base: shownBase };
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
      this.chain.push(`${label} target_build_error=${msg} model=${modelNote}`);
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: msg, badTarget: true }, retryAfter: undefined };
    }

    const headers = forwardableHeaders(this.req.headers, ACCEPT_ENCODING);
    // Compression buys nothing on the way back over loopback, and an identity stream keeps usage counting and the
    // terminal error event possible.
    headers.push('accept-encoding', 'identity');
    const hasAuthorization = this.req.headers['authorization'] !== undefined;
    const hasApiKey = this.req.headers['x-api-key'] !== undefined;
    this.auth = resolveUpstreamAuth(d.service, up, { hasAuthorization, hasApiKey }, d.env, d.credentials, d.secrets);
    this.secrets.add(this.auth.token, this.auth.apiKey, ...urlSecrets(up.base_url));
    if (this.auth.invalid !== undefined) {
      this.chain.push(`${label} credential_error model=${modelNote}`);
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: this.auth.invalid, badTarget: true }, retryAfter: undefined };
    }
    if (this.auth.token !== undefined || this.auth.apiKey !== undefined) {
      for (let i = 0; i < headers.length; i += 2) {
        const n = headers[i]!;
        if ((n === 'authorization' && this.auth.token !== undefined) || (n === 'x-api-key' && this.auth.apiKey !== undefined)) {
          headers.splice(i, 2);
          i -= 2;
        }
      }
      if (this.auth.token !== undefined) headers.push('authorization', `Bearer ${this.auth.token}`);
      if (this.auth.apiKey !== undefined) headers.push('x-api-key', this.auth.apiKey);
    }
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
    const call = new UpstreamCall(d.agent, {
      origin,
      path,
      method: (this.req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body: sendBody.length > 0 ? sendBody : undefined,
    });
    this.gone.call = call;
    let resp: ResponseHead;
    try {
      resp = await call.head;
    } catch (e) {
      if (this.gone.aborted) return { failure: { status: 499, body: Buffer.alloc(0), headers: {} }, retryAfter: undefined };
      const msg = describeTransportError(e);
      this.chain.push(`${label} transport_error=${msg} model=${modelNote}`);
      this.exchange.error = msg;
      this.exchange.errorClass = 'upstream_transport_error';
      d.retryTrace?.writeEvent({ event: 'attempt_result', service: d.service, config: cfg.name, index: idx, transport_error: msg });
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: msg }, retryAfter: undefined };
    }
    const headersAt = d.now();
    const status = resp.statusCode;

    if (status >= 200 && status < 300) {
      this.chain.push(`${label} status=${status} class=- model=${modelNote}`);
      lb.recordSuccess(idx, status);
      d.onUpstreamSuccess?.(cfg, idx, up, this.path, this.req.method ?? 'GET');
      await this.pipeSuccess(call, resp, sentAt, headersAt, lb, idx);
      return 'done';
    }

    // Non-2xx: buffer (bounded) to classify and maybe retry; nothing has reached the client yet.
    let errBody: Buffer;
    try {
      errBody = await call.collect(ERROR_BODY_MAX);
    } catch (e) {
      if (this.gone.aborted) return { failure: { status: 499, body: Buffer.alloc(0), headers: {} }, retryAfter: undefined };
      const msg = describeTransportError(e);
      this.chain.push(`${label} body_read_error=${msg} model=${modelNote}`);
      return { failure: { status: 502, body: Buffer.alloc(0), headers: {}, transport: msg }, retryAfter: undefined };
    }
    const c = classifyUpstreamResponse(status, resp.headers, errBody);
    this.chain.push(`${label} status=${status} class=${c.cls ?? '-'} model=${modelNote}`);
    Object.assign(this.exchange, { upstreamHeadersMs: headersAt - sentAt, responseHeaders: resp.headers, responseBody: errBody,
      errorClass: c.cls, errorHint: c.hint, cfRay: c.cfRay });
    d.retryTrace?.writeEvent({ event: 'attempt_result', service: d.service, config: cfg.name, index: idx, status, class: c.cls });
    const failure: LastFailure = { status, body: errBody, headers: resp.headers, cls: c.cls, hint: c.hint };
    const plan = d.retryPlan();
    if (shouldNeverRetry(plan, status, c.cls)) {
      const backoff = { factor: plan.cooldown_backoff_factor, max_secs: plan.cooldown_backoff_max_secs };
      lb.recordFailure(idx, backoff, { status, error: c.cls });
      this.sendFailure(failure);
      return 'done';
    }
    return { failure, retryAfter: resp.headers['retry-after'] };
  }

  /** Forwards a 2xx answer as it arrives; SSE usage is scanned on the fly, JSON usage read at the end. */
  private async pipeSuccess(
    call: UpstreamCall,
    resp: ResponseHead,
    sentAt: number,
    headersAt: number,
    lb: LoadBalancer,
    idx: number,
  ): Promise<void> {
    const d = this.d;
    this.responseStarted = true;
    const r = await forwardSuccess(call, resp, this.res, d.now, sentAt, headersAt);
    if (this.gone.aborted) {
      this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage, errorClass: 'client_disconnected' });
      return;
    }
    if (r.streamError !== undefined) {
      const msg = this.secrets.text(describeTransportError(r.streamError));
      const plan = d.retryPlan();
      const backoff = { factor: plan.cooldown_backoff_factor, max_secs: plan.cooldown_backoff_max_secs };
      lb.recordFailure(idx, backoff, { status: resp.statusCode });
      lb.penalize(idx, plan.transport_cooldown_secs, `upstream_stream_error: ${msg}`, backoff, resp.statusCode);
      d.log.warn(`${d.service} ${this.req.method} ${this.path}: upstream stream broke after the answer started: ${msg}`);
      if (r.isSse && !r.encoded && !this.res.destroyed) this.res.end(streamErrorEvent(d.service, `upstream stream error: ${msg}`));
      else this.res.destroy();
      this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage, errorClass: 'upstream_stream_error', hint: CLASS_HINTS['upstream_stream_error'] });
      return;
    }
    this.res.end();
    this.finish({ status: resp.statusCode, ttfb: r.ttfb, usage: r.usage });
  }

  private sendFailure(f: LastFailure): void {
    if (f.transport !== undefined && f.body.length === 0) {
      return this.fail(f.status === 499 ? 502 : f.status, 'upstream_transport_error',
        `could not get an answer from any upstream: ${f.transport}`, CLASS_HINTS['upstream_transport_error']);
    }
    // The upstream's own headers (content-type, retry-after, request ids, location…), minus hop-by-hop ones, and
    // its body, both scrubbed: an upstream that echoes the key must not hand it to the client.
    const headers = this.secrets.headers(forwardableResponseHeaders(f.headers));
    const body = this.secrets.body(f.body);
    if (this.tried.length) headers[TRIED_HEADER] = triedHeader(this.tried);
    headers['content-length'] = String(body.length);
    this.respond(f.status, headers, body);
    this.finish({ status: f.status, errorClass: f.cls, hint: f.hint });
  }

  private fail(status: number, type: string, message: string, hint?: string): void {
    hint ??= CLASS_HINTS[type];
    const text = errorBody(this.d.service, { status, type, message: this.secrets.text(message), hint, upstreams_tried: this.tried });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
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

  private finishAborted(): void {
    this.finish({ status: 499, errorClass: 'client_disconnected' });
  }

  private finish(p: { status: number; ttfb?: number; usage?: UsageMetrics; errorClass?: string; hint?: string }): void {
    if (this.finished) return;
    this.finished = true;
    this.begin();
    const d = this.d;
    const end = d.now();
    const ok = p.status >= 200 && p.status < 300;
    // Failures carry upstream text (errors, echoed bodies): scrub what is recorded of them; a success has none.
    const chain = retryInfoForChain(this.chain);
    const retry = ok || !chain ? chain : this.secrets.deep(chain);
    const route = this.route;
    const httpDebug = this.debugFor(p.status, p.errorClass, p.hint);
    d.state.finishRequest({
      id: this.id!,
      status_code: p.status,
      duration_ms: end - this.t0,
      ended_at_ms: end,
      usage: p.usage,
      retry,
      ttfb_ms: p.ttfb,
      mapped_model: this.mappedModel,
      error_class: p.errorClass,
      error_hint: p.hint,
    });
    const record: RequestLogRecord = {
      timestamp_ms: end,
      service: d.service,
      method: this.req.method ?? 'GET',
      path: this.path,
      status_code: p.status,
      duration_ms: end - this.t0,
      ttfb_ms: p.ttfb,
      config_name: route?.config ?? '-',
      provider_id: route?.provider,
      upstream_base_url: route?.base ?? '-',
      session_id: this.sessionId,
      cwd: this.cwd,
      reasoning_effort: this.effort,
      model: this.model,
      mapped_model: this.mappedModel,
      usage: p.usage,
      retry,
      ...httpDebug,
      error_class: p.errorClass,
      auth_resolution: this.auth ? { authorization: this.auth.authorization, x_api_key: this.auth.x_api_key } : undefined,
    };
    d.requestLog?.write(ok ? record : this.secrets.deep(record));
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

/** Handles one proxied request; never throws (every failure becomes an answer and a record). */
export async function handleProxyRequest(d: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = new ProxyRequest(d, req, res);
  try {
    await r.run();
  } catch (e) {
    r.failInternal(e);
  }
}

