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
};

const TYPE_HINT =
  'This looks like a request parameter/limit error (not transient); fix the request instead of retrying or ' +
  'switching provider.';
const MESSAGE_HINT =
  'This looks like a request format/parameter error (not transient); fix the request instead of retrying or ' +
  'switching provider.';

const CF_MARKERS = ['__CF$cv$params', '/cdn-cgi/', 'challenge-platform', 'cf-chl-'].map((m) => Buffer.from(m));
const NON_RETRYABLE_STATUS = new Set([400, 409, 413, 415, 422]);
const NON_RETRYABLE_TYPES = new Set([
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

function messageLooksNonRetryable(m: string): boolean {
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
  return result;
}

function withClass(result: Classification, cls: string): Classification {
  result.cls = cls;
  const hint = CLASS_HINTS[cls];
  if (hint !== undefined) result.hint = hint;
  return result;
}
