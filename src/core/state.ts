// In-memory runtime state of one proxied service: active/recent requests, per-session overrides and stats,
// usage rollups and health-check bookkeeping. Mirrors the seed's `ProxyState` (state.rs); nothing here is
// persisted except what `exportPersistent()` hands to the caller. Rollups live in usageRollup.ts and health-check
// bookkeeping in healthState.ts; their types are re-exported here so callers keep one import.
import type { ActiveRequest, FinishedRequest, RetryInfo, ServiceName, UsageMetrics } from './types';
import { RecentRing } from './recentRing';
import { HealthBook } from './healthState';
import type { ConfigHealth, HealthCheckStatus, UpstreamHealth } from './healthState';
import { UsageRollups, addUsage, emptyUsage } from './usageRollup';
import type { TailReader, UsageRollupView } from './usageRollup';
import { addCost } from './pricing';
import type { RequestCost } from './pricing';
import { Emitter } from './events';
import type { Event } from './events';
import { StatsSeries } from './statsSeries';
import type { StatsData } from './statsSeries';

export { addUsage, emptyUsage } from './usageRollup';
export type { UsageBucket, UsageRollupView } from './usageRollup';
export type { ConfigHealth, HealthCheckStatus, UpstreamHealth } from './healthState';

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
  /** Estimated cost of the session's priced turns, by currency (absent until one was priced). */
  total_cost?: Record<string, number>;
  last_cost?: RequestCost;
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
  /** The upstream's own error message (an in-band error) or what broke the stream. */
  error_message?: string;
  route_note?: string;
  config_name?: string;
  provider_id?: string;
  upstream_base_url?: string;
}

/** The session-cwd cache (src/io/sessionCwd.ts), pruned with the state. */
export interface CwdCache {
  prune(keep?: ReadonlySet<string>): void;
}

export interface ProxyStateOptions {
  now?: () => number;
  recentMax?: number;
  sessionTtlMs?: number;
  rollupKeepDays?: number;
  /** When given, `prune()` also prunes its cache, sparing sessions with active requests. */
  cwdResolver?: CwdCache;
  /** Prices a finished request (model as asked, model as sent upstream); undefined when no price applies. */
  price?: PriceFn;
  /**
   * When given, `finishRequestSoon()` queues its accounting and asks for `flush` to be called later (the proxy calls
   * it a few milliseconds on, once a burst's requests and first answer bytes are out). Without it the accounting
   * happens at once. Either way, every read of the state sees every request finished so far.
   */
  scheduleFlush?: (flush: () => void) => void;
  /**
   * Runs the owner's waiting work that ends in `finishRequestSoon()` (the proxy's records of answers that ended in
   * the burst): every read, and every flush, runs it first, so what finished before the read is seen.
   */
  settlePending?: () => void;
  /** A queued finish that threw (it never stops the others queued with it). */
  onFlushError?: (err: unknown) => void;
}

export type PriceFn = (service: ServiceName, usage: UsageMetrics | undefined, model: string | undefined, mappedModel: string | undefined) => RequestCost | undefined;

interface SessionOverride {
  value: string;
  updated_at_ms: number;
  last_seen_ms: number;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** Runtime state of one service; every method is synchronous and cheap enough for the request path. */
export class ProxyState {
  private readonly now: () => number;
  private readonly sessionTtlMs: number;
  private readonly rollupKeepDays: number;
  private readonly cwdResolver: CwdCache | undefined;
  private nextId = 1;
  private readonly active = new Map<number, ActiveRequest>();
  private readonly recent: RecentRing;
  private readonly effortOverrides = new Map<string, SessionOverride>();
  private readonly configOverrides = new Map<string, SessionOverride>();
  private globalConfig: string | undefined;
  private readonly configMeta = new Map<string, ConfigMeta & { updated_at_ms: number }>();
  private readonly stats = new Map<string, SessionStats>();
  private readonly rollup = new UsageRollups();
  private readonly series: StatsSeries;
  private readonly price: PriceFn | undefined;
  private readonly health: HealthBook;
  // Fired three times per request: the emitter's list is copy-on-write, and a broken UI listener never breaks
  // the request path.
  private readonly changes = new Emitter<{ kind: StateChangeKind }>();
  /** Finishes waiting for the next flush (see `finishRequestSoon()`), in the order they came. */
  private queued: Array<{ p: FinishRequestParams; then: ((f: FinishedRequest | undefined) => void) | undefined }> = [];
  private readonly scheduleFlush: ((flush: () => void) => void) | undefined;
  private readonly settlePending: (() => void) | undefined;
  private readonly onFlushError: ((err: unknown) => void) | undefined;
  private readonly flushQueued = (): void => this.flushFinished();

  constructor(readonly service: ServiceName, opts: ProxyStateOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.recent = new RecentRing(clamp(Math.floor(opts.recentMax ?? 2000), 200, 20_000));
    this.sessionTtlMs = Math.max(0, opts.sessionTtlMs ?? 1800 * 1000);
    this.rollupKeepDays = Math.max(1, Math.floor(opts.rollupKeepDays ?? 60));
    this.cwdResolver = opts.cwdResolver;
    this.price = opts.price;
    this.series = new StatsSeries(service, this.rollupKeepDays);
    this.health = new HealthBook(this.now);
    this.scheduleFlush = opts.scheduleFlush;
    this.settlePending = opts.settlePending;
    this.onFlushError = opts.onFlushError;
  }

  /** Coarse change notifications. */
  readonly onDidChange: Event<{ kind: StateChangeKind }> = this.changes.event;

  private emit(kind: StateChangeKind): void {
    if (this.changes.hasListeners) this.changes.fire(EVENTS[kind]);
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

  /**
   * `finishRequest(p)`, then `then` with its result — now, or at the next flush when the state was made with
   * `scheduleFlush`. Reads flush first, so what a caller can see never lags behind.
   */
  finishRequestSoon(p: FinishRequestParams, then?: (f: FinishedRequest | undefined) => void): void {
    if (!this.scheduleFlush) {
      const f = this.finishRequest(p);
      then?.(f);
      return;
    }
    this.queued.push({ p, then });
    if (this.queued.length === 1) this.scheduleFlush(this.flushQueued);
  }

  /** Runs the queued finishes now (reads call it first). */
  flushFinished(): void {
    this.settlePending?.();
    if (this.queued.length === 0) return;
    const queued = this.queued;
    this.queued = [];
    for (const q of queued) {
      try {
        const f = this.finishRequest(q.p);
        q.then?.(f);
      } catch (e) {
        this.onFlushError?.(e);
      }
    }
  }

  /** Moves a request from active to recent and accounts for it; unknown ids are ignored (idempotent). */
  finishRequest(p: FinishRequestParams): FinishedRequest | undefined {
    this.flushFinished();
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
    if (p.error_message !== undefined) f.error_message = p.error_message;
    if (p.route_note !== undefined) f.route_note = p.route_note;
    const cost = f.usage ? this.priceSafely(f.usage, f.model, f.mapped_model) : undefined;
    if (cost) f.cost = cost;
    // The finished entry is the rollups' event as it is.
    this.rollup.record(f);
    this.series.record(f);
    if (f.session_id !== undefined) this.recordSessionStats(f.session_id, f);
    this.recent.push(f);
    this.emit('finish');
    return f;
  }

  private priceSafely(usage: UsageMetrics, model: string | undefined, mapped: string | undefined): RequestCost | undefined {
    try {
      return this.price?.(this.service, usage, model, mapped);
    } catch {
      // Pricing is an estimate on the side; it must never break accounting.
      return undefined;
    }
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
    if (f.cost) {
      s.last_cost = { ...f.cost };
      s.total_cost ??= {};
      addCost(s.total_cost, f.cost.currency, f.cost.amount);
    }
    s.last_status = f.status_code;
    s.last_duration_ms = f.duration_ms;
    s.last_ended_at_ms = f.ended_at_ms;
    s.last_seen_ms = f.ended_at_ms;
  }

  /** In-flight requests, oldest first. */
  listActive(): ActiveRequest[] {
    this.flushFinished();
    return [...this.active.values()].map((r) => ({ ...r })).sort((a, b) => a.started_at_ms - b.started_at_ms);
  }

  /** The most recent finished requests, newest first. */
  listRecent(limit: number): FinishedRequest[] {
    this.flushFinished();
    return this.recent.list(limit);
  }

  get activeCount(): number {
    this.flushFinished();
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
    this.flushFinished();
    const out: Record<string, SessionStats> = {};
    for (const [k, v] of this.stats) {
      const c: SessionStats = { ...v, total_usage: { ...v.total_usage } };
      if (v.total_cost) c.total_cost = { ...v.total_cost };
      out[k] = c;
    }
    return out;
  }

  /** Seed `prune_periodic`: expire idle session data (sparing sessions with active requests) and old rollup days. */
  prune(): void {
    this.flushFinished();
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
    this.rollup.prune(now, this.rollupKeepDays);
    this.series.prune(now);
    this.cwdResolver?.prune(busy);
    if (this.sessionTtlMs > 0) {
      const cutoff = now - this.sessionTtlMs;
      for (const [k, v] of this.stats) if (v.last_seen_ms < cutoff && !busy.has(k)) this.stats.delete(k);
    }
  }

  /** The Stats view's cells of the last `days` days (copies). */
  statsData(days: number): StatsData {
    this.flushFinished();
    return this.series.data(this.now(), days);
  }

  /** Empties the list of recent requests (rollups, stats and session totals stay). */
  clearRecent(): number {
    this.flushFinished();
    const n = this.recent.clear();
    this.emit('finish');
    return n;
  }

  /** Usage rollups: the last `days` days, and the `topN` configs/providers by total tokens. */
  usageRollupView(topN: number, days: number): UsageRollupView {
    this.flushFinished();
    return this.rollup.view(topN, days);
  }

  /**
   * Seed `replay_usage_from_requests_log`: rebuilds only the rollups from the tail of requests.jsonl.
   * Skipped when the rollups already hold requests or the file is missing; returns the number of events replayed.
   */
  replayRequestsLog(
    readTail: TailReader,
    providerByBaseUrl: Record<string, string>,
    opts: { maxBytes?: number; maxLines?: number } = {},
  ): number {
    return this.rollup.replayRequestsLog(readTail, this.service, providerByBaseUrl, opts, (e) => {
      if (!e.cost && e.usage) {
        const cost = this.priceSafely(e.usage, e.model, e.mapped_model);
        if (cost) e.cost = cost;
      }
      this.series.record(e);
    });
  }

  // ---- health checks --------------------------------------------------------------------------------------

  /** Starts a check for `config` unless one is running; resets that config's health records. */
  tryBeginHealthCheck(config: string, total: number): boolean {
    if (!this.health.tryBegin(config, total)) return false;
    this.emit('health');
    return true;
  }

  /** Appends one probe result (keeping the 200 newest) and advances the running check. */
  recordHealthCheckResult(config: string, r: UpstreamHealth): void {
    this.health.recordResult(config, r);
    this.emit('health');
  }

  /** Asks a running check to stop; false when none is running. */
  requestCancelHealthCheck(config: string): boolean {
    if (!this.health.requestCancel(config)) return false;
    this.emit('health');
    return true;
  }

  /** True while a cancel was requested and the check has not finished. */
  isHealthCheckCancelRequested(config: string): boolean {
    return this.health.isCancelRequested(config);
  }

  /** Marks a check as done. */
  finishHealthCheck(config: string, canceled: boolean): void {
    if (this.health.finish(config, canceled)) this.emit('health');
  }

  /** Health-check progress by config (copies). */
  healthChecks(): Record<string, HealthCheckStatus> {
    return this.health.checkStatuses();
  }

  /** Latest probe results by config (copies). */
  configHealth(): Record<string, ConfigHealth> {
    return this.health.results();
  }
}
