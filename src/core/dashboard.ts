// Dashboard projection of `ProxyState` (seed `dashboard_core`): the snapshot served by the admin API and shown
// in the webview, plus the 5-minute / 1-hour window statistics.
import type { FailoverStatus } from './routes';
import type { ActiveRequest, FinishedRequest } from './types';
import type {
  ConfigHealth,
  HealthCheckStatus,
  ProxyState,
  SessionStats,
  UsageRollupView,
} from './state';

export interface WindowStats {
  total: number;
  ok_2xx: number;
  err_429: number;
  err_4xx: number;
  err_5xx: number;
  p50_ms?: number;
  p95_ms?: number;
  /** 0 when the window is empty (the seed sends null there). */
  avg_attempts: number;
  /** 0 when the window is empty (the seed sends null there). */
  retry_rate: number;
  top_provider?: [string, number];
  top_config?: [string, number];
  /** Estimated cost by currency of the priced requests in the window (an addition; absent when none). */
  cost?: Record<string, number>;
}

export interface DashboardSnapshot {
  refreshed_at_ms: number;
  active: ActiveRequest[];
  recent: FinishedRequest[];
  global_override?: string;
  session_config_overrides: Record<string, string>;
  session_effort_overrides: Record<string, string>;
  session_stats: Record<string, SessionStats>;
  config_health: Record<string, ConfigHealth>;
  health_checks: Record<string, HealthCheckStatus>;
  lb_view: Record<string, unknown>;
  usage_rollup: UsageRollupView;
  stats_5m: WindowStats;
  stats_1h: WindowStats;
  /** Set while traffic is served by another config than the preferred one. */
  failover?: FailoverStatus;
}

const STATS_SAMPLE = 2000;
const USAGE_TOP_N = 12;

function percentile(sorted: number[], p: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  return sorted[Math.min(n - 1, Math.ceil(p * (n - 1)))];
}

/** Most frequent key; ties go to the key seen first (the newer request), unlike the seed's hash order. */
function top(counts: Map<string, number>): [string, number] | undefined {
  let best: [string, number] | undefined;
  for (const [k, v] of counts) if (!best || v > best[1]) best = [k, v];
  return best;
}

/** Counts and latencies of the requests that ended within `windowMs` before `nowMs`. */
export function windowStats(recent: FinishedRequest[], nowMs: number, windowMs: number): WindowStats {
  const cutoff = nowMs - windowMs;
  const out: WindowStats = { total: 0, ok_2xx: 0, err_429: 0, err_4xx: 0, err_5xx: 0, avg_attempts: 0, retry_rate: 0 };
  const okLatency: number[] = [];
  const byProvider = new Map<string, number>();
  const byConfig = new Map<string, number>();
  let attemptsSum = 0;
  let retried = 0;
  for (const r of recent) {
    if (r.ended_at_ms < cutoff) continue;
    out.total += 1;
    if (r.cost) {
      out.cost ??= {};
      out.cost[r.cost.currency] = (out.cost[r.cost.currency] ?? 0) + r.cost.amount;
    }
    const attempts = r.retry?.attempts ?? 1;
    attemptsSum += attempts;
    if (attempts > 1) retried += 1;
    const s = r.status_code;
    if (s === 429) out.err_429 += 1;
    else if (s >= 400 && s < 500) out.err_4xx += 1;
    else if (s >= 500 && s < 600) out.err_5xx += 1;
    if (s >= 200 && s < 300) {
      out.ok_2xx += 1;
      okLatency.push(r.duration_ms);
      const pid = r.provider_id?.trim();
      if (pid) byProvider.set(pid, (byProvider.get(pid) ?? 0) + 1);
      const cfg = r.config_name?.trim();
      if (cfg) byConfig.set(cfg, (byConfig.get(cfg) ?? 0) + 1);
    }
  }
  okLatency.sort((a, b) => a - b);
  const p50 = percentile(okLatency, 0.5);
  const p95 = percentile(okLatency, 0.95);
  if (p50 !== undefined) out.p50_ms = p50;
  if (p95 !== undefined) out.p95_ms = p95;
  if (out.total > 0) {
    out.avg_attempts = attemptsSum / out.total;
    out.retry_rate = retried / out.total;
  }
  const tp = top(byProvider);
  const tc = top(byConfig);
  if (tp) out.top_provider = tp;
  if (tc) out.top_config = tc;
  return out;
}

/** Everything the dashboard shows, in the seed's `DashboardSnapshot` JSON shape. */
export function buildDashboardSnapshot(
  state: ProxyState,
  lbView: Record<string, unknown>,
  opts: { recentLimit: number; statsDays: number; nowMs: number; failover?: FailoverStatus },
): DashboardSnapshot {
  const limit = Math.min(STATS_SAMPLE, Math.max(1, Math.floor(opts.recentLimit) || 1));
  const days = Math.min(365, Math.max(1, Math.floor(opts.statsDays) || 1));
  const sample = state.listRecent(STATS_SAMPLE);
  const snap: DashboardSnapshot = {
    refreshed_at_ms: opts.nowMs,
    active: state.listActive(),
    recent: sample.slice(0, limit),
    session_config_overrides: state.listSessionConfigs(),
    session_effort_overrides: state.listSessionEfforts(),
    session_stats: state.sessionStats(),
    config_health: state.configHealth(),
    health_checks: state.healthChecks(),
    lb_view: lbView,
    usage_rollup: state.usageRollupView(USAGE_TOP_N, days),
    stats_5m: windowStats(sample, opts.nowMs, 5 * 60_000),
    stats_1h: windowStats(sample, opts.nowMs, 60 * 60_000),
  };
  const g = state.getGlobalConfig();
  if (g !== undefined) snap.global_override = g;
  if (opts.failover) snap.failover = opts.failover;
  return snap;
}
