// The requests.jsonl row (seed logging.rs), its line format and the redaction helpers used for anything that
// reaches a log. The writer is src/io/requestLogWriter.ts.
import type { RetryInfo, ServiceName, UsageMetrics } from './types';
import type { RequestCost } from './pricing';
import { memoByString } from './memo';

const REDACTED = '[REDACTED]';
const SENSITIVE_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-forwarded-api-key', 'x-goog-api-key',
]);
const SENSITIVE_NAME_RE = /token|secret|api[-_]?key/i;
const BEARER_RE = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const SK_KEY_RE = /\bsk-[A-Za-z0-9_-]{8,}/g;

/** Where each credential came from, e.g. "env:OPENAI_API_KEY" — never the value itself. */
export interface AuthResolutionLog {
  authorization?: string;
  x_api_key?: string;
}

export interface RequestLogRecord {
  /** Write time; filled in by the writer when omitted. */
  timestamp_ms?: number;
  service: ServiceName;
  method: string;
  path: string;
  status_code: number;
  duration_ms: number;
  ttfb_ms?: number;
  config_name?: string;
  provider_id?: string;
  upstream_base_url?: string;
  session_id?: string;
  cwd?: string;
  reasoning_effort?: string;
  model?: string;
  mapped_model?: string;
  usage?: UsageMetrics;
  http_debug?: unknown;
  /** Where the http_debug blob went when it was split into requests_debug.jsonl. */
  http_debug_ref?: { id: string; file: string };
  retry?: RetryInfo;
  error_class?: string;
  /** The upstream's own error message (an in-band error) or what broke the stream. */
  error_message?: string;
  route_note?: string;
  auth_resolution?: AuthResolutionLog;
  /** Estimated cost; the writer fills it in through `price` when the caller did not. */
  cost?: RequestCost;
}


/** Replaces values of credential-bearing headers with `[REDACTED]`; one entry per value. */
export function redactHeaders(h: Record<string, string | string[] | undefined>): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, raw] of Object.entries(h)) {
    if (raw === undefined) continue;
    const sensitive = SENSITIVE_HEADERS.has(name.toLowerCase()) || SENSITIVE_NAME_RE.test(name);
    for (const v of Array.isArray(raw) ? raw : [raw]) out.push({ name, value: sensitive ? REDACTED : v });
  }
  return out;
}

/** Removes known secrets (≥ 8 chars), bearer tokens and `sk-…` keys from free text. */
export function redactText(text: string, secrets: readonly string[]): string {
  let t = text;
  for (const s of secrets) if (s.length >= 8 && t.includes(s)) t = t.split(s).join(REDACTED);
  return t.replace(BEARER_RE, `$1 ${REDACTED}`).replace(SK_KEY_RE, REDACTED);
}

const SOURCE_DESCRIPTOR = /^[a-z_]+(:[A-Za-z0-9_.\-/]+)?$/;
/** Checked once per value (a handful per config: `env:OPENAI_API_KEY`, `client`, …). */
const isSourceDescriptor = memoByString((s: string): boolean => s.length <= 200 && SOURCE_DESCRIPTOR.test(s));

/** What of a request's auth sources a log line may hold (undefined when nothing). */
export function authSources(a: AuthResolutionLog | undefined): AuthResolutionLog | undefined {
  if (!a) return undefined;
  // Only short source descriptors are logged; anything else could be a credential passed by mistake.
  const ok = (s: unknown): s is string => typeof s === 'string' && isSourceDescriptor(s);
  const out: AuthResolutionLog = {};
  if (ok(a.authorization)) out.authorization = a.authorization;
  if (ok(a.x_api_key)) out.x_api_key = a.x_api_key;
  return out.authorization !== undefined || out.x_api_key !== undefined ? out : undefined;
}

/** Serialises a record with the seed's field order (the requests.jsonl contract). */
export function formatRequestLogLine(r: RequestLogRecord, nowMs: number): string {
  // Only the fields a record has are set (in the seed's order): absent ones would be skipped by JSON.stringify
  // anyway, after costing it a look each.
  const o: Record<string, unknown> = {
    timestamp_ms: r.timestamp_ms ?? nowMs,
    service: r.service,
    method: r.method,
    path: r.path,
    status_code: r.status_code,
    duration_ms: r.duration_ms,
  };
  if (r.ttfb_ms !== undefined) o.ttfb_ms = r.ttfb_ms;
  o.config_name = r.config_name ?? '-';
  if (r.provider_id !== undefined) o.provider_id = r.provider_id;
  o.upstream_base_url = r.upstream_base_url ?? '-';
  if (r.session_id !== undefined) o.session_id = r.session_id;
  if (r.cwd !== undefined) o.cwd = r.cwd;
  if (r.reasoning_effort !== undefined) o.reasoning_effort = r.reasoning_effort;
  if (r.model !== undefined) o.model = r.model;
  if (r.mapped_model !== undefined) o.mapped_model = r.mapped_model;
  if (r.usage !== undefined) o.usage = r.usage;
  if (r.http_debug !== undefined) o.http_debug = r.http_debug;
  if (r.http_debug_ref !== undefined) o.http_debug_ref = r.http_debug_ref;
  if (r.retry !== undefined) o.retry = r.retry;
  if (r.error_class !== undefined) o.error_class = r.error_class;
  if (r.error_message !== undefined) o.error_message = r.error_message;
  if (r.route_note !== undefined) o.route_note = r.route_note;
  const auth = authSources(r.auth_resolution);
  if (auth !== undefined) o.auth_resolution = auth;
  if (r.cost) o.cost = { amount: r.cost.amount, currency: r.cost.currency, rule: r.cost.rule };
  return JSON.stringify(o);
}
