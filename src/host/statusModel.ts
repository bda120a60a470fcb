// What the status bar item of a service shows, decided on plain data (statusBar.ts only applies it).
import type { LbConfigView } from '../core/lb';
import type { FinishedRequest } from '../core/types';
import type { ServiceData } from './treeModel';
import { hostOf, serviceTitle, upstreamState } from './treeModel';

export interface StatusBarModel {
  text: string;
  tooltip: string;
  /** Every upstream that could serve a request is cooling down. */
  warning: boolean;
}

/** `config:url` of a retry-chain entry (`name:https://… (idx=0) status=502 …`). */
function chainTarget(entry: string): string {
  const i = entry.indexOf(' (idx=');
  return i >= 0 ? entry.slice(0, i) : entry.split(' ')[0] ?? entry;
}

/** The newest request that moved to another upstream or config, if any. */
export function lastFailover(recent: readonly FinishedRequest[]): { request: FinishedRequest; from: string; to: string } | undefined {
  for (const r of recent) {
    const chain = r.retry?.upstream_chain;
    if (!chain || chain.length < 2) continue;
    const first = chainTarget(chain[0]!);
    const moved = chain.map(chainTarget).find((t) => t !== first && !t.startsWith('all_upstreams_avoided'));
    if (!moved) continue;
    const to = r.config_name && r.upstream_base_url ? `${r.config_name}:${r.upstream_base_url}` : moved;
    return { request: r, from: first, to };
  }
  return undefined;
}

function shortTarget(t: string): string {
  const i = t.indexOf(':');
  return i > 0 ? `${t.slice(0, i)} (${hostOf(t.slice(i + 1))})` : t;
}

/** `just now`, `42s ago`, `5m ago`, `2h ago`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** Whether every upstream of the configs that can serve requests (the pinned one, else the enabled ones) cools. */
export function allUpstreamsCooling(d: ServiceData, nowMs: number): boolean {
  const detail = d.detail;
  const snap = d.snapshot?.snapshot;
  if (!detail || !snap) return false;
  const pin = detail.global_override;
  const serving = detail.configs.filter((c) => (pin ? c.name === pin : c.effective_enabled) && c.upstreams.length > 0);
  if (serving.length === 0) return false;
  return serving.every((c) => {
    const lb = snap.lb_view[c.name] as LbConfigView | undefined;
    return c.upstreams.every((u) => upstreamState(lb?.upstreams[u.index], snap.refreshed_at_ms, nowMs).kind === 'cooling');
  });
}

/** Text, tooltip and warning flag of a running or attached service; undefined when it should be hidden. */
export function statusBarModel(d: ServiceData, nowMs: number): StatusBarModel | undefined {
  const s = d.status;
  if (s.kind !== 'running' && s.kind !== 'attached') return undefined;
  const title = serviceTitle(d.service);
  const pin = d.detail?.global_override;
  const warning = allUpstreamsCooling(d, nowMs);
  const icon = warning ? '$(warning)' : pin ? '$(pinned)' : '$(arrow-swap)';
  const text = `${icon} ${title}: ${pin ?? 'auto'}`;
  const lines = [`${title} proxy at ${s.url}${s.kind === 'attached' ? ' (attached)' : ''}`];
  lines.push(pin ? `Pinned config: ${pin}` : 'Automatic config choice (by level)');
  const snap = d.snapshot?.snapshot;
  if (snap) {
    const w = snap.stats_5m;
    lines.push(`Last 5 minutes: ${w.total} request${w.total === 1 ? '' : 's'}, ${w.err_429 + w.err_4xx + w.err_5xx} error${w.err_429 + w.err_4xx + w.err_5xx === 1 ? '' : 's'}`);
    const f = lastFailover(snap.recent);
    lines.push(f ? `Last failover: ${shortTarget(f.from)} → ${shortTarget(f.to)}, ${ago(nowMs - f.request.ended_at_ms)}` : 'Last failover: none');
  }
  if (warning) lines.push('Every upstream is cooling down: requests will wait or fail until one recovers.');
  if (d.error) lines.push(`Problem: ${d.error}`);
  lines.push('', 'Click to pin a config or return to automatic choice.');
  return { text, tooltip: lines.join('\n'), warning };
}
