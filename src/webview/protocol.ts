// Typed messages between the recent-requests webview and its host. The page is untrusted (it renders upstream error
// text and model names), so everything it posts goes through `parsePageMessage` before the host acts on it.
import type { ServiceName } from '../core/types';
import type { StatsReport, StatsRange } from '../core/statsReport';

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
  /** Free text: every word must appear in the model, config, provider, session, status, path or error class. */
  text?: string;
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
  /** Where the request was routed and why, when not simply the preferred upstream (failover, sticky session, trial). */
  routeNote?: string;
  /** Estimated cost of the request, when a price rule matched. */
  cost?: { amount: number; currency: string };
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
  /** Estimated cost of the listed requests by currency (absent when none was priced). */
  cost?: Record<string, number>;
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
  | { type: 'export'; format: ExportFormat }
  | { type: 'clearRecent' }
  | { type: 'openStats' }
  | { type: 'connect'; service: ServiceName };

export type ExportFormat = 'csv' | 'json';

export class PageMessageError extends Error {
  readonly code = 'WEBVIEW_BAD_MESSAGE';
}

const MAX_KEY = 200;
const MAX_SESSION = 300;
const SERVICE_FILTERS: readonly string[] = ['all', 'codex', 'claude'];
const STATUS_FILTERS: readonly string[] = ['all', '2xx', '4xx', '5xx', 'error'];
const COPY_WHATS: readonly string[] = ['sessionId', 'chain', 'row'];
const MAX_TEXT = 200;

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
  const out: RequestFilters = {
    service: service as ServiceFilter,
    status: status as StatusFilter,
    session: boundedString(session, MAX_SESSION, 'session filter'),
  };
  // Optional: pages and saved states from before the text filter have none.
  if (v['text'] !== undefined) out.text = boundedString(v['text'], MAX_TEXT, 'text filter');
  return out;
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
    case 'export': {
      const format = v['format'];
      if (format !== 'csv' && format !== 'json') throw new PageMessageError('export format must be csv or json');
      return { type: 'export', format };
    }
    case 'clearRecent':
      return { type: 'clearRecent' };
    case 'openStats':
      return { type: 'openStats' };
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

// ---- Stats view ---------------------------------------------------------------------------------------------------

export type StatsServiceFilter = ServiceFilter;

export interface StatsViewState {
  range: StatsRange;
  service: StatsServiceFilter;
}

export const DEFAULT_STATS_STATE: Readonly<StatsViewState> = Object.freeze({ range: '24h', service: 'all' });

/** What the Stats page is told about prices, so it can say where the estimate comes from. */
export interface PricingSummary {
  rules: number;
  /** `as_of` dates and sources written next to the prices, de-duplicated. */
  notes: string[];
}

/** One live session of a proxy (sessions idle past the override TTL are forgotten by the proxy). */
export interface SessionCostRow {
  service: ServiceName;
  id: string;
  cwd?: string;
  turns: number;
  tokens: number;
  cost?: Record<string, number>;
  lastModel?: string;
  lastSeenMs: number;
}

export type StatsHostMessage =
  | { type: 'init'; state: StatsViewState }
  | { type: 'stats'; nowMs: number; report: StatsReport; sources: SourceStatus[]; pricing: PricingSummary; sessions: SessionCostRow[] };

export type StatsPageMessage =
  | { type: 'ready'; state?: StatsViewState }
  | { type: 'setState'; state: StatsViewState }
  | { type: 'refresh' }
  | { type: 'openRequests' }
  | { type: 'openConfig' };

const RANGES: readonly string[] = ['1h', '24h', '7d', '30d'];

/** Validates the Stats page's range and service choice. */
export function parseStatsState(v: unknown): StatsViewState {
  if (!isRecord(v)) throw new PageMessageError('state must be an object');
  const { range, service } = v;
  if (typeof range !== 'string' || !RANGES.includes(range)) throw new PageMessageError('bad range');
  if (typeof service !== 'string' || !SERVICE_FILTERS.includes(service)) throw new PageMessageError('bad service');
  return { range: range as StatsRange, service: service as StatsServiceFilter };
}

/** Checks a message posted by the Stats page. */
export function parseStatsPageMessage(v: unknown): StatsPageMessage {
  if (!isRecord(v) || typeof v['type'] !== 'string') throw new PageMessageError('message must be an object with a type');
  switch (v['type']) {
    case 'ready':
      try {
        return v['state'] === undefined ? { type: 'ready' } : { type: 'ready', state: parseStatsState(v['state']) };
      } catch {
        return { type: 'ready' };
      }
    case 'setState':
      return { type: 'setState', state: parseStatsState(v['state']) };
    case 'refresh':
    case 'openRequests':
    case 'openConfig':
      return { type: v['type'] };
    default:
      throw new PageMessageError('unknown message type');
  }
}

/** The Stats state restored from a serialized panel; anything malformed falls back to the defaults. */
export function statsStateFromSaved(state: unknown): StatsViewState {
  try {
    if (isRecord(state)) return parseStatsState(state['state']);
  } catch {
    // An older or foreign state: start from the defaults.
  }
  return { ...DEFAULT_STATS_STATE };
}
