// Debug and warn previews of failed exchanges (codex-helper's `http_debug`), built only when an answer is not 2xx
// (or when *_ALL asks for every answer), so the hot path never pays for them. Headers are redacted; bodies are
// previews capped in size and scrubbed of known secrets.
import { redactHeaders, redactText } from '../core/requestLog';
import { displayUrl } from '../core/urlMask';

export interface HttpDebugOptions {
  debug: boolean;
  debugAll: boolean;
  debugBodyMax: number;
  warn: boolean;
  warnAll: boolean;
  warnBodyMax: number;
  split: boolean;
  logRequestBody: boolean;
}

function flag(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return def;
  return ['1', 'true', 'yes', 'y', 'on'].includes(v);
}

function bytes(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const n = Number(env[name]);
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : def;
}

/** Reads the CODEX_HELPER_HTTP_* switches (same names and defaults as codex-helper). */
export function httpDebugOptions(env: NodeJS.ProcessEnv): HttpDebugOptions {
  const debugAll = flag(env, 'CODEX_HELPER_HTTP_DEBUG_ALL', false);
  return {
    debug: flag(env, 'CODEX_HELPER_HTTP_DEBUG', false) || debugAll,
    debugAll,
    debugBodyMax: bytes(env, 'CODEX_HELPER_HTTP_DEBUG_BODY_MAX', 64 * 1024),
    warn: flag(env, 'CODEX_HELPER_HTTP_WARN', true),
    warnAll: flag(env, 'CODEX_HELPER_HTTP_WARN_ALL', false),
    warnBodyMax: bytes(env, 'CODEX_HELPER_HTTP_WARN_BODY_MAX', 8 * 1024),
    split: flag(env, 'CODEX_HELPER_HTTP_DEBUG_SPLIT', true) || debugAll,
    logRequestBody: flag(env, 'CODEX_HELPER_HTTP_LOG_REQUEST_BODY', false),
  };
}

export interface BodyPreview {
  content_type?: string;
  encoding: 'utf8' | 'base64';
  data: string;
  truncated: boolean;
  original_len: number;
}

const TEXTUAL = /^(text\/|application\/(json|x-www-form-urlencoded|xml)|.*\+(json|xml)|.*event-stream)/i;

/** A size-capped preview of a body; text types as UTF-8, others as base64. */
export function bodyPreview(body: Uint8Array, contentType: string | undefined, max: number, secrets: readonly string[]): BodyPreview {
  const textual = contentType === undefined || TEXTUAL.test(contentType);
  // Redact before cutting: a secret straddling the cut would otherwise leave its first characters in the preview.
  const data = textual
    ? Buffer.from(redactText(Buffer.from(body).toString('utf8'), secrets)).subarray(0, max).toString('utf8')
    : Buffer.from(body.subarray(0, max)).toString('base64');
  return { content_type: contentType, encoding: textual ? 'utf8' : 'base64', data, truncated: body.length > max, original_len: body.length };
}

/** What the pipeline knows about the last exchange of a request. */
export interface ExchangeRecord {
  clientUri: string;
  clientHeaders: Record<string, string | string[] | undefined>;
  clientBody?: Uint8Array;
  targetUrl?: string;
  upstreamRequestHeaders?: string[];
  upstreamRequestBodyLen?: number;
  upstreamHeadersMs?: number;
  responseHeaders?: Record<string, string | string[] | undefined>;
  responseBody?: Uint8Array;
  errorClass?: string;
  errorHint?: string;
  cfRay?: string;
  error?: string;
  auth?: { authorization?: string; x_api_key?: string };
}

function pairsToRecord(flat: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const n = flat[i]!;
    const v = flat[i + 1]!;
    const prev = out[n];
    out[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Builds the `http_debug` object of a request log line. */
export function buildHttpDebug(x: ExchangeRecord, bodyMax: number, logRequestBody: boolean, secrets: readonly string[]): Record<string, unknown> {
  const ctype = (h: Record<string, string | string[] | undefined> | undefined) => {
    const v = h?.['content-type'];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    request_body_len: x.clientBody?.length,
    upstream_request_body_len: x.upstreamRequestBodyLen,
    upstream_headers_ms: x.upstreamHeadersMs,
    upstream_error_class: x.errorClass,
    upstream_error_hint: x.errorHint,
    upstream_cf_ray: x.cfRay,
    client_uri: displayUrl(x.clientUri),
    target_url: x.targetUrl === undefined ? undefined : displayUrl(x.targetUrl),
    client_headers: redactHeaders(x.clientHeaders),
    upstream_request_headers: x.upstreamRequestHeaders ? redactHeaders(pairsToRecord(x.upstreamRequestHeaders)) : undefined,
    auth_resolution: x.auth,
    client_body: logRequestBody && x.clientBody ? bodyPreview(x.clientBody, ctype(x.clientHeaders), bodyMax, secrets) : undefined,
    upstream_response_headers: x.responseHeaders ? redactHeaders(x.responseHeaders) : undefined,
    upstream_response_body: x.responseBody ? bodyPreview(x.responseBody, ctype(x.responseHeaders), bodyMax, secrets) : undefined,
    upstream_error: x.error,
  };
}

/** The upstream's own error message out of a JSON error body preview, if it has one. */
function upstreamMessage(debug: Record<string, unknown>): string | undefined {
  const body = debug['upstream_response_body'] as { data?: unknown; encoding?: unknown } | undefined;
  const text = body?.encoding === 'utf8' && typeof body.data === 'string' ? body.data : undefined;
  if (!text) return undefined;
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === 'string' ? j.error : typeof j.error?.message === 'string' ? j.error.message : typeof j.message === 'string' ? j.message : undefined;
    if (m) return m.length > 160 ? `${m.slice(0, 159)}…` : m;
  } catch {
    // Not JSON (a proxy page, plain text): the first line says enough.
  }
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim();
  return first ? (first.length > 160 ? `${first.slice(0, 159)}…` : first) : undefined;
}

/**
 * A warning for a failed exchange: one readable line (what failed, where, why, what the upstream said), then the
 * redacted details as JSON on a second line, capped like codex-helper's (2048 chars). The VS Code channel shows the
 * details only at debug level; the CLI prints both lines.
 */
export function warnLine(service: string, method: string, status: number, debug: Record<string, unknown>): string {
  const text = JSON.stringify(debug);
  const capped = text.length > 2048 ? text.slice(0, 2048) + '...[TRUNCATED_FOR_LOG]' : text;
  let target: string | undefined;
  try {
    target = typeof debug['target_url'] === 'string' ? new URL(debug['target_url']).host : undefined;
  } catch {
    target = undefined;
  }
  const cls = debug['upstream_error_class'];
  const hint = debug['upstream_error_hint'];
  const said = upstreamMessage(debug);
  const err = debug['upstream_error'];
  const summary = [
    `${service} ${method} ${String(debug['client_uri'])} → ${status}`,
    target ? ` from ${target}` : '',
    typeof cls === 'string' && cls ? ` (${cls}${typeof hint === 'string' && hint ? `: ${hint}` : ''})` : '',
    said ? `; upstream said: ${said}` : typeof err === 'string' && err ? `; ${err}` : '',
  ].join('');
  return `${summary}\n  details: ${capped}`;
}
