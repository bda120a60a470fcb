// Per-config load balancer: sticky selection, failure threshold, cooldowns with exponential backoff and the
// usage_exhausted soft preference. Semantics follow the seed's lb.rs; time is injected so tests never sleep.
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
}

export interface LbUpstreamView {
  failure_count: number;
  cooldown_remaining_secs?: number;
  usage_exhausted: boolean;
  penalty_streak: number;
  last_status?: number;
  last_error?: string;
  last_used_at_ms?: number;
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
  };
}

/** Health of every config's upstreams, keyed by config name so it survives config reloads. */
export class LbStateStore {
  private readonly states = new Map<string, LbState>();
  private readonly listeners = new Set<(configName: string) => void>();

  constructor(readonly now: () => number = Date.now) {}

  /** Get-or-create; a changed upstream count resets the whole entry, as the seed's ensure_len does. */
  state(configName: string, upstreamCount: number): LbState {
    const existing = this.states.get(configName);
    if (existing && existing.failure_counts.length === upstreamCount) return existing;
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
        if (until !== undefined && until > now) u.cooldown_remaining_secs = Math.ceil((until - now) / 1000);
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

  /** Fires when a config's health changes (not on repeated successes); returns an unsubscribe function. */
  onDidChange(listener: (configName: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** @internal used by LoadBalancer. */
  emit(configName: string): void {
    for (const l of this.listeners) {
      try {
        l(configName);
      } catch {
        // A broken listener must not break request routing.
      }
    }
  }

  /**
   * Forgets the failures of one upstream (or of every upstream of the config): failure count, cooldown, penalty
   * streak and last error. Returns how many upstreams had anything to forget; emits a change when any had.
   */
  reset(configName: string, index?: number): number {
    const st = this.states.get(configName);
    if (!st) return 0;
    let cleared = 0;
    for (let i = 0; i < st.failure_counts.length; i++) {
      if (index !== undefined && i !== index) continue;
      const had = (st.failure_counts[i] ?? 0) > 0 || st.cooldown_until[i] !== undefined || (st.penalty_streak[i] ?? 0) > 0
        || st.last_error[i] !== undefined;
      st.failure_counts[i] = 0;
      st.cooldown_until[i] = undefined;
      st.penalty_streak[i] = 0;
      st.last_error[i] = undefined;
      if (had) cleared += 1;
    }
    if (cleared > 0) this.emit(configName);
    return cleared;
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

  private st(): LbState {
    return this.store.state(this.config.name, this.config.upstreams.length);
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
        // The streak is deliberately kept so a flapping upstream keeps backing off.
        st.failure_counts[i] = 0;
        st.cooldown_until[i] = undefined;
        expired = true;
      }
    }
    if (expired) this.store.emit(this.config.name);

    const healthy = (i: number): boolean => (st.failure_counts[i] ?? 0) < FAILURE_THRESHOLD && !avoid.has(i);
    const sticky = st.last_good_index;
    if (sticky !== undefined && sticky < n && healthy(sticky) && !st.usage_exhausted[sticky]) return sticky;
    for (let i = 0; i < n; i++) if (healthy(i) && !st.usage_exhausted[i]) return i;
    for (let i = 0; i < n; i++) if (healthy(i)) return i;
    if (strict) return undefined;
    for (let i = 0; i < n; i++) if (!avoid.has(i)) return i;
    return 0;
  }

  /** Hard penalty: always overwrites the cooldown (even with a shorter one) and grows the streak. */
  penalize(index: number, cooldownSecs: number, reason: string, backoff: CooldownBackoff, status?: number): void {
    const st = this.st();
    if (index < 0 || index >= st.failure_counts.length) return;
    const now = this.now();
    const streak = st.penalty_streak[index] ?? 0;
    const eff = effectiveCooldownSecs(cooldownSecs, streak, backoff);
    st.failure_counts[index] = FAILURE_THRESHOLD;
    st.cooldown_until[index] = now + eff * 1000;
    st.penalty_streak[index] = streak + 1;
    st.last_error[index] = reason;
    if (status !== undefined) st.last_status[index] = status;
    st.last_used_at_ms[index] = now;
    if (st.last_good_index === index) st.last_good_index = undefined;
    this.store.emit(this.config.name);
  }

  /** Success resets the upstream and makes it sticky; emits only when something was unhealthy before. */
  recordSuccess(index: number, status?: number): void {
    const st = this.st();
    if (index < 0 || index >= st.failure_counts.length) return;
    const changed =
      st.failure_counts[index] !== 0 ||
      st.cooldown_until[index] !== undefined ||
      st.penalty_streak[index] !== 0 ||
      st.last_good_index !== index ||
      st.last_error[index] !== undefined;
    st.failure_counts[index] = 0;
    st.cooldown_until[index] = undefined;
    st.penalty_streak[index] = 0;
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
    const count = (st.failure_counts[index] ?? 0) + 1;
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
}
