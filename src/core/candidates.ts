// Which upstream a request tries next, across its configs: healthy upstreams first (config order, the load
// balancer's choice inside each config), then — so that a request is never refused while something could serve it —
// the cooling ones, soonest cooldown end first, as trials (after a short wait when that end is near).
// Pure: state comes from the load balancers, time from `now`.
import { decideWhenAllCooling } from './failover';
import type { LoadBalancer } from './lb';
import { isModelSupported, isModelSupportedFor } from './modelRouting';
import type { RetryPlan } from './retry';
import type { ServiceConfig } from './types';
import { displayUrl } from './urlMask';

export type WalkStep =
  | { kind: 'pick'; ci: number; index: number; trial: boolean; sticky: boolean }
  | { kind: 'wait'; ms: number }
  | { kind: 'none' };

/** Why an upstream cannot serve this request right now. */
export interface BlockedUpstream {
  config: string;
  index: number;
  base_url: string;
  state: 'cooling' | 'model_cooling' | 'usage_exhausted' | 'unsupported_model' | 'tried';
  /** Seconds until the cooldown ends (cooling states only). */
  retry_in_secs?: number;
  reason?: string;
}

const NOTHING: ReadonlySet<number> = new Set();

export class CandidateWalk {
  // Per config, made on first use: most requests avoid nothing and find every upstream supported.
  private readonly avoid: Array<Set<number> | undefined> = [];
  private readonly unsupported: Array<Set<number> | undefined> = [];
  /** Configs that got a request (the provider layer's budget counts them). */
  readonly tried = new Set<number>();
  private waitedMs = 0;
  private stickyOffered = false;

  constructor(
    private readonly configs: readonly ServiceConfig[],
    private readonly lbs: readonly LoadBalancer[],
    private readonly model: string | undefined,
    private readonly plan: RetryPlan,
    private readonly now: () => number,
    /** The upstream a session failed over to: kept while its preferred config cannot serve. */
    private readonly sticky?: { ci: number; index: number },
  ) {
  }

  /** Marks an upstream as used by this request (it is not picked again unless retried in place). */
  markSent(ci: number, index: number): void {
    (this.avoid[ci] ??= new Set()).add(index);
    this.tried.add(ci);
  }

  /** Skips an upstream for the rest of the request without counting a request to its config. */
  skip(ci: number, index: number): void {
    (this.avoid[ci] ??= new Set()).add(index);
  }

  /** Number of upstreams skipped because they do not serve the model. */
  get unsupportedCount(): number {
    let n = 0;
    for (const s of this.unsupported) n += s?.size ?? 0;
    return n;
  }

  private allowed(ci: number): boolean {
    return this.tried.has(ci) || this.tried.size < this.plan.provider.max_attempts;
  }

  /** Supported and not exhausted; unsupported upstreams are remembered and never offered. */
  private servable(ci: number, i: number): boolean {
    if (this.avoid[ci]?.has(i) || this.unsupported[ci]?.has(i)) return false;
    const up = this.configs[ci]!.upstreams[i]!;
    if (this.model !== undefined && !isModelSupportedFor(up.supported_models, up.model_mapping, this.model)) {
      (this.unsupported[ci] ??= new Set()).add(i);
      return false;
    }
    return !this.lbs[ci]!.isUsageExhausted(i);
  }

  private healthyIn(ci: number): number | undefined {
    const lb = this.lbs[ci]!;
    const avoided = this.avoid[ci];
    // Copied only when something is to be skipped: usually the first pick serves.
    let skip: Set<number> | undefined = avoided ? new Set(avoided) : undefined;
    for (;;) {
      const idx = lb.select(skip ?? NOTHING, true);
      if (idx === undefined || skip?.has(idx)) return undefined;
      if (this.servable(ci, idx) && !lb.modelCooldown(idx, this.model)) return idx;
      (skip ??= new Set()).add(idx);
    }
  }

  /** End of the cooldown that keeps (ci, i) from serving this model, if any. */
  private coolingUntil(ci: number, i: number): number | undefined {
    const lb = this.lbs[ci]!;
    const a = lb.cooldownUntil(i);
    const b = lb.modelCooldown(i, this.model)?.until;
    if (a === undefined) return b;
    return b === undefined ? a : Math.max(a, b);
  }

  /** True when `ci` still has an upstream this request could try (healthy or cooling). */
  hasCandidateIn(ci: number): boolean {
    const n = this.configs[ci]!.upstreams.length;
    for (let i = 0; i < n; i++) if (this.servable(ci, i)) return true;
    return false;
  }

  /** True when a config other than `ci` may still be tried under the provider budget. */
  hasOtherConfig(ci: number): boolean {
    for (let c = 0; c < this.configs.length; c++) if (c !== ci && this.allowed(c) && this.hasCandidateIn(c)) return true;
    return false;
  }

  /** The next upstream to try, a wait, or nothing. */
  next(): WalkStep {
    let healthy: { ci: number; index: number } | undefined;
    for (let ci = 0; ci < this.configs.length && !healthy; ci++) {
      if (!this.allowed(ci)) continue;
      const idx = this.healthyIn(ci);
      if (idx !== undefined) healthy = { ci, index: idx };
    }
    if (!this.stickyOffered) {
      this.stickyOffered = true;
      const s = this.sticky;
      // Failback: the sticky upstream is used only while the preferred (first) config cannot serve.
      if (s && healthy && healthy.ci !== 0 && (s.ci !== healthy.ci || s.index !== healthy.index) && this.allowed(s.ci)
        && this.servable(s.ci, s.index) && this.lbs[s.ci]!.isHealthy(s.index) && !this.lbs[s.ci]!.modelCooldown(s.index, this.model)) {
        return { kind: 'pick', ci: s.ci, index: s.index, trial: false, sticky: true };
      }
    }
    if (healthy) return { kind: 'pick', ci: healthy.ci, index: healthy.index, trial: false, sticky: false };

    let soonest: { ci: number; index: number; until: number } | undefined;
    for (let ci = 0; ci < this.configs.length; ci++) {
      if (!this.allowed(ci)) continue;
      const n = this.configs[ci]!.upstreams.length;
      for (let i = 0; i < n; i++) {
        if (!this.servable(ci, i)) continue;
        const until = this.coolingUntil(ci, i) ?? this.now();
        if (!soonest || until < soonest.until) soonest = { ci, index: i, until };
      }
    }
    if (!soonest) return { kind: 'none' };
    const now = this.now();
    const d = decideWhenAllCooling({ ...this.plan, max_wait_ms: this.plan.max_wait_ms - this.waitedMs }, soonest.until, now);
    if (d.action === 'wait') {
      this.waitedMs += d.ms;
      return { kind: 'wait', ms: d.ms };
    }
    return { kind: 'pick', ci: soonest.ci, index: soonest.index, trial: soonest.until > now, sticky: false };
  }

  /** Every upstream of every config with the reason it cannot serve now (for the 503 body). */
  blocked(): BlockedUpstream[] {
    const out: BlockedUpstream[] = [];
    const now = this.now();
    this.configs.forEach((cfg, ci) => {
      const lb = this.lbs[ci]!;
      cfg.upstreams.forEach((up, i) => {
        const b: BlockedUpstream = { config: cfg.name, index: i, base_url: displayUrl(up.base_url), state: 'tried' };
        const model = lb.modelCooldown(i, this.model);
        const until = lb.cooldownUntil(i) ?? model?.until;
        if (until !== undefined) b.retry_in_secs = Math.ceil((until - now) / 1000);
        if (this.model !== undefined && !isModelSupported(up.supported_models, up.model_mapping, this.model)) b.state = 'unsupported_model';
        else if (lb.isUsageExhausted(i)) b.state = 'usage_exhausted';
        else if (lb.cooldownUntil(i) !== undefined) b.state = 'cooling';
        else if (model) {
          b.state = 'model_cooling';
          b.reason = model.reason;
        }
        out.push(b);
      });
    });
    return out;
  }
}
