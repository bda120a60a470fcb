// Builds the upstream tree (service → config → upstream) as plain data from what the admin API returns, so labels,
// states, tooltips and contextValues are testable without VS Code. upstreamTree.ts maps nodes onto TreeItems.
import type { ConfigHealth, UpstreamHealth } from '../core/state';
import type { LbConfigView, LbUpstreamView } from '../core/lb';
import type { ServiceName } from '../core/types';
import type { ApiSnapshot, ConfigDetail, ConfigsDetail, UpstreamInfo } from '../proxy/adminClient';
import type { ServiceStatus } from './proxyController';
import { configCostLines, serviceCostLines } from './costTooltip';

export interface ServiceData {
  service: ServiceName;
  status: ServiceStatus;
  detail?: ConfigsDetail;
  snapshot?: ApiSnapshot;
  /** Why the data could not be fetched (attached proxy gone, …). */
  error?: string;
}

export interface NodeIcon {
  id: string;
  color?: string;
}

export type NodeKind = 'service' | 'config' | 'upstream' | 'message';

export interface TreeNode {
  id: string;
  kind: NodeKind;
  label: string;
  description?: string;
  tooltip: string;
  icon: NodeIcon;
  contextValue: string;
  collapsed?: boolean;
  children: TreeNode[];
  service: ServiceName;
  config?: string;
  upstreamIndex?: number;
  baseUrl?: string;
  /** SecretStorage entry named by the upstream's auth (the name only). */
  secretName?: string;
}

export type UpstreamStateKind = 'healthy' | 'cooling' | 'failing' | 'exhausted' | 'unknown';

export interface UpstreamState {
  kind: UpstreamStateKind;
  text: string;
  /** Epoch ms when a cooldown ends, so the view can refresh exactly then instead of polling. */
  coolingUntilMs?: number;
}

const SERVICE_TITLE: Record<ServiceName, string> = { codex: 'Codex', claude: 'Claude Code' };

/** Display name of a service. */
export function serviceTitle(service: ServiceName): string {
  return SERVICE_TITLE[service];
}

/** Host (and non-default port) of a base URL, for a short label. */
export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host || baseUrl;
  } catch {
    return baseUrl;
  }
}

/** Host plus path, for telling apart upstreams that share a host. */
export function hostAndPath(baseUrl: string): string {
  try {
    const u = new URL(baseUrl);
    return `${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return baseUrl;
  }
}

/** Short labels for a config's upstreams: the host, or host and path where hosts repeat. */
export function upstreamLabels(baseUrls: readonly string[]): string[] {
  const hosts = baseUrls.map(hostOf);
  return baseUrls.map((u, i) => (hosts.indexOf(hosts[i]!) !== hosts.lastIndexOf(hosts[i]!) ? hostAndPath(u) : hosts[i]!));
}

/** Secret name out of an auth source such as `secret:work` or `client_passthrough (missing_secret:work)`. */
export function secretNameOf(authSource: string): string | undefined {
  return /(?:^|[\s(,])(?:missing_)?secret:([^\s,)]+)/.exec(authSource)?.[1];
}

/** State of one upstream: cooling (time left) beats usage exhausted beats failing beats healthy. */
export function upstreamState(lb: LbUpstreamView | undefined, snapshotAtMs: number, nowMs: number): UpstreamState {
  if (!lb) return { kind: 'unknown', text: 'no traffic yet' };
  if (lb.cooldown_remaining_secs !== undefined) {
    const until = snapshotAtMs + lb.cooldown_remaining_secs * 1000;
    const left = Math.ceil((until - nowMs) / 1000);
    if (left > 0) return { kind: 'cooling', text: `cooling ${formatSecs(left)}`, coolingUntilMs: until };
  }
  if (lb.usage_exhausted) return { kind: 'exhausted', text: 'usage exhausted' };
  if (lb.failure_count > 0) return { kind: 'failing', text: `failing ${lb.failure_count}` };
  return { kind: 'healthy', text: 'healthy' };
}

/** `45s`, `2m 05s`. */
export function formatSecs(secs: number): string {
  if (secs < 60) return `${secs}s`;
  return `${Math.floor(secs / 60)}m ${String(secs % 60).padStart(2, '0')}s`;
}

function probeText(h: UpstreamHealth | undefined): string | undefined {
  if (!h || h.ok === undefined) return undefined;
  if (h.ok) return h.latency_ms !== undefined ? `probe ${h.latency_ms} ms` : 'probe ok';
  return `probe failed${h.error ? `: ${h.error}` : ''}`;
}

const STATE_ICON: Record<UpstreamStateKind, NodeIcon> = {
  healthy: { id: 'pass', color: 'testing.iconPassed' },
  cooling: { id: 'watch', color: 'list.warningForeground' },
  failing: { id: 'error', color: 'list.errorForeground' },
  exhausted: { id: 'circle-slash', color: 'list.warningForeground' },
  unknown: { id: 'circle-outline' },
};

function upstreamNode(service: ServiceName, cfg: ConfigDetail, u: UpstreamInfo, label: string, lb: LbConfigView | undefined,
  health: ConfigHealth | undefined, snapshotAtMs: number, nowMs: number): TreeNode {
  const st = upstreamState(lb?.upstreams[u.index], snapshotAtMs, nowMs);
  const h = health?.upstreams.find((x) => x.base_url === u.base_url) ?? health?.upstreams[u.index];
  const probe = probeText(h);
  const secret = secretNameOf(u.auth_source);
  const view = lb?.upstreams[u.index];
  const tip = [
    `${u.base_url}`,
    u.provider_id ? `provider: ${u.provider_id}` : undefined,
    `state: ${st.text}`,
    view?.last_status !== undefined ? `last status: ${view.last_status}` : undefined,
    view?.last_error ? `last error: ${view.last_error}` : undefined,
    probe,
    `credential: ${u.auth_source}`,
    lb?.last_good_index === u.index ? 'sticky choice of this config' : undefined,
  ].filter((x) => x !== undefined);
  const node: TreeNode = {
    id: `${service}/${cfg.name}/${u.index}`,
    kind: 'upstream',
    label,
    description: [u.provider_id, st.text, probe].filter(Boolean).join(' · '),
    tooltip: tip.join('\n'),
    icon: STATE_ICON[st.kind],
    contextValue: secret ? 'upstream secret' : 'upstream',
    children: [],
    service,
    config: cfg.name,
    upstreamIndex: u.index,
    baseUrl: u.base_url,
  };
  if (secret) node.secretName = secret;
  return node;
}

function configNode(d: ServiceData, cfg: ConfigDetail, nowMs: number): TreeNode {
  const service = d.service;
  const snap = d.snapshot?.snapshot;
  const pinned = d.detail?.global_override === cfg.name;
  const lb = snap?.lb_view[cfg.name] as LbConfigView | undefined;
  const health = snap?.config_health[cfg.name];
  const at = snap?.refreshed_at_ms ?? nowMs;
  const marks = [
    `L${cfg.effective_level}`,
    cfg.effective_enabled ? undefined : 'disabled',
    cfg.active ? 'active' : undefined,
    pinned ? 'pinned' : undefined,
  ].filter(Boolean);
  const check = snap?.health_checks[cfg.name];
  const checking = check && !check.done ? `checking ${check.completed}/${check.total}` : undefined;
  const tip = [
    cfg.alias ? `${cfg.alias} (${cfg.name})` : cfg.name,
    `level ${cfg.effective_level}${cfg.effective_level !== cfg.level ? ` (file: ${cfg.level})` : ''}`,
    cfg.effective_enabled ? 'enabled' : 'disabled',
    cfg.effective_enabled !== cfg.enabled ? `(file says ${cfg.enabled ? 'enabled' : 'disabled'})` : undefined,
    cfg.active ? 'active config of the file' : undefined,
    pinned ? 'pinned: every request of this service uses it' : undefined,
    `${cfg.upstreams.length} upstream${cfg.upstreams.length === 1 ? '' : 's'}`,
    ...configCostLines(snap, cfg.name, nowMs),
  ].filter((x) => x !== undefined);
  const ctx = ['config', pinned ? 'pinned' : 'unpinned', cfg.effective_enabled ? 'enabled' : 'disabled'];
  const labels = upstreamLabels(cfg.upstreams.map((u) => u.base_url));
  const children = cfg.upstreams.map((u, i) => upstreamNode(service, cfg, u, labels[i]!, lb, health, at, nowMs));
  const allCooling = children.length > 0 && children.every((c) => c.icon.id === STATE_ICON.cooling.id);
  return {
    id: `${service}/${cfg.name}`,
    kind: 'config',
    label: cfg.alias ?? cfg.name,
    description: [cfg.alias ? cfg.name : undefined, ...marks, checking].filter(Boolean).join(' · '),
    tooltip: tip.join('\n'),
    icon: pinned
      ? { id: 'pinned' }
      : !cfg.effective_enabled
        ? { id: 'circle-slash', color: 'disabledForeground' }
        : allCooling
          ? { id: 'watch', color: 'list.warningForeground' }
          : { id: cfg.active ? 'star-full' : 'server' },
    contextValue: ctx.join(' '),
    collapsed: false,
    children,
    service,
    config: cfg.name,
  };
}

function message(service: ServiceName, id: string, label: string, icon: NodeIcon, tooltip = label): TreeNode {
  return { id: `${service}/!${id}`, kind: 'message', label, tooltip, icon, contextValue: 'message', children: [], service };
}

function statusText(s: ServiceStatus): string {
  switch (s.kind) {
    case 'running':
      return s.url.replace(/^http:\/\//, '');
    case 'attached':
      return `attached ${s.url.replace(/^http:\/\//, '')}`;
    case 'failed':
      return s.code === 'EADDRINUSE' ? `port ${s.port} in use` : s.code === 'WORKER_RESTARTING' ? 'restarting' : 'failed to start';
    case 'stopped':
      return 'stopped';
  }
}

/** The node of one service with its configs and upstreams. */
export function serviceNode(d: ServiceData, nowMs: number): TreeNode {
  const s = d.status;
  const live = s.kind === 'running' || s.kind === 'attached';
  const pin = d.detail?.global_override;
  const children: TreeNode[] = [];
  if (d.error) children.push(message(d.service, 'error', d.error, { id: 'warning', color: 'list.warningForeground' }));
  if (d.detail?.config_error) {
    children.push(message(d.service, 'config-error', 'config.toml has an error (last good config in use)',
      { id: 'warning', color: 'list.warningForeground' }, d.detail.config_error));
  }
  if (s.kind === 'failed') children.push(message(d.service, 'failed', s.message, { id: 'error', color: 'list.errorForeground' }));
  if (live && d.detail) {
    for (const c of d.detail.configs) children.push(configNode(d, c, nowMs));
    if (d.detail.configs.length === 0) children.push(message(d.service, 'empty', 'no configs: open the config file', { id: 'info' }));
  }
  const description = [statusText(s), live && d.detail ? (pin ? `pinned ${pin}` : 'auto') : undefined].filter(Boolean).join(' · ');
  const tip = [
    `${serviceTitle(d.service)} proxy: ${statusText(s)}`,
    live ? `base URL: ${s.url}` : undefined,
    d.detail ? `config file: ${d.detail.config_path}` : undefined,
    ...serviceCostLines(d.snapshot?.snapshot, nowMs),
  ].filter((x) => x !== undefined);
  return {
    id: d.service,
    kind: 'service',
    label: serviceTitle(d.service),
    description,
    tooltip: tip.join('\n'),
    icon: s.kind === 'running'
      ? { id: 'radio-tower', color: 'testing.iconPassed' }
      : s.kind === 'attached'
        ? { id: 'plug' }
        : s.kind === 'failed'
          ? { id: 'error', color: 'list.errorForeground' }
          : { id: 'debug-stop' },
    contextValue: `service ${s.kind}`,
    collapsed: false,
    children,
    service: d.service,
  };
}

/** Earliest cooldown end in a tree (epoch ms), to schedule a single refresh then. */
export function nextCooldownEnd(data: ServiceData[], nowMs: number): number | undefined {
  let best: number | undefined;
  for (const d of data) {
    const snap = d.snapshot?.snapshot;
    if (!snap) continue;
    for (const v of Object.values(snap.lb_view as Record<string, LbConfigView>)) {
      for (const u of v.upstreams) {
        const st = upstreamState(u, snap.refreshed_at_ms, nowMs);
        if (st.coolingUntilMs !== undefined && (best === undefined || st.coolingUntilMs < best)) best = st.coolingUntilMs;
      }
    }
  }
  return best;
}
