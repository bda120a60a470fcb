// Per-config load balancer: sticky selection, failure threshold, cooldowns with exponential backoff and the
// usage_exhausted soft preference. Semantics follow the seed's lb.rs; time is injected so tests never sleep.
import { Emitter } from './events';
import type { Event } from './events';
import type { ServiceConfig } from './types';

export const FAILURE_THRESHOLD = 3;
export const COOLDOWN_SECS = 30;

export interface CooldownBackoff {
  factor: number;
  max_secs: number;
}

/** min(base * factor^streak, cap) with the seed's edge cases (base 0 → 0, factor <= 1 → base, max 0 → no growth). */
export function effectiveCooldownSecs(base: number, streak: number, backoff: CooldownBackoff): number {
  if (base <= 0) return 0;
  if (!(backoff.factor > 1)) return base;
  const cap = backoff.max_secs <= 0 ? base : Math.max(backoff.max_secs, base);
  let secs = base;
  const steps = Math.min(Math.max(0, streak), 64);
  for (let i = 0; i < steps; i++) {
    secs *= backoff.factor;
    if (secs >= cap) return cap;
  }
  return Math.min(secs, cap);
}

/** A cooldown of one model on one upstream (a per-model 429 or "model not available"). */
export interface ModelCooldown {
  until: number;
  reason: string;
  streak: number;
}

export interface LbState {
  failure_counts: number[];
  /** Epoch ms. */
  cooldown_until: Array<number | undefined>;
  usage_exhausted: boolean[];
  last_good_index?: number;
  penalty_streak: number[];
  last_status: Array<number | undefined>;
  last_error: Array<string | undefined>;
  last_used_at_ms: Array<number | undefined>;
  /** The cooldown ended and no request has decided yet: the next outcome closes or re-opens the breaker. */
  half_open: boolean[];
  /** Cooldowns that concern one model only, keyed by the model sent upstream. */
  model_cooldowns: Array<Map<string, ModelCooldown> | undefined>;
}

export interface LbModelCooldownView {
  model: string;
  remaining_secs: number;
  reason: string;
}

export interface LbUpstreamView {
  failure_count: number;
  cooldown_remaining_secs?: number;
  usage_exhausted: boolean;
  penalty_streak: number;
  last_status?: number;
  last_error?: string;
  last_used_at_ms?: number;
  /** Epoch ms when the cooldown ends (with `cooldown_remaining_secs`). */
  cooldown_until_ms?: number;
  half_open?: boolean;
  model_cooldowns?: LbModelCooldownView[];
}

export interface LbConfigView {
  last_good_index?: number;
  upstreams: LbUpstreamView[];
}

function newState(n: number): LbState {
  return {
    failure_counts: new Array<number>(n).fill(0),
    cooldown_until: new Array<number | undefined>(n).fill(undefined),
    usage_exhausted: new Array<boolean>(n).fill(false),
    penalty_streak: new Array<number>(n).fill(0),
    last_status: new Array<number | undefined>(n).fill(undefined),
    last_error: new Array<string | undefined>(n).fill(undefined),
    last_used_at_ms: new Array<number | undefined>(n).fill(undefined),
    half_open: new Array<boolean>(n).fill(false),
    model_cooldowns: new Array<Map<string, ModelCooldown> | undefined>(n).fill(undefined),
  };
}

/** Below the failure threshold and not to be avoided. */
function healthyAt(st: LbState, i: number, avoid: ReadonlySet<number>): boolean {
  return (st.failure_counts[i] ?? 0) < FAILURE_THRESHOLD && !avoid.has(i);
}

function clearIndex(st: LbState, i: number, models: boolean): void {
  st.failure_counts[i] = 0;
  st.cooldown_until[i] = undefined;
  st.penalty_streak[i] = 0;
  st.last_error[i] = undefined;
  st.half_open[i] = false;
  if (models) st.model_cooldowns[i] = undefined;
}

/** Health of every config's upstreams, keyed by config name so it survives config reloads. */
export class LbStateStore {
  private readonly states = new Map<string, LbState>();
  private readonly changes = new Emitter<string>();
  /** One balancer per config object (a reload brings new ones): a view of this store, not one per request. */
  private readonly balancers = new WeakMap<ServiceConfig, LoadBalancer>();
  private readonly lists = new WeakMap<readonly ServiceConfig[], readonly LoadBalancer[]>();
  /** Bumped whenever a config's state is replaced (see `state()`): a balancer's cached state is good while it holds. */
  generation = 0;

  constructor(readonly now: () => number = Date.now) {}

  /** The load balancer of `config` over this store's state. */
  balancer(config: ServiceConfig): LoadBalancer {
    let lb = this.balancers.get(config);
    if (!lb) this.balancers.set(config, (lb = new LoadBalancer(config, this)));
    return lb;
  }

  /**
   * The balancers of a list of configs, in its order. A routing choice is one list per config snapshot, reused by
   * every request it serves: the list of balancers is made once for it.
   */
  balancersFor(configs: readonly ServiceConfig[]): readonly LoadBalancer[] {
    let lbs = this.lists.get(configs);
    if (!lbs) this.lists.set(configs, (lbs = configs.map((c) => this.balancer(c))));
    return lbs;
  }

  /** Get-or-create; a changed upstream count resets the whole entry, as the seed's ensure_len does. */
  state(configName: string, upstreamCount: number): LbState {
    const existing = this.states.get(configName);
    if (existing && existing.failure_counts.length === upstreamCount) return existing;
    this.generation++;
    this.states.set(configName, newState(upstreamCount));
    if (existing) this.emit(configName);
    return this.states.get(configName) as LbState;
  }

  /** Read-only projection for the admin API and the UI. */
  view(): Record<string, LbConfigView> {
    const now = this.now();
    const out: Record<string, LbConfigView> = {};
    for (const [name, st] of this.states) {
      const upstreams: LbUpstreamView[] = [];
      for (let i = 0; i < st.failure_counts.length; i++) {
        const u: LbUpstreamView = {
          failure_count: st.failure_counts[i] ?? 0,
          usage_exhausted: st.usage_exhausted[i] ?? false,
          penalty_streak: st.penalty_streak[i] ?? 0,
        };
        const until = st.cooldown_until[i];
        if (until !== undefined && until > now) {
          u.cooldown_remaining_secs = Math.ceil((until - now) / 1000);
          u.cooldown_until_ms = until;
        }
        if (st.half_open[i]) u.half_open = true;
        const mc = st.model_cooldowns[i];
        if (mc) {
          const list: LbModelCooldownView[] = [];
          for (const [model, c] of mc) {
            if (c.until > now) list.push({ model, remaining_secs: Math.ceil((c.until - now) / 1000), reason: c.reason });
          }
          if (list.length) u.model_cooldowns = list;
        }
        const status = st.last_status[i];
        if (status !== undefined) u.last_status = status;
        const err = st.last_error[i];
        if (err !== undefined) u.last_error = err;
        const used = st.last_used_at_ms[i];
        if (used !== undefined) u.last_used_at_ms = used;
        upstreams.push(u);
      }
      const cv: LbConfigView = { upstreams };
      if (st.last_good_index !== undefined) cv.last_good_index = st.last_good_index;
      out[name] = cv;
    }
    return out;
  }

  /**
   * Closes the breaker of one upstream (or of every upstream of the config): failure count 0, no cooldown, no
   * streak, no last error. `models` (default true) also clears per-model cooldowns: a manual reset does; a passing
   * /models probe proves nothing about one model's rate limit, so it does not. Returns how many upstreams had
   * anything to forget; emits a change when any had.
   */
  reset(configName: string, index?: number, opts: { models?: boolean } = {}): number {
    const st = this.states.get(configName);
    if (!st) return 0;
    const models = opts.models ?? true;
    let cleared = 0;
    for (let i = 0; i < st.failure_counts.length; i++) {
      if (index !== undefined && i !== index) continue;
      const had = (st.failure_counts[i] ?? 0) > 0 || st.cooldown_until[i] !== undefined || st.half_open[i] === true
        || (st.penalty_streak[i] ?? 0) > 0 || st.last_error[i] !== undefined || (models && (st.model_cooldowns[i]?.size ?? 0) > 0);
      clearIndex(st, i, models);
      if (had) cleared += 1;
    }
    if (cleared > 0) this.emit(configName);
    return cleared;
  }

  /** Fires with the config's name when its health changes (not on repeated successes). */
  readonly onDidChange: Event<string> = this.changes.event;

  /** @internal used by LoadBalancer; a broken listener never breaks request routing. */
  emit(configName: string): void {
    this.changes.fire(configName);
  }
}

/** Chooses an upstream inside one config and records the outcome of each attempt. */
export class LoadBalancer {
  private readonly now: () => number;

  constructor(
    readonly config: ServiceConfig,
    private readonly store: LbStateStore,
    now?: () => number,
  ) {
    this.now = now ?? store.now;
  }

  private cached: LbState | undefined;
  private cachedGeneration = -1;

  /** This config's state; looked up again only when the store replaced a state since the last look. */
  private st(): LbState {
    const store = this.store;
    if (this.cachedGeneration === store.generation && this.cached) return this.cached;
    const st = store.state(this.config.name, this.config.upstreams.length);
    this.cached = st;
    this.cachedGeneration = store.generation;
    return st;
  }

  /** Seed algorithm; `strict` returns undefined instead of forcing a cooled/avoided upstream. */
  select(avoid: ReadonlySet<number>, strict: boolean): number | undefined {
    const n = this.config.upstreams.length;
    if (n === 0) return undefined;
    const st = this.st();
    const now = this.now();
    let expired = false;
    for (let i = 0; i < n; i++) {
      const until = st.cooldown_until[i];
      if (until !== undefined && now >= until) {
        // Half-open: the streak is kept so that a failed trial re-opens the breaker with a longer cooldown.
        st.failure_counts[i] = 0;
        st.cooldown_until[i] = undefined;
        st.half_open[i] = true;
        expired = true;
      }
    }
    if (expired) this.store.emit(this.config.name);

    const sticky = st.last_good_index;
    if (sticky !== undefined && sticky < n && healthyAt(st, sticky, avoid) && !st.usage_exhausted[sticky]) return sticky;
    for (let i = 0; i < n; i++) if (healthyAt(st, i, avoid) && !st.usage_exhausted[i]) return i;
    for (let i = 0; i < n; i++) if (healthyAt(st, i, avoid)) return i;
    if (strict) return undefined;
    for (let i = 0; i < n; i++) if (!avoid.has(i)) return i;
    return 0;
  }

  /**
   * Hard penalty: always overwrites the cooldown (even with a shorter one) and grows the streak. With `model`, only
   * that model is cooled on this upstream (other models keep flowing). Returns the cooldown in seconds.
   */
  penalize(index: number, cooldownSecs: number, reason: string, backoff: CooldownBackoff, status?: number, model?: string): number {
    const st = this.st();
    if (index < 0 || index >= st.failure_counts.length) return 0;
    const now = this.now();
    if (model !== undefined) {
      const map = (st.model_cooldowns[index] ??= new Map());
      const prev = map.get(model);
      const streak = prev ? prev.streak : 0;
      const secs = effectiveCooldownSecs(cooldownSecs, streak, backoff);
      map.set(model, { until: now + secs * 1000, reason, streak: streak + 1 });
      if (status !== undefined) st.last_status[index] = status;
      st.last_used_at_ms[index] = now;
      this.store.emit(this.config.name);
      return secs;
    }
    const streak = st.penalty_streak[index] ?? 0;
    const eff = effectiveCooldownSecs(cooldownSecs, streak, backoff);
    st.failure_counts[index] = FAILURE_THRESHOLD;
    st.cooldown_until[index] = now + eff * 1000;
    st.penalty_streak[index] = streak + 1;
    st.half_open[index] = false;
    st.last_error[index] = reason;
    if (status !== undefined) st.last_status[index] = status;
    st.last_used_at_ms[index] = now;
    if (st.last_good_index === index) st.last_good_index = undefined;
    this.store.emit(this.config.name);
    return eff;
  }

  /** Success resets the upstream and makes it sticky; emits only when something was unhealthy before. */
  recordSuccess(index: number, status?: number, model?: string): void {
    const st = this.st();
    if (index < 0 || index >= st.failure_counts.length) return;
    const mc = st.model_cooldowns[index];
    const modelCleared = model !== undefined && mc !== undefined && mc.delete(model);
    const changed =
      modelCleared ||
      st.half_open[index] ||
      st.failure_counts[index] !== 0 ||
      st.cooldown_until[index] !== undefined ||
      st.penalty_streak[index] !== 0 ||
      st.last_good_index !== index ||
      st.last_error[index] !== undefined;
    st.failure_counts[index] = 0;
    st.cooldown_until[index] = undefined;
    st.penalty_streak[index] = 0;
    st.half_open[index] = false;
    st.last_good_index = index;
    st.last_error[index] = undefined;
    if (status !== undefined) st.last_status[index] = status;
    st.last_used_at_ms[index] = this.now();
    if (changed) this.store.emit(this.config.name);
  }

  /** Soft failure: counts toward the threshold; a threshold cooldown only ever extends an existing one. */
  recordFailure(
    index: number,
    backoff: CooldownBackoff,
    opts?: { status?: number; error?: string; thresholdCooldownSecs?: number },
  ): void {
    const st = this.st();
    if (index < 0 || index >= st.failure_counts.length) return;
    const now = this.now();
    // A failed trial after a cooldown re-opens the breaker at once (with the kept streak's longer cooldown).
    const count = st.half_open[index] ? FAILURE_THRESHOLD : (st.failure_counts[index] ?? 0) + 1;
    st.half_open[index] = false;
    st.failure_counts[index] = count;
    if (opts?.status !== undefined) st.last_status[index] = opts.status;
    if (opts?.error !== undefined) st.last_error[index] = opts.error;
    else if (opts?.status !== undefined) st.last_error[index] = `status_${opts.status}`;
    st.last_used_at_ms[index] = now;
    if (count >= FAILURE_THRESHOLD) {
      const base = opts?.thresholdCooldownSecs || COOLDOWN_SECS;
      const streak = st.penalty_streak[index] ?? 0;
      const until = now + effectiveCooldownSecs(base, streak, backoff) * 1000;
      const existing = st.cooldown_until[index];
      if (existing === undefined || until > existing) st.cooldown_until[index] = until;
      st.penalty_streak[index] = streak + 1;
      if (st.last_good_index === index) st.last_good_index = undefined;
    }
    this.store.emit(this.config.name);
  }

  /** Set by quota polling; only a soft preference inside the config. */
  setUsageExhausted(index: number, exhausted: boolean): void {
    const st = this.st();
    if (index < 0 || index >= st.usage_exhausted.length) return;
    if (st.usage_exhausted[index] === exhausted) return;
    st.usage_exhausted[index] = exhausted;
    this.store.emit(this.config.name);
  }

  /** True while the upstream's cooldown has not yet expired. */
  isCooling(index: number): boolean {
    const until = this.st().cooldown_until[index];
    return until !== undefined && this.now() < until;
  }

  /** Epoch ms when the upstream-wide cooldown ends, if one is running. */
  cooldownUntil(index: number): number | undefined {
    const until = this.st().cooldown_until[index];
    return until !== undefined && this.now() < until ? until : undefined;
  }

  /** The running cooldown of `model` on this upstream, if any (expired entries are dropped). */
  modelCooldown(index: number, model: string | undefined): ModelCooldown | undefined {
    if (model === undefined) return undefined;
    const map = this.st().model_cooldowns[index];
    const c = map?.get(model);
    if (!c) return undefined;
    if (this.now() < c.until) return c;
    map!.delete(model);
    return undefined;
  }

  /** True when the upstream took part in traffic without reaching the failure threshold (or is half-open). */
  isHealthy(index: number): boolean {
    const st = this.st();
    const until = st.cooldown_until[index];
    if (until !== undefined && this.now() < until) return false;
    return until !== undefined || (st.failure_counts[index] ?? 0) < FAILURE_THRESHOLD;
  }

  /** True when a success would change something (failures counted, cooling or half-open). */
  needsRecovery(index: number): boolean {
    const st = this.st();
    return (st.failure_counts[index] ?? 0) > 0 || st.cooldown_until[index] !== undefined || st.half_open[index] === true;
  }

  /** The soonest cooldown end when every upstream is cooling (else undefined), and the first recorded error. */
  coolingSummary(): { allCoolingUntil?: number; lastError?: string } {
    const st = this.st();
    let soonest: number | undefined;
    let all = st.cooldown_until.length > 0;
    for (let i = 0; i < st.cooldown_until.length; i++) {
      const until = this.cooldownUntil(i);
      if (until === undefined) all = false;
      else if (soonest === undefined || until < soonest) soonest = until;
    }
    const out: { allCoolingUntil?: number; lastError?: string } = {};
    if (all && soonest !== undefined) out.allCoolingUntil = soonest;
    const err = st.last_error.find((e) => e !== undefined);
    if (err !== undefined) out.lastError = err;
    return out;
  }

  /** True between the end of a cooldown and the next outcome on this upstream. */
  isHalfOpen(index: number): boolean {
    return this.st().half_open[index] === true;
  }

  /** Set by quota polling. */
  isUsageExhausted(index: number): boolean {
    return this.st().usage_exhausted[index] ?? false;
  }
}
