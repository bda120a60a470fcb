// In-memory runtime state of one proxied service: active/recent requests, per-session overrides and stats,
// usage rollups and health-check bookkeeping. Mirrors the seed's `ProxyState` (state.rs); nothing here is
// persisted except what `exportPersistent()` hands to the caller.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type {
  ActiveRequest,
  FinishedRequest,
  RetryInfo,
  ServiceName,
  UsageMetrics,
} from './types';
import type { SessionCwdResolver } from './sessionCwd';

const DAY_MS = 86_400_000;
const MAX_HEALTH_RECORDS_PER_CONFIG = 200;

export interface UsageBucket {
  requests_total: number;
  requests_error: number;
  duration_ms_total: number;
  requests_with_usage: number;
  duration_ms_with_usage_total: number;
  generation_ms_total: number;
  ttfb_ms_total: number;
  ttfb_samples: number;
  usage: UsageMetrics;
}

/** Tuples serialise as `[key, bucket]` arrays, exactly like the seed's `Vec<(K, UsageBucket)>`. */
export interface UsageRollupView {
  since_start: UsageBucket;
  by_day: Array<[number, UsageBucket]>;
  by_config: Array<[string, UsageBucket]>;
  by_config_day: Record<string, Array<[number, UsageBucket]>>;
  by_provider: Array<[string, UsageBucket]>;
  by_provider_day: Record<string, Array<[number, UsageBucket]>>;
}

export interface SessionStats {
  turns_total: number;
  last_model?: string;
  last_reasoning_effort?: string;
  last_provider_id?: string;
  last_config_name?: string;
  last_usage?: UsageMetrics;
  total_usage: UsageMetrics;
  turns_with_usage: number;
  last_status?: number;
  last_duration_ms?: number;
  last_ended_at_ms?: number;
  last_seen_ms: number;
  cwd?: string;
}

export interface UpstreamHealth {
  base_url: string;
  ok?: boolean;
  status_code?: number;
  latency_ms?: number;
  error?: string;
  /** When this probe finished (epoch ms). */
  checked_at_ms?: number;
}

export interface ConfigHealth {
  checked_at_ms: number;
  upstreams: UpstreamHealth[];
}

export interface HealthCheckStatus {
  started_at_ms: number;
  updated_at_ms: number;
  total: number;
  completed: number;
  ok: number;
  err: number;
  cancel_requested: boolean;
  canceled: boolean;
  done: boolean;
  last_error?: string;
}

export interface ConfigMeta {
  enabled?: boolean;
  level?: number;
}

export interface PersistentState {
  global_config?: string;
  config_meta: Record<string, ConfigMeta>;
}

/** `health` is an addition to the seed's event set so health views can refresh too. */
export type StateChangeKind = 'begin' | 'route' | 'finish' | 'override' | 'meta' | 'health';
const EVENTS: Readonly<Record<StateChangeKind, { readonly kind: StateChangeKind }>> = Object.freeze({
  begin: Object.freeze({ kind: 'begin' as const }),
  route: Object.freeze({ kind: 'route' as const }),
  finish: Object.freeze({ kind: 'finish' as const }),
  override: Object.freeze({ kind: 'override' as const }),
  meta: Object.freeze({ kind: 'meta' as const }),
  health: Object.freeze({ kind: 'health' as const }),
});

export interface BeginRequestParams {
  session_id?: string;
  cwd?: string;
  model?: string;
  reasoning_effort?: string;
  method: string;
  path: string;
  started_at_ms: number;
}

export interface FinishRequestParams {
  id: number;
  status_code: number;
  duration_ms: number;
  ended_at_ms?: number;
  usage?: UsageMetrics;
  retry?: RetryInfo;
  ttfb_ms?: number;
  mapped_model?: string;
  error_class?: string;
  error_hint?: string;
  config_name?: string;
  provider_id?: string;
  upstream_base_url?: string;
}

export interface ProxyStateOptions {
  now?: () => number;
  recentMax?: number;
  sessionTtlMs?: number;
  rollupKeepDays?: number;
  /** When given, `prune()` also prunes its cache, sparing sessions with active requests. */
  cwdResolver?: SessionCwdResolver;
}

interface SessionOverride {
  value: string;
  updated_at_ms: number;
  last_seen_ms: number;
}

interface UsageRollup {
  since_start: UsageBucket;
  by_day: Map<number, UsageBucket>;
  by_config: Map<string, UsageBucket>;
  by_config_day: Map<string, Map<number, UsageBucket>>;
  by_provider: Map<string, UsageBucket>;
  by_provider_day: Map<string, Map<number, UsageBucket>>;
}

/** Reads a positive integer from the environment, or undefined when unset or invalid. */
export function envPositiveInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** A zeroed usage record. */
export function emptyUsage(): UsageMetrics {
  return { input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, total_tokens: 0 };
}

/** Adds `b` into `a` in place; cache fields only appear once some request reported them. */
export function addUsage(a: UsageMetrics, b: UsageMetrics): void {
  a.input_tokens += b.input_tokens || 0;
  a.output_tokens += b.output_tokens || 0;
  a.reasoning_tokens += b.reasoning_tokens || 0;
  a.total_tokens += b.total_tokens || 0;
  if (b.cached_input_tokens !== undefined) a.cached_input_tokens = (a.cached_input_tokens ?? 0) + b.cached_input_tokens;
  if (b.cache_creation_input_tokens !== undefined) {
    a.cache_creation_input_tokens = (a.cache_creation_input_tokens ?? 0) + b.cache_creation_input_tokens;
  }
}

function emptyBucket(): UsageBucket {
  return {
    requests_total: 0, requests_error: 0, duration_ms_total: 0, requests_with_usage: 0,
    duration_ms_with_usage_total: 0, generation_ms_total: 0, ttfb_ms_total: 0, ttfb_samples: 0, usage: emptyUsage(),
  };
}

function cloneBucket(b: UsageBucket): UsageBucket {
  return { ...b, usage: { ...b.usage } };
}

interface RollupEvent {
  ended_at_ms: number;
  status_code: number;
  duration_ms: number;
  config_name: string;
  provider_id: string;
  usage: UsageMetrics | undefined;
  ttfb_ms: number | undefined;
}

function recordBucket(b: UsageBucket, e: RollupEvent): void {
  b.requests_total += 1;
  if (e.status_code >= 400) b.requests_error += 1;
  b.duration_ms_total += e.duration_ms;
  if (!e.usage) return;
  b.requests_with_usage += 1;
  b.duration_ms_with_usage_total += e.duration_ms;
  const ttfb = e.ttfb_ms;
  b.generation_ms_total += ttfb !== undefined && ttfb > 0 && ttfb < e.duration_ms ? e.duration_ms - ttfb : e.duration_ms;
  if (ttfb !== undefined && ttfb > 0) {
    b.ttfb_ms_total += ttfb;
    b.ttfb_samples += 1;
  }
  addUsage(b.usage, e.usage);
}

function bucketIn<K>(m: Map<K, UsageBucket>, k: K): UsageBucket {
  let b = m.get(k);
  if (!b) {
    b = emptyBucket();
    m.set(k, b);
  }
  return b;
}

function dayMapIn(m: Map<string, Map<number, UsageBucket>>, k: string): Map<number, UsageBucket> {
  let d = m.get(k);
  if (!d) {
    d = new Map();
    m.set(k, d);
  }
  return d;
}

function lastDays(m: Map<number, UsageBucket>, days: number): Array<[number, UsageBucket]> {
  const keys = [...m.keys()].sort((a, b) => a - b);
  return keys.slice(Math.max(0, keys.length - days)).map((k) => [k, cloneBucket(m.get(k) as UsageBucket)]);
}

function topByTokens(m: Map<string, UsageBucket>, topN: number): Array<[string, UsageBucket]> {
  return [...m.entries()]
    .sort((a, b) => b[1].usage.total_tokens - a[1].usage.total_tokens || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, Math.max(0, topN))
    .map(([k, v]) => [k, cloneBucket(v)]);
}

/** Fixed-capacity ring, newest first on read: avoids the O(n) `unshift` of a plain array per request. */
class RecentRing {
  private readonly buf: Array<FinishedRequest | undefined>;
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<FinishedRequest | undefined>(capacity);
  }

  push(r: FinishedRequest): void {
    this.buf[this.head] = r;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  list(limit: number): FinishedRequest[] {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.size);
    const out: FinishedRequest[] = new Array<FinishedRequest>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.buf[(this.head - 1 - i + this.capacity * 2) % this.capacity] as FinishedRequest;
    }
    return out;
  }
}

/** Runtime state of one service; every method is synchronous and cheap enough for the request path. */
export class ProxyState {
  private readonly now: () => number;
  private readonly sessionTtlMs: number;
  private readonly rollupKeepDays: number;
  private readonly cwdResolver: SessionCwdResolver | undefined;
  private nextId = 1;
  private readonly active = new Map<number, ActiveRequest>();
  private readonly recent: RecentRing;
  private readonly effortOverrides = new Map<string, SessionOverride>();
  private readonly configOverrides = new Map<string, SessionOverride>();
  private globalConfig: string | undefined;
  private readonly configMeta = new Map<string, ConfigMeta & { updated_at_ms: number }>();
  private readonly stats = new Map<string, SessionStats>();
  private readonly rollup: UsageRollup = {
    since_start: emptyBucket(), by_day: new Map(), by_config: new Map(), by_config_day: new Map(),
    by_provider: new Map(), by_provider_day: new Map(),
  };
  private readonly health = new Map<string, ConfigHealth>();
  private readonly checks = new Map<string, HealthCheckStatus>();
  // Copy-on-write, so emitting (three times per request) never copies the array.
  private listeners: ReadonlyArray<(e: { kind: StateChangeKind }) => void> = [];

  constructor(readonly service: ServiceName, opts: ProxyStateOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.recent = new RecentRing(clamp(Math.floor(opts.recentMax ?? envPositiveInt('CODEX_HELPER_RECENT_FINISHED_MAX') ?? 2000), 200, 20_000));
    const ttlSecs = envPositiveInt('CODEX_HELPER_SESSION_OVERRIDE_TTL_SECS') ?? 1800;
    this.sessionTtlMs = Math.max(0, opts.sessionTtlMs ?? ttlSecs * 1000);
    this.rollupKeepDays = Math.max(1, Math.floor(opts.rollupKeepDays ?? envPositiveInt('CODEX_HELPER_USAGE_ROLLUP_KEEP_DAYS') ?? 60));
    this.cwdResolver = opts.cwdResolver;
  }

  /** Subscribes to coarse change notifications; returns the unsubscribe function. */
  onDidChange(listener: (e: { kind: StateChangeKind }) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(kind: StateChangeKind): void {
    if (this.listeners.length === 0) return;
    const e = EVENTS[kind];
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken UI listener must never break the request path.
      }
    }
  }

  // ---- requests -------------------------------------------------------------------------------------------

  /** Registers an in-flight request and returns its id (1, 2, …). */
  beginRequest(p: BeginRequestParams): number {
    const id = this.nextId++;
    const r: ActiveRequest = { id, service: this.service, method: p.method, path: p.path, started_at_ms: p.started_at_ms };
    if (p.session_id !== undefined) r.session_id = p.session_id;
    if (p.cwd !== undefined) r.cwd = p.cwd;
    if (p.model !== undefined) r.model = p.model;
    if (p.reasoning_effort !== undefined) r.reasoning_effort = p.reasoning_effort;
    this.active.set(id, r);
    this.emit('begin');
    return id;
  }

  /** Records the upstream currently being tried (called at every attempt). */
  updateRequestRoute(id: number, config_name: string, provider_id: string | undefined, upstream_base_url: string): void {
    const r = this.active.get(id);
    if (!r) return;
    r.config_name = config_name;
    if (provider_id !== undefined) r.provider_id = provider_id;
    else delete r.provider_id;
    r.upstream_base_url = upstream_base_url;
    this.emit('route');
  }

  /** Moves a request from active to recent and accounts for it; unknown ids are ignored (idempotent). */
  finishRequest(p: FinishRequestParams): FinishedRequest | undefined {
    const a = this.active.get(p.id);
    if (!a) return undefined;
    this.active.delete(p.id);
    const f: FinishedRequest = {
      id: a.id, service: a.service, method: a.method, path: a.path,
      status_code: p.status_code, duration_ms: p.duration_ms, ended_at_ms: p.ended_at_ms ?? a.started_at_ms + p.duration_ms,
    };
    if (a.session_id !== undefined) f.session_id = a.session_id;
    if (a.cwd !== undefined) f.cwd = a.cwd;
    if (a.model !== undefined) f.model = a.model;
    if (p.mapped_model !== undefined) f.mapped_model = p.mapped_model;
    if (a.reasoning_effort !== undefined) f.reasoning_effort = a.reasoning_effort;
    const config = p.config_name ?? a.config_name;
    const provider = p.provider_id ?? a.provider_id;
    const baseUrl = p.upstream_base_url ?? a.upstream_base_url;
    if (config !== undefined) f.config_name = config;
    if (provider !== undefined) f.provider_id = provider;
    if (baseUrl !== undefined) f.upstream_base_url = baseUrl;
    if (p.usage !== undefined) f.usage = p.usage;
    if (p.retry !== undefined) f.retry = p.retry;
    if (p.ttfb_ms !== undefined) f.ttfb_ms = p.ttfb_ms;
    if (p.error_class !== undefined) f.error_class = p.error_class;
    if (p.error_hint !== undefined) f.error_hint = p.error_hint;

    this.recordRollup({
      ended_at_ms: f.ended_at_ms, status_code: f.status_code, duration_ms: f.duration_ms,
      config_name: config ?? '-', provider_id: provider ?? '-', usage: f.usage, ttfb_ms: f.ttfb_ms,
    });
    if (f.session_id !== undefined) this.recordSessionStats(f.session_id, f);
    this.recent.push(f);
    this.emit('finish');
    return f;
  }

  private recordSessionStats(sid: string, f: FinishedRequest): void {
    let s = this.stats.get(sid);
    if (!s) {
      s = { turns_total: 0, total_usage: emptyUsage(), turns_with_usage: 0, last_seen_ms: f.ended_at_ms };
      this.stats.set(sid, s);
    }
    s.turns_total += 1;
    if (f.model !== undefined) s.last_model = f.model;
    if (f.reasoning_effort !== undefined) s.last_reasoning_effort = f.reasoning_effort;
    if (f.provider_id !== undefined) s.last_provider_id = f.provider_id;
    if (f.config_name !== undefined) s.last_config_name = f.config_name;
    if (f.cwd !== undefined) s.cwd = f.cwd;
    if (f.usage) {
      s.last_usage = { ...f.usage };
      addUsage(s.total_usage, f.usage);
      s.turns_with_usage += 1;
    }
    s.last_status = f.status_code;
    s.last_duration_ms = f.duration_ms;
    s.last_ended_at_ms = f.ended_at_ms;
    s.last_seen_ms = f.ended_at_ms;
  }

  private recordRollup(e: RollupEvent): void {
    const r = this.rollup;
    const day = Math.floor(e.ended_at_ms / DAY_MS);
    recordBucket(r.since_start, e);
    recordBucket(bucketIn(r.by_day, day), e);
    recordBucket(bucketIn(r.by_config, e.config_name), e);
    recordBucket(bucketIn(dayMapIn(r.by_config_day, e.config_name), day), e);
    recordBucket(bucketIn(r.by_provider, e.provider_id), e);
    recordBucket(bucketIn(dayMapIn(r.by_provider_day, e.provider_id), day), e);
  }

  /** In-flight requests, oldest first. */
  listActive(): ActiveRequest[] {
    return [...this.active.values()].map((r) => ({ ...r })).sort((a, b) => a.started_at_ms - b.started_at_ms);
  }

  /** The most recent finished requests, newest first. */
  listRecent(limit: number): FinishedRequest[] {
    return this.recent.list(limit);
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Capacity of the recent ring after clamping (200..20000). */
  get recentCapacity(): number {
    return this.recent.capacity;
  }

  // ---- session overrides ----------------------------------------------------------------------------------

  private setOverride(m: Map<string, SessionOverride>, sid: string, value: string | undefined): void {
    const v = value?.trim();
    if (!v) m.delete(sid);
    else {
      const now = this.now();
      m.set(sid, { value: v, updated_at_ms: now, last_seen_ms: now });
    }
    this.emit('override');
  }

  private static listOverrides(m: Map<string, SessionOverride>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of m) out[k] = v.value;
    return out;
  }

  /** Sets (or, with undefined/blank, clears) the reasoning-effort override of a session. */
  setSessionEffort(sid: string, effort: string | undefined): void {
    this.setOverride(this.effortOverrides, sid, effort);
  }

  /** The effort override of a session, if any. */
  getSessionEffort(sid: string): string | undefined {
    return this.effortOverrides.get(sid)?.value;
  }

  /** All effort overrides by session id. */
  listSessionEfforts(): Record<string, string> {
    return ProxyState.listOverrides(this.effortOverrides);
  }

  /** Pins (or, with undefined/blank, unpins) a session to a config. */
  setSessionConfig(sid: string, config: string | undefined): void {
    this.setOverride(this.configOverrides, sid, config);
  }

  /** The config a session is pinned to, if any. */
  getSessionConfig(sid: string): string | undefined {
    return this.configOverrides.get(sid)?.value;
  }

  /** All session config pins by session id. */
  listSessionConfigs(): Record<string, string> {
    return ProxyState.listOverrides(this.configOverrides);
  }

  /** Keeps existing overrides of a session alive; never creates one. */
  touchSession(sid: string): void {
    const e = this.effortOverrides.get(sid);
    const c = this.configOverrides.get(sid);
    if (!e && !c) return;
    const now = this.now();
    if (e) e.last_seen_ms = now;
    if (c) c.last_seen_ms = now;
  }

  /** Sets or clears the global config override (no TTL). */
  setGlobalConfig(name: string | undefined): void {
    const v = name?.trim();
    this.globalConfig = v ? v : undefined;
    this.emit('override');
  }

  /** The global config override, if any. */
  getGlobalConfig(): string | undefined {
    return this.globalConfig;
  }

  /** The config a request must use: the session pin wins over the global override. */
  pinnedConfig(sid?: string): { name: string; source: 'session' | 'global' } | undefined {
    if (sid !== undefined) {
      const s = this.configOverrides.get(sid)?.value;
      if (s) return { name: s, source: 'session' };
    }
    return this.globalConfig ? { name: this.globalConfig, source: 'global' } : undefined;
  }

  // ---- config meta ----------------------------------------------------------------------------------------

  private metaEntry(config: string): ConfigMeta & { updated_at_ms: number } {
    let m = this.configMeta.get(config);
    if (!m) {
      m = { updated_at_ms: this.now() };
      this.configMeta.set(config, m);
    }
    return m;
  }

  private settleMeta(config: string, m: ConfigMeta & { updated_at_ms: number }): void {
    m.updated_at_ms = this.now();
    if (m.enabled === undefined && m.level === undefined) this.configMeta.delete(config);
    this.emit('meta');
  }

  /** Overrides (or, with undefined, un-overrides) whether a config takes part in routing. */
  setConfigEnabled(config: string, enabled: boolean | undefined): void {
    const m = this.metaEntry(config);
    if (enabled === undefined) delete m.enabled;
    else m.enabled = enabled;
    this.settleMeta(config, m);
  }

  /** Overrides (or, with undefined, un-overrides) a config's level, clamped to 1..10. */
  setConfigLevel(config: string, level: number | undefined): void {
    const m = this.metaEntry(config);
    if (level === undefined || !Number.isFinite(level)) delete m.level;
    else m.level = clamp(Math.round(level), 1, 10);
    this.settleMeta(config, m);
  }

  /** Current config meta overrides by config name. */
  getConfigMeta(): Record<string, ConfigMeta> {
    const out: Record<string, ConfigMeta> = {};
    for (const [k, v] of this.configMeta) {
      const m: ConfigMeta = {};
      if (v.enabled !== undefined) m.enabled = v.enabled;
      if (v.level !== undefined) m.level = v.level;
      out[k] = m;
    }
    return out;
  }

  /** What should survive a restart (the caller decides where to store it). */
  exportPersistent(): PersistentState {
    const out: PersistentState = { config_meta: this.getConfigMeta() };
    if (this.globalConfig !== undefined) out.global_config = this.globalConfig;
    return out;
  }

  /** Restores what `exportPersistent()` produced; invalid entries are skipped. */
  importPersistent(p: Partial<PersistentState>): void {
    this.globalConfig = typeof p.global_config === 'string' && p.global_config.trim() ? p.global_config.trim() : undefined;
    this.configMeta.clear();
    const now = this.now();
    for (const [k, v] of Object.entries(p.config_meta ?? {})) {
      if (!v || typeof v !== 'object') continue;
      const m: ConfigMeta & { updated_at_ms: number } = { updated_at_ms: now };
      if (typeof v.enabled === 'boolean') m.enabled = v.enabled;
      if (typeof v.level === 'number' && Number.isFinite(v.level)) m.level = clamp(Math.round(v.level), 1, 10);
      if (m.enabled !== undefined || m.level !== undefined) this.configMeta.set(k, m);
    }
    this.emit('meta');
    this.emit('override');
  }

  // ---- stats, rollups, pruning ----------------------------------------------------------------------------

  /** Per-session statistics (copies). */
  sessionStats(): Record<string, SessionStats> {
    const out: Record<string, SessionStats> = {};
    for (const [k, v] of this.stats) out[k] = { ...v, total_usage: { ...v.total_usage } };
    return out;
  }

  /** Seed `prune_periodic`: expire idle session data (sparing sessions with active requests) and old rollup days. */
  prune(): void {
    const now = this.now();
    const busy = new Set<string>();
    for (const r of this.active.values()) if (r.session_id !== undefined) busy.add(r.session_id);
    if (this.sessionTtlMs > 0) {
      const cutoff = now - this.sessionTtlMs;
      let changed = false;
      for (const m of [this.effortOverrides, this.configOverrides]) {
        for (const [k, v] of m) {
          if (v.last_seen_ms < cutoff && !busy.has(k)) {
            m.delete(k);
            changed = true;
          }
        }
      }
      if (changed) this.emit('override');
    }
    const minDay = Math.floor(now / DAY_MS) - (this.rollupKeepDays - 1);
    for (const d of this.rollup.by_day.keys()) if (d < minDay) this.rollup.by_day.delete(d);
    for (const dm of [this.rollup.by_config_day, this.rollup.by_provider_day]) {
      for (const [k, days] of dm) {
        for (const d of days.keys()) if (d < minDay) days.delete(d);
        if (days.size === 0) dm.delete(k);
      }
    }
    this.cwdResolver?.prune(busy);
    if (this.sessionTtlMs > 0) {
      const cutoff = now - this.sessionTtlMs;
      for (const [k, v] of this.stats) if (v.last_seen_ms < cutoff && !busy.has(k)) this.stats.delete(k);
    }
  }

  /** Usage rollups: the last `days` days, and the `topN` configs/providers by total tokens. */
  usageRollupView(topN: number, days: number): UsageRollupView {
    const r = this.rollup;
    const byConfig = topByTokens(r.by_config, topN);
    const byProvider = topByTokens(r.by_provider, topN);
    const byConfigDay: Record<string, Array<[number, UsageBucket]>> = {};
    for (const [k] of byConfig) byConfigDay[k] = lastDays(r.by_config_day.get(k) ?? new Map(), days);
    const byProviderDay: Record<string, Array<[number, UsageBucket]>> = {};
    for (const [k] of byProvider) byProviderDay[k] = lastDays(r.by_provider_day.get(k) ?? new Map(), days);
    return {
      since_start: cloneBucket(r.since_start),
      by_day: lastDays(r.by_day, days),
      by_config: byConfig,
      by_config_day: byConfigDay,
      by_provider: byProvider,
      by_provider_day: byProviderDay,
    };
  }

  /**
   * Seed `replay_usage_from_requests_log`: rebuilds only the rollups from the tail of requests.jsonl.
   * Skipped when the rollups already hold requests or the file is missing; returns the number of events replayed.
   */
  replayRequestsLog(
    file: string,
    providerByBaseUrl: Record<string, string>,
    opts: { maxBytes?: number; maxLines?: number } = {},
  ): number {
    if (this.rollup.since_start.requests_total > 0) return 0;
    const maxBytes = Math.max(1, opts.maxBytes ?? envPositiveInt('CODEX_HELPER_USAGE_REPLAY_MAX_BYTES') ?? 8 * 1024 * 1024);
    const maxLines = Math.max(1, opts.maxLines ?? envPositiveInt('CODEX_HELPER_USAGE_REPLAY_MAX_LINES') ?? 20_000);
    let buf: Buffer;
    let start: number;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return 0;
    }
    try {
      const size = fstatSync(fd).size;
      start = Math.max(0, size - maxBytes);
      buf = Buffer.allocUnsafe(size - start);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, start + off);
        if (n <= 0) break;
        off += n;
      }
      buf = buf.subarray(0, off);
    } catch {
      return 0;
    } finally {
      closeSync(fd);
    }
    // Drop the partial first line at the byte level, so a cut multi-byte character cannot abort the replay.
    if (start > 0) {
      const nl = buf.indexOf(0x0a);
      buf = nl < 0 ? buf.subarray(buf.length) : buf.subarray(nl + 1);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      return 0;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    let count = 0;
    for (const line of lines.slice(Math.max(0, lines.length - maxLines))) {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      const e = toReplayEvent(v, this.service, providerByBaseUrl);
      if (!e) continue;
      this.recordRollup(e);
      count += 1;
    }
    return count;
  }

  // ---- health checks --------------------------------------------------------------------------------------

  /** Starts a check for `config` unless one is running; resets that config's health records. */
  tryBeginHealthCheck(config: string, total: number): boolean {
    const cur = this.checks.get(config);
    if (cur && !cur.done) return false;
    const now = this.now();
    this.checks.set(config, {
      started_at_ms: now, updated_at_ms: now, total, completed: 0, ok: 0, err: 0,
      cancel_requested: false, canceled: false, done: false,
    });
    this.health.set(config, { checked_at_ms: now, upstreams: [] });
    this.emit('health');
    return true;
  }

  /** Appends one probe result (keeping the 200 newest) and advances the running check. */
  recordHealthCheckResult(config: string, r: UpstreamHealth): void {
    const now = this.now();
    let h = this.health.get(config);
    if (!h) {
      h = { checked_at_ms: now, upstreams: [] };
      this.health.set(config, h);
    }
    h.upstreams.push({ ...r });
    if (h.upstreams.length > MAX_HEALTH_RECORDS_PER_CONFIG) h.upstreams.splice(0, h.upstreams.length - MAX_HEALTH_RECORDS_PER_CONFIG);
    h.checked_at_ms = Math.max(h.checked_at_ms, now);
    const s = this.checks.get(config);
    if (s) {
      s.completed += 1;
      if (r.ok === true) s.ok += 1;
      else if (r.ok === false) {
        s.err += 1;
        if (s.last_error === undefined && r.error !== undefined) s.last_error = r.error;
      }
      s.updated_at_ms = now;
    }
    this.emit('health');
  }

  /** Asks a running check to stop; false when none is running. */
  requestCancelHealthCheck(config: string): boolean {
    const s = this.checks.get(config);
    if (!s || s.done) return false;
    s.cancel_requested = true;
    s.updated_at_ms = this.now();
    this.emit('health');
    return true;
  }

  /** True while a cancel was requested and the check has not finished. */
  isHealthCheckCancelRequested(config: string): boolean {
    const s = this.checks.get(config);
    return !!s && s.cancel_requested && !s.done;
  }

  /** Marks a check as done. */
  finishHealthCheck(config: string, canceled: boolean): void {
    const s = this.checks.get(config);
    if (!s) return;
    s.done = true;
    s.canceled = canceled;
    s.updated_at_ms = this.now();
    this.emit('health');
  }

  /** Health-check progress by config (copies). */
  healthChecks(): Record<string, HealthCheckStatus> {
    const out: Record<string, HealthCheckStatus> = {};
    for (const [k, v] of this.checks) out[k] = { ...v };
    return out;
  }

  /** Latest probe results by config (copies). */
  configHealth(): Record<string, ConfigHealth> {
    const out: Record<string, ConfigHealth> = {};
    for (const [k, v] of this.health) out[k] = { checked_at_ms: v.checked_at_ms, upstreams: v.upstreams.map((u) => ({ ...u })) };
    return out;
  }
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function toUsage(v: unknown): UsageMetrics | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const u: UsageMetrics = {
    input_tokens: num(o.input_tokens) ?? 0,
    output_tokens: num(o.output_tokens) ?? 0,
    reasoning_tokens: num(o.reasoning_tokens) ?? 0,
    total_tokens: num(o.total_tokens) ?? 0,
  };
  const cached = num(o.cached_input_tokens);
  if (cached !== undefined) u.cached_input_tokens = cached;
  const creation = num(o.cache_creation_input_tokens);
  if (creation !== undefined) u.cache_creation_input_tokens = creation;
  return u;
}

function toReplayEvent(v: unknown, service: ServiceName, providerByBaseUrl: Record<string, string>): RollupEvent | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (o.service !== service) return undefined;
  const ended = num(o.timestamp_ms);
  const status = num(o.status_code);
  const duration = num(o.duration_ms);
  if (ended === undefined || status === undefined || duration === undefined) return undefined;
  const baseUrl = typeof o.upstream_base_url === 'string' ? o.upstream_base_url : undefined;
  const provider =
    typeof o.provider_id === 'string' && o.provider_id
      ? o.provider_id
      : (baseUrl !== undefined && Object.prototype.hasOwnProperty.call(providerByBaseUrl, baseUrl) ? providerByBaseUrl[baseUrl] : undefined);
  return {
    ended_at_ms: ended,
    status_code: status,
    duration_ms: duration,
    config_name: typeof o.config_name === 'string' && o.config_name ? o.config_name : '-',
    provider_id: provider || '-',
    usage: toUsage(o.usage),
    ttfb_ms: num(o.ttfb_ms),
  };
}
