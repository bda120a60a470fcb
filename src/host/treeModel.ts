// Builds the upstream tree (service → config → upstream) as plain data from what the admin API returns, so labels,
// states, tooltips and contextValues are testable without VS Code. upstreamTree.ts maps nodes onto TreeItems.
import type { LbConfigView } from '../core/lb';
import type { ServiceName } from '../core/types';
import type { ApiSnapshot, ConfigDetail, ConfigsDetail } from '../proxy/adminClient';
import { CMD } from './constants';
import { actions, cmdLink, code, md } from './markdown';
import type { ServiceStatus } from './proxyController';
import { configCostLines, serviceCostLines } from './costTooltip';
import { failoverText } from './failoverNotice';
import { configHealthStates, configHealthSummary, latestProbe, upstreamHealth } from './upstreamHealth';
import type { HealthKind, UpstreamHealthState } from './upstreamHealth';

/** Where the service's client (Codex / Claude Code) points, read from its own settings file. */
export interface ClientLink {
  /** The client's settings file. */
  file: string;
  /** It points at a codex-helper proxy on loopback. */
  enabled: boolean;
  /** The port it points at, when enabled. */
  port?: number;
  /** Why the file could not be read (it is left alone then). */
  error?: string;
  /** ANTHROPIC_BASE_URL in the Claude Code extension's `claudeCode.environmentVariables` setting, if set. */
  vscodeBaseUrl?: string;
}

export interface ServiceData {
  service: ServiceName;
  status: ServiceStatus;
  detail?: ConfigsDetail;
  snapshot?: ApiSnapshot;
  /** Why the data could not be fetched (attached proxy gone, …). */
  error?: string;
  client?: ClientLink;
}

export interface NodeIcon {
  id: string;
  color?: string;
}

export type NodeKind = 'service' | 'config' | 'upstream' | 'client' | 'message';

export interface TreeNode {
  id: string;
  kind: NodeKind;
  label: string;
  description?: string;
  /** Markdown (links may run the commands in TOOLTIP_COMMANDS). */
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

export type UpstreamStateKind = HealthKind;
export type UpstreamState = UpstreamHealthState;

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

function hostnameOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname || baseUrl;
  } catch {
    return baseUrl;
  }
}

/**
 * Short labels for a config's upstreams, so the state after them fits the sidebar: the host name (its port only
 * where names repeat); where hosts repeat, the provider ids when they tell the upstreams apart, else host and path.
 */
export function upstreamLabels(baseUrls: readonly string[], providerIds: ReadonlyArray<string | undefined> = []): string[] {
  const unique = (xs: ReadonlyArray<string | undefined>, i: number) => xs[i] !== undefined && xs.indexOf(xs[i]) === xs.lastIndexOf(xs[i]);
  const names = baseUrls.map(hostnameOf);
  const hosts = baseUrls.map(hostOf);
  return baseUrls.map((u, i) => {
    if (unique(names, i)) return names[i]!;
    if (unique(hosts, i)) return hosts[i]!;
    if (unique(providerIds, i)) return providerIds[i]!;
    return hostAndPath(u);
  });
}

/** Secret name out of an auth source such as `secret:work` or `client_passthrough (missing_secret:work)`. */
export function secretNameOf(authSource: string): string | undefined {
  return /(?:^|[\s(,])(?:missing_)?secret:([^\s,)]+)/.exec(authSource)?.[1];
}

/** The credential an upstream names but cannot find (`env:OPENAI_API_KEY`, `secret:work`), if any. */
export function missingCredential(authSource: string): { kind: 'env' | 'secret'; name: string } | undefined {
  const m = /missing_(env|secret):([^\s,)]+)/.exec(authSource);
  return m ? { kind: m[1] as 'env' | 'secret', name: m[2]! } : undefined;
}

export { formatDuration } from './upstreamHealth';

/** Readable routing level: `priority 1` (lower is tried first). */
export function priorityText(level: number): string {
  return `priority ${level}`;
}

const STATE_ICON: Record<HealthKind, NodeIcon> = {
  healthy: { id: 'pass', color: 'testing.iconPassed' },
  cooling: { id: 'watch', color: 'list.warningForeground' },
  failing: { id: 'error', color: 'list.errorForeground' },
  exhausted: { id: 'circle-slash', color: 'list.warningForeground' },
  unknown: { id: 'circle-outline' },
};
const WARNING_ICON: NodeIcon = { id: 'warning', color: 'list.warningForeground' };

function probeLine(d: ServiceData, cfg: string, baseUrl: string): string | undefined {
  const h = latestProbe(d.snapshot?.snapshot.config_health[cfg], baseUrl);
  if (!h) return undefined;
  if (h.ok) return `Last probe: ok${h.latency_ms !== undefined ? `, ${h.latency_ms} ms` : ''}`;
  return `Last probe: failed${h.status_code ? ` (HTTP ${h.status_code})` : ''}${h.error ? `: ${md(h.error)}` : ''}`;
}

function upstreamNode(d: ServiceData, cfg: ConfigDetail, index: number, label: string, st: UpstreamHealthState,
  lb: LbConfigView | undefined): TreeNode {
  const service = d.service;
  const u = cfg.upstreams[index]!;
  const secret = secretNameOf(u.auth_source);
  const missing = missingCredential(u.auth_source);
  const view = lb?.upstreams[u.index];
  const at = { service, config: cfg.name, upstreamIndex: u.index };
  const keyLink = missing?.kind === 'env' ? undefined : cmdLink('Set key…', CMD.setUpstreamApiKey, secret ? { secretName: secret } : undefined);
  const lines = [
    `**${md(label)}** — ${md(st.text)}`,
    '',
    code(u.base_url),
    '',
    u.provider_id ? `Provider: ${md(u.provider_id)}` : undefined,
    view?.last_status !== undefined ? `Last status: ${view.last_status}` : undefined,
    view?.last_error ? `Last error: ${md(view.last_error)}` : undefined,
    probeLine(d, cfg.name, u.base_url),
    st.source === 'probe' ? 'State from the newest health probe.' : st.source === 'traffic' ? 'State from the newest request.' : undefined,
    missing
      ? `$(warning) Credential missing: ${missing.kind === 'env' ? `environment variable ${code(missing.name)} is not set` : `secret ${code(missing.name)} is not in SecretStorage`}${u.auth_source.startsWith('client_passthrough') ? ' — the client\'s own key is passed through' : ''}`
      : `Credential: ${code(u.auth_source)}`,
    lb?.last_good_index === u.index ? 'Sticky choice of this config.' : undefined,
    '',
    actions([
      keyLink,
      cmdLink('Check health', CMD.checkConfigHealth, { service, config: cfg.name }),
      st.kind === 'cooling' || st.kind === 'failing' ? cmdLink('Reset cooldown', CMD.resetCooldown, at) : undefined,
      cmdLink('Open config', CMD.openConfigAt, at),
    ]),
  ].filter((x) => x !== undefined);
  const ctx = ['upstream', secret ? 'secret' : 'plain', st.kind === 'cooling' || st.kind === 'failing' ? 'resettable' : 'settled'];
  if (missing) ctx.push('missingKey');
  const node: TreeNode = {
    id: `${service}/${cfg.name}/${u.index}`,
    kind: 'upstream',
    label,
    description: !missing ? st.text : st.kind === 'unknown' ? 'key missing' : `${st.text} · key missing`,
    tooltip: lines.join('  \n'),
    icon: missing && st.kind !== 'failing' ? WARNING_ICON : STATE_ICON[st.kind],
    contextValue: ctx.join(' '),
    children: [],
    service,
    config: cfg.name,
    upstreamIndex: u.index,
    baseUrl: u.base_url,
  };
  if (secret) node.secretName = secret;
  return node;
}

/** States of a config's upstreams from one snapshot (the single source for every view). */
export function statesOf(d: ServiceData, cfg: ConfigDetail, nowMs: number): UpstreamHealthState[] {
  const snap = d.snapshot?.snapshot;
  return configHealthStates(cfg.upstreams.map((u) => u.base_url), snap?.lb_view[cfg.name] as LbConfigView | undefined,
    snap?.config_health[cfg.name], snap?.refreshed_at_ms ?? nowMs, nowMs);
}

function configNode(d: ServiceData, cfg: ConfigDetail, nowMs: number): TreeNode {
  const service = d.service;
  const snap = d.snapshot?.snapshot;
  const pinned = d.detail?.global_override === cfg.name;
  const lb = snap?.lb_view[cfg.name] as LbConfigView | undefined;
  const states = statesOf(d, cfg, nowMs);
  const summary = configHealthSummary(states);
  const check = snap?.health_checks[cfg.name];
  const checking = check && !check.done ? `checking ${check.completed}/${check.total}` : undefined;
  const trouble = summary.kind === 'cooling' || states.some((s) => s.kind === 'failing' || s.kind === 'cooling');
  const first = !cfg.effective_enabled ? 'disabled' : checking ?? (summary.kind === 'cooling' ? summary.text : undefined);
  const description = [first, pinned ? 'pinned' : undefined, priorityText(cfg.effective_level), cfg.active ? 'active' : undefined]
    .filter(Boolean).join(' · ');
  const at = { service, config: cfg.name };
  const tip = [
    `**${md(cfg.alias ?? cfg.name)}**${cfg.alias ? ` (${code(cfg.name)})` : ''} — ${md(summary.text)}`,
    '',
    `${priorityText(cfg.effective_level)} (lower is tried first)${cfg.effective_level !== cfg.level ? `; the file says ${cfg.level}` : ''}`,
    cfg.effective_enabled ? 'Enabled' : 'Disabled: skipped unless it is pinned or active',
    cfg.effective_enabled !== cfg.enabled ? `(the file says ${cfg.enabled ? 'enabled' : 'disabled'})` : undefined,
    cfg.active ? 'Active config of the file' : undefined,
    pinned ? 'Pinned: every request of this service uses it' : undefined,
    `${cfg.upstreams.length} upstream${cfg.upstreams.length === 1 ? '' : 's'}`,
    ...configCostLines(snap, cfg.name, nowMs),
    '',
    actions([
      pinned ? cmdLink('Unpin', CMD.unpinConfig, service) : cmdLink('Pin', CMD.pinConfig, at),
      cmdLink('Check health', CMD.checkConfigHealth, at),
      trouble ? cmdLink('Reset cooldowns', CMD.resetCooldown, at) : undefined,
      cmdLink('Open config', CMD.openConfigAt, at),
    ]),
  ].filter((x) => x !== undefined);
  const ctx = ['config', pinned ? 'pinned' : 'unpinned', cfg.effective_enabled ? 'enabled' : 'disabled', trouble ? 'resettable' : 'settled'];
  const labels = upstreamLabels(cfg.upstreams.map((u) => u.base_url), cfg.upstreams.map((u) => u.provider_id));
  const children = cfg.upstreams.map((_, i) => upstreamNode(d, cfg, i, labels[i]!, states[i]!, lb));
  return {
    id: `${service}/${cfg.name}`,
    kind: 'config',
    label: cfg.alias ?? cfg.name,
    description,
    tooltip: tip.join('  \n'),
    icon: pinned
      ? { id: 'pinned' }
      : !cfg.effective_enabled
        ? { id: 'circle-slash', color: 'disabledForeground' }
        : summary.kind === 'cooling'
          ? STATE_ICON.cooling
          : { id: cfg.active ? 'star-full' : 'server' },
    contextValue: ctx.join(' '),
    collapsed: false,
    children,
    service,
    config: cfg.name,
  };
}

function message(service: ServiceName, id: string, label: string, icon: NodeIcon, tooltip = md(label)): TreeNode {
  return { id: `${service}/!${id}`, kind: 'message', label, tooltip, icon, contextValue: 'message', children: [], service };
}

function vscodePort(url: string): number | undefined {
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the client file points at this proxy, another port, or not at a proxy. */
export function clientLinkState(link: ClientLink | undefined, port: number | undefined): 'connected' | 'elsewhere' | 'none' | 'unknown' {
  if (!link || link.error) return 'unknown';
  // The Claude Code extension for VS Code reads its own setting: pointing that at us connects it too.
  if (!link.enabled) return link.vscodeBaseUrl && port !== undefined && vscodePort(link.vscodeBaseUrl) === port ? 'connected' : 'none';
  return port !== undefined && link.port !== undefined && link.port !== port ? 'elsewhere' : 'connected';
}

const CLIENT_CMDS: Record<ServiceName, { on: string; off: string }> = {
  codex: { on: CMD.connectCodex, off: CMD.disconnectCodex },
  claude: { on: CMD.connectClaude, off: CMD.disconnectClaude },
};

function clientNode(d: ServiceData, port: number | undefined): TreeNode {
  const link = d.client;
  const state = clientLinkState(link, port);
  const title = serviceTitle(d.service);
  const cmds = CLIENT_CMDS[d.service];
  const description = state === 'connected' ? 'connected' : state === 'elsewhere' ? `points at :${link!.port}, not :${port}` : state === 'none' ? 'not connected' : 'unknown';
  const what = state === 'connected' ? `${title} sends its requests through this proxy.`
    : state === 'elsewhere' ? `${title} points at port ${link!.port}, but this proxy listens on ${port}: its requests fail until you connect it again.`
      : state === 'none' ? `${title} talks to its provider directly.`
        : `The settings file of ${title} could not be read${link?.error ? `: ${md(link.error)}` : ''}.`;
  const tip = [
    `**${md(title)}** — ${md(description)}`,
    '',
    what,
    link ? `File: ${code(link.file)}` : undefined,
    link?.vscodeBaseUrl ? `Claude Code extension for VS Code: ${code(`ANTHROPIC_BASE_URL=${link.vscodeBaseUrl}`)}${port !== undefined && vscodePort(link.vscodeBaseUrl) !== port ? ' (not this proxy)' : ''}` : undefined,
    '',
    actions([state !== 'connected' ? cmdLink('Connect', cmds.on) : undefined, state === 'connected' || state === 'elsewhere' ? cmdLink('Disconnect', cmds.off) : undefined]),
  ].filter((x) => x !== undefined);
  return {
    id: `${d.service}/!client`,
    kind: 'client',
    label: d.service === 'codex' ? 'Codex client' : 'Claude Code client',
    description,
    tooltip: tip.join('  \n'),
    icon: state === 'connected' ? { id: 'plug', color: 'testing.iconPassed' } : state === 'elsewhere' ? WARNING_ICON : { id: 'debug-disconnect' },
    contextValue: `client ${state} ${d.service}`,
    children: [],
    service: d.service,
  };
}

function statusText(s: ServiceStatus): string {
  switch (s.kind) {
    case 'running':
      return 'running';
    case 'attached':
      return `attached :${s.port}`;
    case 'failed':
      return s.code === 'EADDRINUSE' ? `port ${s.port} in use` : s.code === 'WORKER_RESTARTING' ? 'restarting' : 'failed to start';
    case 'stopped':
      return 'stopped';
  }
}

/** The node of one service with its client link, configs and upstreams. */
export function serviceNode(d: ServiceData, nowMs: number): TreeNode {
  const s = d.status;
  const live = s.kind === 'running' || s.kind === 'attached';
  const pin = d.detail?.global_override;
  const children: TreeNode[] = [];
  if (d.error) children.push(message(d.service, 'error', d.error, WARNING_ICON));
  if (d.detail?.config_error) {
    children.push(message(d.service, 'config-error', 'config.toml has an error (last good config in use)', WARNING_ICON,
      `${md(d.detail.config_error)}  \n${cmdLink('Open config', CMD.openConfigFile)}`));
  }
  if (s.kind === 'failed') {
    children.push(message(d.service, 'failed', s.message, { id: 'error', color: 'list.errorForeground' },
      `${md(s.message)}  \n${cmdLink('Fix…', CMD.listenerFixes, d.service)} · ${cmdLink('Show log', CMD.showLog)}`));
  }
  if (d.client) children.push(clientNode(d, live ? s.port : undefined));
  if (live && d.detail) {
    for (const c of d.detail.configs) children.push(configNode(d, c, nowMs));
    if (d.detail.configs.length === 0) children.push(message(d.service, 'empty', 'no configs: open the config file', { id: 'info' }));
  }
  const failover = live ? d.snapshot?.snapshot.failover : undefined;
  const description = [failover ? `failed over to ${failover.to.config}` : undefined, statusText(s),
    live && d.detail ? (pin ? `pinned ${pin}` : 'auto') : undefined].filter(Boolean).join(' · ');
  const tip = [
    `**${md(serviceTitle(d.service))} proxy** — ${md(statusText(s))}${live ? ` on port ${s.port}` : ''}`,
    '',
    failover ? `$(debug-step-over) ${md(failoverText(failover, nowMs))}` : undefined,
    live ? `Base URL: ${code(s.url)}` : undefined,
    live && d.detail ? (pin ? `Pinned config: ${code(pin)}` : 'Automatic config choice (by priority and health)') : undefined,
    d.detail ? `Config file: ${code(d.detail.config_path)}` : undefined,
    ...serviceCostLines(d.snapshot?.snapshot, nowMs),
    '',
    actions([
      live ? cmdLink('Pin config…', CMD.pinConfig, d.service) : cmdLink('Start', CMD.startProxy, d.service),
      live ? cmdLink('Check health', CMD.runHealthChecks, d.service) : undefined,
      s.kind === 'failed' ? cmdLink('Fix…', CMD.listenerFixes, d.service) : undefined,
      cmdLink('Open config', CMD.openConfigFile),
    ]),
  ].filter((x) => x !== undefined);
  return {
    id: d.service,
    kind: 'service',
    label: serviceTitle(d.service),
    description,
    tooltip: tip.join('  \n'),
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
        const st = upstreamHealth(u, undefined, snap.refreshed_at_ms, nowMs);
        if (st.coolingUntilMs !== undefined && (best === undefined || st.coolingUntilMs < best)) best = st.coolingUntilMs;
      }
    }
  }
  return best;
}
