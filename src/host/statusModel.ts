// What the status bar item of a service shows, decided on plain data (statusBar.ts only applies it).
import type { FinishedRequest } from '../core/types';
import { CMD } from './constants';
import { actions, cmdLink, code, md } from './markdown';
import type { ServiceData } from './treeModel';
import { hostOf, serviceTitle, statesOf } from './treeModel';
import { formatDuration } from './upstreamHealth';
import { failoverText } from './failoverNotice';

export interface StatusBarModel {
  text: string;
  /** Markdown (links run commands in TOOLTIP_COMMANDS). */
  tooltip: string;
  /** Every upstream that could serve a request is cooling down. */
  warning: boolean;
  /** The listener failed: the item stays, in an error state, and its click offers the fixes. */
  error?: boolean;
  /** Click command and its argument. */
  command: string;
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

/** When requests can flow again: the soonest cooldown end among the configs that can serve (undefined when one can now). */
export function allCoolingUntil(d: ServiceData, nowMs: number): number | undefined {
  const detail = d.detail;
  if (!detail || !d.snapshot) return undefined;
  const pin = detail.global_override;
  const serving = detail.configs.filter((c) => (pin ? c.name === pin : c.effective_enabled) && c.upstreams.length > 0);
  if (serving.length === 0) return undefined;
  let soonest: number | undefined;
  for (const c of serving) {
    for (const st of statesOf(d, c, nowMs)) {
      if (st.kind !== 'cooling' || st.coolingUntilMs === undefined) return undefined;
      if (soonest === undefined || st.coolingUntilMs < soonest) soonest = st.coolingUntilMs;
    }
  }
  return soonest;
}

/** Whether every upstream of the configs that can serve requests (the pinned one, else the enabled ones) cools. */
export function allUpstreamsCooling(d: ServiceData, nowMs: number): boolean {
  return allCoolingUntil(d, nowMs) !== undefined;
}

/** `14:05:09` in local time. */
function clock(ms: number): string {
  const t = new Date(ms);
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** What the status bar item of a service shows; undefined when it should be hidden (stopped on purpose). */
export function statusBarModel(d: ServiceData, nowMs: number): StatusBarModel | undefined {
  const s = d.status;
  const title = serviceTitle(d.service);
  if (s.kind === 'failed') {
    const why = s.code === 'EADDRINUSE' ? `port ${s.port} in use` : 'not running';
    return {
      text: `$(error) ${title}: ${why}`,
      tooltip: [`**${md(title)} proxy is not running**`, '', md(s.message), '',
        actions([cmdLink('Fix…', CMD.listenerFixes, d.service), cmdLink('Show log', CMD.showLog)])].join('  \n'),
      warning: false,
      error: true,
      command: CMD.listenerFixes,
    };
  }
  if (s.kind !== 'running' && s.kind !== 'attached') return undefined;
  const pin = d.detail?.global_override;
  const until = allCoolingUntil(d, nowMs);
  const warning = until !== undefined;
  const failover = d.snapshot?.snapshot.failover;
  const icon = warning ? '$(warning)' : failover ? '$(debug-step-over)' : pin ? '$(pinned)' : '$(arrow-swap)';
  const text = `${icon} ${title}: ${pin ?? 'auto'}${failover && !warning ? ` → ${failover.to.config}` : ''}`;
  const lines = [`**${md(title)} proxy** at ${code(s.url)}${s.kind === 'attached' ? ' (attached)' : ''}`, ''];
  if (warning) {
    lines.push(`$(warning) Every upstream is cooling down: requests flow again in ${formatDuration((until - nowMs) / 1000)} (at ${clock(until)}).`);
  }
  if (failover) {
    lines.push(`$(debug-step-over) ${md(failoverText(failover, nowMs))}`);
    lines.push(cmdLink(`Reset ${failover.preferred}'s cooldown`, CMD.resetCooldown, { service: d.service, config: failover.preferred }));
  }
  lines.push(pin ? `Pinned config: ${code(pin)}` : 'Automatic config choice (by priority and health)');
  const snap = d.snapshot?.snapshot;
  if (snap) {
    const w = snap.stats_5m;
    const errors = w.err_429 + w.err_4xx + w.err_5xx;
    lines.push(`Last 5 minutes: ${w.total} request${w.total === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}`);
    const f = lastFailover(snap.recent);
    lines.push(f ? `Last failover: ${md(shortTarget(f.from))} → ${md(shortTarget(f.to))}, ${ago(nowMs - f.request.ended_at_ms)}` : 'Last failover: none');
  }
  if (d.error) lines.push(`Problem: ${md(d.error)}`);
  lines.push('', actions([
    cmdLink(pin ? 'Change pin…' : 'Pin config…', CMD.pinConfig, d.service),
    warning ? cmdLink('Reset cooldowns', CMD.resetCooldown, { service: d.service }) : undefined,
    cmdLink('Recent requests', CMD.showRecentRequests),
  ]));
  return { text, tooltip: lines.join('  \n'), warning, command: CMD.pinConfig };
}
