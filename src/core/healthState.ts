// Health-check bookkeeping of one service: progress of the running check per config and the newest probe results.
// Every mutator returns whether anything changed, so the owner (ProxyState) decides when to notify listeners.

const MAX_HEALTH_RECORDS_PER_CONFIG = 200;

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

/** Health-check progress and results by config name. */
export class HealthBook {
  private readonly health = new Map<string, ConfigHealth>();
  private readonly checks = new Map<string, HealthCheckStatus>();

  constructor(private readonly now: () => number) {}

  /** Starts a check for `config` unless one is running; resets that config's health records. */
  tryBegin(config: string, total: number): boolean {
    const cur = this.checks.get(config);
    if (cur && !cur.done) return false;
    const now = this.now();
    this.checks.set(config, {
      started_at_ms: now, updated_at_ms: now, total, completed: 0, ok: 0, err: 0,
      cancel_requested: false, canceled: false, done: false,
    });
    this.health.set(config, { checked_at_ms: now, upstreams: [] });
    return true;
  }

  /** Appends one probe result (keeping the 200 newest) and advances the running check. */
  recordResult(config: string, r: UpstreamHealth): void {
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
  }

  /** Asks a running check to stop; false when none is running. */
  requestCancel(config: string): boolean {
    const s = this.checks.get(config);
    if (!s || s.done) return false;
    s.cancel_requested = true;
    s.updated_at_ms = this.now();
    return true;
  }

  /** True while a cancel was requested and the check has not finished. */
  isCancelRequested(config: string): boolean {
    const s = this.checks.get(config);
    return !!s && s.cancel_requested && !s.done;
  }

  /** Marks a check as done; false when there is no check for `config`. */
  finish(config: string, canceled: boolean): boolean {
    const s = this.checks.get(config);
    if (!s) return false;
    s.done = true;
    s.canceled = canceled;
    s.updated_at_ms = this.now();
    return true;
  }

  /** Health-check progress by config (copies). */
  checkStatuses(): Record<string, HealthCheckStatus> {
    const out: Record<string, HealthCheckStatus> = {};
    for (const [k, v] of this.checks) out[k] = { ...v };
    return out;
  }

  /** Latest probe results by config (copies). */
  results(): Record<string, ConfigHealth> {
    const out: Record<string, ConfigHealth> = {};
    for (const [k, v] of this.health) out[k] = { checked_at_ms: v.checked_at_ms, upstreams: v.upstreams.map((u) => ({ ...u })) };
    return out;
  }
}
