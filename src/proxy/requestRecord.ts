// The record of one finished request, shared by the HTTP pipeline and the WebSocket tunnel: the state's finished
// entry (dashboard, stats) and the requests.jsonl row are written together, from the same fields, exactly once
// per request by the caller.
import type { AuthResolutionLog, RequestLogRecord } from '../core/requestLog';
import type { ProxyState } from '../core/state';
import type { RetryInfo, ServiceName, UsageMetrics } from '../core/types';
import type { RequestLogWriter } from '../io/requestLogWriter';
import { settleWaitingFinishes } from './afterBurst';

/** Where a request went (`base` as shown: secret query values masked). */
export interface RecordRoute {
  config: string;
  provider?: string;
  base: string;
}

export interface FinishedRecord {
  id: number;
  method: string;
  path: string;
  status: number;
  startedAtMs: number;
  endedAtMs: number;
  ttfbMs?: number;
  route?: RecordRoute;
  sessionId?: string;
  cwd?: string;
  effort?: string;
  model?: string;
  mappedModel?: string;
  usage?: UsageMetrics;
  retry?: RetryInfo;
  errorClass?: string;
  hint?: string;
  /** The upstream's own error message (an in-band error) or what broke the stream; already scrubbed. */
  message?: string;
  routeNote?: string;
  auth?: AuthResolutionLog;
  httpDebug?: { http_debug?: unknown; http_debug_ref?: { id: string; file: string } };
}

export interface RecordSinks {
  service: ServiceName;
  state: ProxyState;
  requestLog?: RequestLogWriter;
}

/** The requests.jsonl row of a finished request (seed field names and order). */
export function requestLogRow(service: ServiceName, f: FinishedRecord): RequestLogRecord {
  return {
    timestamp_ms: f.endedAtMs,
    service,
    method: f.method,
    path: f.path,
    status_code: f.status,
    duration_ms: f.endedAtMs - f.startedAtMs,
    ttfb_ms: f.ttfbMs,
    config_name: f.route?.config ?? '-',
    provider_id: f.route?.provider,
    upstream_base_url: f.route?.base ?? '-',
    session_id: f.sessionId,
    cwd: f.cwd,
    reasoning_effort: f.effort,
    model: f.model,
    mapped_model: f.mappedModel,
    usage: f.usage,
    retry: f.retry,
    http_debug: f.httpDebug?.http_debug,
    http_debug_ref: f.httpDebug?.http_debug_ref,
    error_class: f.errorClass,
    error_message: f.message,
    route_note: f.routeNote,
    auth_resolution: f.auth,
  };
}

/**
 * Finishes the state's entry and writes the log row, together, when the state accounts for finished requests
 * (see ProxyState.finishRequestSoon). `scrub` (failures: upstream text may echo a credential) is applied to the row
 * before it is written.
 */
export function recordFinished(sinks: RecordSinks, f: FinishedRecord, scrub?: (r: RequestLogRecord) => RequestLogRecord): void {
  // The records that wait for the burst ended before this one: they go first.
  settleWaitingFinishes();
  sinks.state.finishRequestSoon({
    id: f.id,
    status_code: f.status,
    duration_ms: f.endedAtMs - f.startedAtMs,
    ended_at_ms: f.endedAtMs,
    usage: f.usage,
    retry: f.retry,
    ttfb_ms: f.ttfbMs,
    mapped_model: f.mappedModel,
    error_class: f.errorClass,
    error_hint: f.hint,
    error_message: f.message,
    route_note: f.routeNote,
  }, (finished) => {
    const log = sinks.requestLog;
    if (!log) return;
    const row = requestLogRow(sinks.service, f);
    // Priced once, by the state (the price at the time is what the log keeps).
    if (finished?.cost) row.cost = finished.cost;
    log.write(scrub ? scrub(row) : row);
  });
}
