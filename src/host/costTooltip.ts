// Cost lines for the tree tooltips (service and config nodes), read from the usage rollups of the admin snapshot.
// Costs are estimates from the [pricing] table; without any priced request there are no lines at all.
import type { DashboardSnapshot } from '../core/dashboard';
import { formatCost } from '../core/pricing';
import type { UsageBucket } from '../core/usageRollup';

const DAY_MS = 86_400_000;

function hasCost(b: UsageBucket | undefined): b is UsageBucket {
  return !!b && !!b.cost && Object.keys(b.cost).length > 0;
}

function todayOf(days: Array<[number, UsageBucket]> | undefined, nowMs: number): UsageBucket | undefined {
  const today = Math.floor(nowMs / DAY_MS);
  return days?.find(([d]) => d === today)?.[1];
}

function lines(today: UsageBucket | undefined, total: UsageBucket | undefined): string[] {
  const out: string[] = [];
  if (hasCost(today)) out.push(`cost today (UTC): ${formatCost(today.cost)} over ${today.requests_priced ?? 0} priced request(s) (estimate)`);
  if (hasCost(total)) out.push(`cost since start: ${formatCost(total.cost)} (estimate)`);
  return out;
}

/** Cost lines of a whole service: today and since the proxy started. */
export function serviceCostLines(snap: DashboardSnapshot | undefined, nowMs: number): string[] {
  const r = snap?.usage_rollup;
  if (!r) return [];
  return lines(todayOf(r.by_day, nowMs), r.since_start);
}

/** Cost lines of one config (only configs among the rollup's top entries have per-day data). */
export function configCostLines(snap: DashboardSnapshot | undefined, config: string, nowMs: number): string[] {
  const r = snap?.usage_rollup;
  if (!r) return [];
  const total = r.by_config.find(([k]) => k === config)?.[1];
  return lines(todayOf(r.by_config_day[config], nowMs), total);
}
