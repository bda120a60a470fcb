// Typed messages between the recent-requests webview and its host. The page is untrusted (it renders upstream error
// text and model names), so everything it posts goes through `parsePageMessage` before the host acts on it.
import type { ServiceName } from '../core/types';

/** Status buckets a row falls in; `error` = no HTTP status reached the client or the stream broke after a 2xx. */
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'error';

export type ServiceFilter = 'all' | ServiceName;
/** `error` keeps every failure (4xx, 5xx and `error` rows), like the TUI's errors-only toggle. */
export type StatusFilter = 'all' | '2xx' | '4xx' | '5xx' | 'error';

export interface RequestFilters {
  service: ServiceFilter;
  status: StatusFilter;
  /** Exact session id, or '' for every session. */
  session: string;
}

export const DEFAULT_FILTERS: Readonly<RequestFilters> = Object.freeze({ service: 'all', status: 'all', session: '' });

export interface RowTokens {
  input: number;
  output: number;
  reasoning: number;
  cached: number;
  total: number;
}

/** One table row: an in-flight request (`active`) or a finished one. */
export interface RequestRow {
  /** Stable across updates; the page keys expanded rows on it and sends it back in `requestDetails`/`copy`. */
  key: string;
  active: boolean;
  service: ServiceName;
  /** Start time for active rows, end time for finished ones (ms since epoch). */
  timeMs: number;
  method: string;
  path: string;
  sessionId?: string;
  cwd?: string;
  model?: string;
  /** Model sent upstream, only when a mapping changed it. */
  mappedModel?: string;
  effort?: string;
  config?: string;
  provider?: string;
  /** Host (and port) of the upstream, never its path, query or credentials. */
  upstreamHost?: string;
  status?: number;
  statusClass?: StatusClass;
  durationMs?: number;
  ttfbMs?: number;
  tokens?: RowTokens;
  /** Upstream attempts made; 0 when the proxy answered before trying any. */
  attempts: number;
  chain: string[];
  /** The chain as a table (finished rows with more than one attempt). */
  attemptRows?: AttemptRow[];
  /** How the request went, in one sentence (`No upstream was tried: …`, `3 attempts across upstreams …`). */
  triesNote?: string;
  errorClass?: string;
  errorHint?: string;
}

/** One attempt of a request in the attempt table of an expanded row. */
export interface AttemptRow {
  /** 1-based. */
  n: number;
  config?: string;
  upstreamIndex?: number;
  /** Host (and port) only. */
  upstreamHost?: string;
  status?: number;
  result: 'ok' | 'failed' | 'skipped';
  /** `HTTP 502`, `HTTP 429 · cloudflare_timeout`, `connection error`, `does not serve gpt-5`. */
  outcome: string;
  model?: string;
  atMs?: number;
  durationMs?: number;
  /** What the upstream said (or the transport error), short. */
  message?: string;
  retryAfter?: string;
  cooldownSecs?: number;
}

/** An upstream's state now, the same text the tree and the status bar show. */
export interface UpstreamStateView {
  kind: 'healthy' | 'cooling' | 'failing' | 'exhausted' | 'unknown';
  text: string;
}

export interface RequestTotals {
  requests: number;
  active: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  totalTokens: number;
}

export interface ChartBucket {
  startMs: number;
  requests: number;
  errors: number;
  tokens: number;
}

export interface SourceStatus {
  service: ServiceName;
  ok: boolean;
  /** Why the source could not be read (shown as a banner row). */
  message?: string;
  /** The proxy's URL, for the empty-table hint. */
  url?: string;
}

export type HostMessage =
  | { type: 'init'; filters: RequestFilters; maxRows: number }
  | {
      type: 'update';
      nowMs: number;
      rows: RequestRow[];
      /** Rows left out by `maxRows`. */
      hiddenRows: number;
      totals: RequestTotals;
      bucketMs: number;
      buckets: ChartBucket[];
      /** Session ids seen in the data, newest first, for the session filter. */
      sessions: string[];
      sources: SourceStatus[];
      /** Current state of every upstream by `service/config#index`, for the attempt table. */
      upstreamStates?: Record<string, UpstreamStateView>;
    };

export type CopyWhat = 'sessionId' | 'chain' | 'row';

export type PageMessage =
  | { type: 'ready'; filters?: RequestFilters }
  | { type: 'setFilter'; filters: RequestFilters }
  | { type: 'refresh' }
  | { type: 'requestDetails'; key: string }
  | { type: 'copy'; key: string; what: CopyWhat }
  | { type: 'connect'; service: ServiceName };

export class PageMessageError extends Error {
  readonly code = 'WEBVIEW_BAD_MESSAGE';
}

const MAX_KEY = 200;
const MAX_SESSION = 300;
const SERVICE_FILTERS: readonly string[] = ['all', 'codex', 'claude'];
const STATUS_FILTERS: readonly string[] = ['all', '2xx', '4xx', '5xx', 'error'];
const COPY_WHATS: readonly string[] = ['sessionId', 'chain', 'row'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function boundedString(v: unknown, max: number, what: string): string {
  if (typeof v !== 'string' || v.length > max) throw new PageMessageError(`${what} must be a string of at most ${max} chars`);
  // Control characters never occur in session ids or row keys; refusing them keeps them out of logs and the clipboard.
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new PageMessageError(`${what} contains control characters`);
  return v;
}

/** Validates filters sent by the page (or restored from its saved state). */
export function parseFilters(v: unknown): RequestFilters {
  if (!isRecord(v)) throw new PageMessageError('filters must be an object');
  const { service, status, session } = v;
  if (typeof service !== 'string' || !SERVICE_FILTERS.includes(service)) throw new PageMessageError('bad service filter');
  if (typeof status !== 'string' || !STATUS_FILTERS.includes(status)) throw new PageMessageError('bad status filter');
  return {
    service: service as ServiceFilter,
    status: status as StatusFilter,
    session: boundedString(session, MAX_SESSION, 'session filter'),
  };
}

/** Checks a message posted by the page; throws `PageMessageError` for anything not in `PageMessage`. */
export function parsePageMessage(v: unknown): PageMessage {
  if (!isRecord(v) || typeof v['type'] !== 'string') throw new PageMessageError('message must be an object with a type');
  switch (v['type']) {
    case 'ready': {
      // Saved filters from an older page must not break the handshake: drop them and start from the defaults.
      if (v['filters'] === undefined) return { type: 'ready' };
      try {
        return { type: 'ready', filters: parseFilters(v['filters']) };
      } catch {
        return { type: 'ready' };
      }
    }
    case 'setFilter':
      return { type: 'setFilter', filters: parseFilters(v['filters']) };
    case 'refresh':
      return { type: 'refresh' };
    case 'requestDetails':
      return { type: 'requestDetails', key: boundedString(v['key'], MAX_KEY, 'key') };
    case 'copy': {
      const what = v['what'];
      if (typeof what !== 'string' || !COPY_WHATS.includes(what)) throw new PageMessageError('bad copy target');
      return { type: 'copy', key: boundedString(v['key'], MAX_KEY, 'key'), what: what as CopyWhat };
    }
    case 'connect': {
      const service = v['service'];
      if (service !== 'codex' && service !== 'claude') throw new PageMessageError('bad service');
      return { type: 'connect', service };
    }
    default:
      throw new PageMessageError(`unknown message type`);
  }
}

/** Filters restored from a serialized panel state; anything malformed falls back to the defaults. */
export function filtersFromState(state: unknown): RequestFilters {
  try {
    if (isRecord(state)) return parseFilters(state['filters']);
  } catch {
    // A state written by an older page version is not worth an error: start from the defaults.
  }
  return { ...DEFAULT_FILTERS };
}
