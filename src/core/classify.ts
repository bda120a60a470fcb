// Error classes for upstream answers, used by the retry plan (on_class / never_on_class) and shown to users.
// The checks and their order are the seed's; bodies are only searched or parsed when status and content-type
// make a class possible, so a large successful body costs one header lookup.

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface Classification {
  cls?: string;
  hint?: string;
  cfRay?: string;
}

export const CLASS_HINTS: Record<string, string> = {
  cloudflare_timeout:
    'Cloudflare 524: the origin did not answer in time; check upstream latency, whether the first bytes are sent ' +
    'promptly (SSE), and Cloudflare/WAF rules.',
  cloudflare_challenge:
    'A Cloudflare/WAF interception page was returned (text/html with challenge markers), not an API error; check ' +
    'WAF rules, User-Agent/headers, and whether this path must be allowed.',
  client_error_non_retryable:
    'This looks like a request parameter/format or limit error (not transient); fix the request instead of ' +
    'retrying or switching provider.',
  upstream_transport_error:
    'Could not reach the upstream or the connection broke; check the base_url, network and proxy settings.',
  upstream_stream_error: 'The upstream stream broke off mid-answer; the response may be incomplete.',
  upstream_body_read_error: 'Failed to read the upstream response body (connection reset or timed out).',
  no_active_upstream_config: 'No usable upstream config found (no active config, or it has no upstreams).',
  client_body_read_error:
    'Failed to read the client request body (it may exceed the size limit or the connection was interrupted).',
  no_upstream_for_model:
    'No upstream supports the requested model; check supported_models and model_mapping of your upstreams.',
  request_too_large: 'The request body exceeds the size limit of the proxy.',
  upstream_timeout:
    'The upstream did not answer (or went silent) within the configured [timeouts]; it was failed over or cut.',
  rate_limited: 'The upstream rate-limited this model; the proxy cools that model on that upstream and fails over.',
  insufficient_quota: 'The upstream account has no quota or credit left; top it up or use another upstream.',
  overloaded: 'The upstream reported that it is overloaded; the proxy fails over and retries later.',
  model_not_available:
    'This upstream does not serve the requested model; check model_mapping / supported_models for it.',
  server_error: 'The upstream failed with a server error.',
  no_upstream_available:
    'Every upstream that could serve this request is cooling down or unusable; the answer says when to retry.',
};

const TYPE_HINT =
  'This looks like a request parameter/limit error (not transient); fix the request instead of retrying or ' +
  'switching provider.';
const MESSAGE_HINT =
  'This looks like a request format/parameter error (not transient); fix the request instead of retrying or ' +
  'switching provider.';

const CF_MARKERS = ['__CF$cv$params', '/cdn-cgi/', 'challenge-platform', 'cf-chl-'].map((m) => Buffer.from(m));
const NON_RETRYABLE_STATUS = new Set([400, 409, 413, 415, 422]);
export const NON_RETRYABLE_TYPES: ReadonlySet<string> = new Set([
  'invalid_request_error',
  'validation_error',
  'bad_request',
  'context_limit',
  'context_length_exceeded',
  'token_limit',
  'content_filter',
]);

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Message texts of request errors that no retry or other provider will fix (lower-cased input). */
export function messageLooksNonRetryable(m: string): boolean {
  return (
    (m.includes('tool_use') && m.includes('must be unique')) ||
    m.includes('all messages must have non-empty content') ||
    (m.includes('string should match pattern') && m.includes('srvtoolu_')) ||
    (m.includes('unexpected') && m.includes('tool_use_id')) ||
    (m.includes('json') && (m.includes('parse') || m.includes('invalid'))) ||
    (m.includes('schema') && m.includes('validation'))
  );
}

/** Seed classification: cloudflare_timeout, cloudflare_challenge, then client_error_non_retryable (type, message). */
export function classifyUpstreamResponse(status: number, headers: HeaderBag, body: Uint8Array): Classification {
  const cfRay = header(headers, 'cf-ray');
  const result: Classification = {};
  if (cfRay !== undefined) result.cfRay = cfRay;

  if (status === 524) {
    const looksCf = cfRay !== undefined || (header(headers, 'server') ?? '').toLowerCase().includes('cloudflare');
    if (looksCf) return withClass(result, 'cloudflare_timeout');
  }

  const ct = (header(headers, 'content-type') ?? '').toLowerCase();
  if (ct.startsWith('text/html') && body.byteLength > 0) {
    const buf = asBuffer(body);
    if (CF_MARKERS.some((m) => buf.includes(m))) return withClass(result, 'cloudflare_challenge');
  }

  const availability = classifyAvailability(status, ct, body);
  if (availability !== undefined) return withClass(result, availability);

  if (
    NON_RETRYABLE_STATUS.has(status) &&
    (ct.includes('application/json') || ct.includes('+json')) &&
    body.byteLength > 0
  ) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(asBuffer(body).toString('utf8'));
    } catch {
      return result;
    }
    const root = obj(parsed);
    if (!root) return result;
    const err = obj(root['error']);
    const type =
      str(err?.['type']) ?? str(err?.['code']) ?? (root['type'] === 'error' ? str(err?.['type']) : undefined);
    if (type !== undefined && NON_RETRYABLE_TYPES.has(type.toLowerCase())) {
      return { ...result, cls: 'client_error_non_retryable', hint: TYPE_HINT };
    }
    const message = str(err?.['message']) ?? str(err?.['error']) ?? str(root['message']);
    if (message !== undefined && messageLooksNonRetryable(message.toLowerCase())) {
      return { ...result, cls: 'client_error_non_retryable', hint: MESSAGE_HINT };
    }
  }
  // A bare 429 / 5xx stays unclassified as in the seed (its status says it all; `on_status` matches it).
  return result;
}

const MODEL_CODES: ReadonlySet<string> = new Set(['model_not_found', 'model_not_available', 'model_not_supported', 'unsupported_model']);
const MODEL_MESSAGE = /\bmodel\b[^.]{0,120}?(not (be )?found|does not exist|not available|unavailable|not supported|unsupported|no access|not have access|无可用渠道)|无可用渠道/i;
const AVAILABILITY_STATUS = new Set([400, 403, 404, 429, 503, 529]);
const AVAILABILITY_BODY_MAX = 64 * 1024;

/** The error object (`error: {…}`, or the root) of a small JSON error body. */
export function errorObject(body: Uint8Array, max = AVAILABILITY_BODY_MAX): { type?: string; code?: string; message?: string } | undefined {
  if (body.byteLength === 0 || body.byteLength > max) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(asBuffer(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const root = obj(parsed);
  if (!root) return undefined;
  const err = obj(root['error']) ?? (typeof root['error'] === 'string' ? { message: root['error'] } : root);
  const code = err['code'];
  return {
    type: str(err['type']),
    code: typeof code === 'number' ? String(code) : str(code),
    message: str(err['message']) ?? str(root['message']),
  };
}

/**
 * Classes that decide where a request may still go (beyond the seed's): a model this upstream does not serve,
 * an account without quota, an overloaded upstream. Only JSON bodies of a few statuses are parsed.
 */
function classifyAvailability(status: number, ct: string, body: Uint8Array): string | undefined {
  if (!AVAILABILITY_STATUS.has(status) || !(ct.includes('json') || ct === '')) return undefined;
  const e = errorObject(body);
  if (!e) return undefined;
  const code = (e.code ?? '').toLowerCase();
  const type = (e.type ?? '').toLowerCase();
  const message = e.message ?? '';
  if (MODEL_CODES.has(code) || MODEL_CODES.has(type) || MODEL_MESSAGE.test(message)) return 'model_not_available';
  if (code === 'insufficient_quota' || type === 'insufficient_quota') return 'insufficient_quota';
  if (type === 'overloaded_error' || code === 'overloaded' || /\boverloaded\b/i.test(message)) return 'overloaded';
  return undefined;
}

function withClass(result: Classification, cls: string): Classification {
  result.cls = cls;
  const hint = CLASS_HINTS[cls];
  if (hint !== undefined) result.hint = hint;
  return result;
}

/** The fields of an error object as an upstream sent it, in a body or inside a stream. */
export interface ErrorFields {
  type?: string;
  code?: string;
  message?: string;
}

/** An error class and the HTTP status the same failure would have had, so `on_status` rules apply unchanged. */
export interface ErrorObjectClass {
  cls: string;
  hint: string;
  status: number;
}

const OVERLOADED_CODES = new Set(['overloaded', 'overloaded_error', 'server_is_overloaded', 'slow_down', 'engine_overloaded']);
const RATE_CODES = new Set(['rate_limit_exceeded', 'rate_limit_error', 'rate_limited', 'rate_limit', 'too_many_requests']);
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'quota_exceeded']);

/**
 * Classifies an error reported inside a 2xx answer (an SSE error event or a JSON error body) with the classes of
 * HTTP failures: overloaded, rate_limited, insufficient_quota, model_not_available, client_error_non_retryable,
 * otherwise server_error.
 */
export function classifyErrorObject(e: ErrorFields): ErrorObjectClass {
  const code = (e.code ?? '').toLowerCase();
  const type = (e.type ?? '').toLowerCase();
  const message = e.message ?? '';
  const lower = message.toLowerCase();
  const pick = (cls: string, status: number): ErrorObjectClass => ({ cls, status, hint: CLASS_HINTS[cls] ?? '' });
  if (MODEL_CODES.has(code) || MODEL_CODES.has(type) || MODEL_MESSAGE.test(message)) return pick('model_not_available', 404);
  if (QUOTA_CODES.has(code) || QUOTA_CODES.has(type)) return pick('insufficient_quota', 429);
  if (OVERLOADED_CODES.has(code) || OVERLOADED_CODES.has(type) || /\boverloaded\b/.test(lower)) return pick('overloaded', 503);
  if (RATE_CODES.has(code) || RATE_CODES.has(type) || /\brate.?limit|too many requests/.test(lower)) return pick('rate_limited', 429);
  if (NON_RETRYABLE_TYPES.has(code) || NON_RETRYABLE_TYPES.has(type) || messageLooksNonRetryable(lower)) {
    return pick('client_error_non_retryable', 400);
  }
  return pick('server_error', 500);
}
