// requests.jsonl writer (seed logging.rs) and the redaction helpers used for anything that reaches a log.
// Unlike the seed, which appends synchronously under a global mutex on every request, lines are queued in
// memory and appended in batches off the request path; rotation happens before each batch.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { RetryInfo, ServiceName, UsageMetrics } from './types';
import type { RequestCost } from './pricing';
import { envPositiveInt } from './env';

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
  /** Prices a record that has usage and no cost yet (the price at the time is what the log keeps). */
  price?: (r: RequestLogRecord) => RequestCost | undefined;
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

function envFlag(name: string): boolean {
  const v = process.env[name]?.trim().toLowerCase();
  return v === '1' || v === 'true' || v === 'yes' || v === 'y' || v === 'on';
}

function authSources(a: AuthResolutionLog | undefined): AuthResolutionLog | undefined {
  if (!a) return undefined;
  // Only short source descriptors are logged; anything else could be a credential passed by mistake.
  const ok = (s: unknown): s is string => typeof s === 'string' && s.length <= 200 && /^[a-z_]+(:[A-Za-z0-9_.\-/]+)?$/.test(s);
  const out: AuthResolutionLog = {};
  if (ok(a.authorization)) out.authorization = a.authorization;
  if (ok(a.x_api_key)) out.x_api_key = a.x_api_key;
  return out.authorization !== undefined || out.x_api_key !== undefined ? out : undefined;
}

/** Serialises a record with the seed's field order (the requests.jsonl contract). */
export function formatRequestLogLine(r: RequestLogRecord, nowMs: number): string {
  return JSON.stringify({
    timestamp_ms: r.timestamp_ms ?? nowMs,
    service: r.service,
    method: r.method,
    path: r.path,
    status_code: r.status_code,
    duration_ms: r.duration_ms,
    ttfb_ms: r.ttfb_ms,
    config_name: r.config_name ?? '-',
    provider_id: r.provider_id,
    upstream_base_url: r.upstream_base_url ?? '-',
    session_id: r.session_id,
    cwd: r.cwd,
    reasoning_effort: r.reasoning_effort,
    model: r.model,
    mapped_model: r.mapped_model,
    usage: r.usage,
    http_debug: r.http_debug,
    http_debug_ref: r.http_debug_ref,
    retry: r.retry,
    error_class: r.error_class,
    error_message: r.error_message,
    route_note: r.route_note,
    auth_resolution: authSources(r.auth_resolution),
    cost: r.cost ? { amount: r.cost.amount, currency: r.cost.currency, rule: r.cost.rule } : undefined,
  });
}

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
  private readonly price: RequestLogWriterOptions['price'];
  private queue: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private dirReady = false;
  private closed = false;
  /** Lines dropped because the queue was full. */
  dropped = 0;

  constructor(opts: RequestLogWriterOptions) {
    this.dir = opts.dir;
    this.fileName = opts.fileName ?? 'requests.jsonl';
    this.file = join(this.dir, this.fileName);
    this.maxBytes = opts.maxBytes ?? envPositiveInt('CODEX_HELPER_REQUEST_LOG_MAX_BYTES') ?? 50 * 1024 * 1024;
    this.maxFiles = opts.maxFiles ?? envPositiveInt('CODEX_HELPER_REQUEST_LOG_MAX_FILES') ?? 10;
    this.onlyErrors = opts.onlyErrors ?? envFlag('CODEX_HELPER_REQUEST_LOG_ONLY_ERRORS');
    this.flushIntervalMs = Math.max(0, opts.flushIntervalMs ?? 200);
    this.maxQueue = Math.max(1, opts.maxQueue ?? 10_000);
    this.now = opts.now ?? Date.now;
    this.secrets = opts.secrets;
    this.onError = opts.onError;
    this.price = opts.price;
  }

  /** Queues one request line; returns immediately. */
  write(record: RequestLogRecord): void {
    if (this.onlyErrors && record.status_code >= 200 && record.status_code < 300 && record.error_class === undefined) return;
    if (record.cost === undefined && record.usage && this.price) {
      try {
        const cost = this.price(record);
        if (cost) record = { ...record, cost };
      } catch {
        // An estimate must never cost a log line.
      }
    }
    let line = formatRequestLogLine(record, this.now());
    if (record.http_debug !== undefined && this.secrets) line = redactText(line, this.secrets());
    this.enqueue(line);
  }

  /** Queues an arbitrary event (retry trace), stamping `ts_ms` when missing. */
  writeEvent(event: Record<string, unknown>): void {
    const e = event.ts_ms === undefined ? { ts_ms: this.now(), ...event } : event;
    this.enqueue(JSON.stringify(e));
  }

  private enqueue(line: string): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped += 1;
      return;
    }
    this.queue.push(line);
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

  private async drain(): Promise<void> {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      if (!this.dirReady) {
        await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
        this.dirReady = true;
      }
      await this.rotateIfNeeded();
      await fsp.appendFile(this.file, batch.join('\n') + '\n', { mode: 0o600 });
    } catch (err) {
      this.onError?.(err);
    }
  }

  private async rotateIfNeeded(): Promise<void> {
    let size: number;
    try {
      size = (await fsp.stat(this.file)).size;
    } catch {
      return;
    }
    if (size < this.maxBytes) return;
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

function isOn(v: string | undefined): boolean {
  return ['1', 'true', 'yes', 'y', 'on'].includes((v ?? '').trim().toLowerCase());
}

/** A writer for logs/retry_trace.jsonl when CODEX_HELPER_RETRY_TRACE is on, else undefined. */
export function retryTraceWriter(
  opts: Omit<RequestLogWriterOptions, 'fileName' | 'onlyErrors'>,
  env: NodeJS.ProcessEnv = process.env,
): RequestLogWriter | undefined {
  if (!isOn(env['CODEX_HELPER_RETRY_TRACE'])) return undefined;
  const custom = env['CODEX_HELPER_RETRY_TRACE_PATH']?.trim();
  if (custom) {
    const slash = Math.max(custom.lastIndexOf('/'), custom.lastIndexOf('\\'));
    if (slash > 0) return new RequestLogWriter({ ...opts, dir: custom.slice(0, slash), fileName: custom.slice(slash + 1) });
  }
  return new RequestLogWriter({ ...opts, fileName: 'retry_trace.jsonl' });
}
