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
import { t } from './l10n';

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
  return t('priority {0}', level);
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
  if (h.ok) return h.latency_ms !== undefined ? t('Last probe: ok, {0} ms', h.latency_ms) : t('Last probe: ok');
  const failed = h.status_code ? t('Last probe: failed (HTTP {0})', h.status_code) : t('Last probe: failed');
  return h.error ? `${failed}: ${md(h.error)}` : failed;
}

function upstreamNode(d: ServiceData, cfg: ConfigDetail, index: number, label: string, st: UpstreamHealthState,
  lb: LbConfigView | undefined): TreeNode {
  const service = d.service;
  const u = cfg.upstreams[index]!;
  const secret = secretNameOf(u.auth_source);
  const missing = missingCredential(u.auth_source);
  const view = lb?.upstreams[u.index];
  const at = { service, config: cfg.name, upstreamIndex: u.index };
  const keyLink = missing?.kind === 'env' ? undefined : cmdLink(t('Set key…'), CMD.setUpstreamApiKey, secret ? { secretName: secret } : undefined);
  const lines = [
    `**${md(label)}** — ${md(st.text)}`,
    '',
    code(u.base_url),
    '',
    u.provider_id ? t('Provider: {0}', md(u.provider_id)) : undefined,
    view?.last_status !== undefined ? t('Last status: {0}', view.last_status) : undefined,
    view?.last_error ? t('Last error: {0}', md(view.last_error)) : undefined,
    probeLine(d, cfg.name, u.base_url),
    st.source === 'probe' ? t('State from the newest health probe.') : st.source === 'traffic' ? t('State from the newest request.') : undefined,
    missing
      ? `$(warning) ${missing.kind === 'env'
        ? t('Credential missing: environment variable {0} is not set', code(missing.name))
        : t('Credential missing: secret {0} is not in SecretStorage', code(missing.name))}${u.auth_source.startsWith('client_passthrough') ? t(" — the client's own key is passed through") : ''}`
      : t('Credential: {0}', code(u.auth_source)),
    lb?.last_good_index === u.index ? t('Sticky choice of this config.') : undefined,
    '',
    actions([
      keyLink,
      cmdLink(t('Check health'), CMD.checkConfigHealth, { service, config: cfg.name }),
      st.kind === 'cooling' || st.kind === 'failing' ? cmdLink(t('Reset cooldown'), CMD.resetCooldown, at) : undefined,
      cmdLink(t('Open config'), CMD.openConfigAt, at),
    ]),
  ].filter((x) => x !== undefined);
  const ctx = ['upstream', secret ? 'secret' : 'plain', st.kind === 'cooling' || st.kind === 'failing' ? 'resettable' : 'settled'];
  if (missing) ctx.push('missingKey');
  const node: TreeNode = {
    id: `${service}/${cfg.name}/${u.index}`,
    kind: 'upstream',
    label,
    description: !missing ? st.text : st.kind === 'unknown' ? t('key missing') : `${st.text} · ${t('key missing')}`,
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
  const checking = check && !check.done ? t('checking {0}/{1}', check.completed, check.total) : undefined;
  const trouble = summary.kind === 'cooling' || states.some((s) => s.kind === 'failing' || s.kind === 'cooling');
  const first = !cfg.effective_enabled ? t('disabled') : checking ?? (summary.kind === 'cooling' ? summary.text : undefined);
  const description = [first, pinned ? t('pinned') : undefined, priorityText(cfg.effective_level), cfg.active ? t('active') : undefined]
    .filter(Boolean).join(' · ');
  const at = { service, config: cfg.name };
  const tip = [
    `**${md(cfg.alias ?? cfg.name)}**${cfg.alias ? ` (${code(cfg.name)})` : ''} — ${md(summary.text)}`,
    '',
    cfg.effective_level !== cfg.level
      ? t('{0} (lower is tried first); the file says {1}', priorityText(cfg.effective_level), cfg.level)
      : t('{0} (lower is tried first)', priorityText(cfg.effective_level)),
    cfg.effective_enabled ? t('Enabled') : t('Disabled: skipped unless it is pinned or active'),
    cfg.effective_enabled !== cfg.enabled ? (cfg.enabled ? t('(the file says enabled)') : t('(the file says disabled)')) : undefined,
    cfg.active ? t('Active config of the file') : undefined,
    pinned ? t('Pinned: every request of this service uses it') : undefined,
    cfg.upstreams.length === 1 ? t('1 upstream') : t('{0} upstreams', cfg.upstreams.length),
    ...configCostLines(snap, cfg.name, nowMs),
    '',
    actions([
      pinned ? cmdLink(t('Unpin'), CMD.unpinConfig, service) : cmdLink(t('Pin'), CMD.pinConfig, at),
      cmdLink(t('Check health'), CMD.checkConfigHealth, at),
      trouble ? cmdLink(t('Reset cooldowns'), CMD.resetCooldown, at) : undefined,
      cmdLink(t('Open config'), CMD.openConfigAt, at),
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
  const description = state === 'connected' ? t('connected') : state === 'elsewhere' ? t('points at :{0}, not :{1}', link!.port!, port!) : state === 'none' ? t('not connected') : t('unknown');
  const what = state === 'connected' ? t('{0} sends its requests through this proxy.', title)
    : state === 'elsewhere' ? t('{0} points at port {1}, but this proxy listens on {2}: its requests fail until you connect it again.', title, link!.port!, port!)
      : state === 'none' ? t('{0} talks to its provider directly.', title)
        : link?.error ? t('The settings file of {0} could not be read: {1}.', title, md(link.error)) : t('The settings file of {0} could not be read.', title);
  const tip = [
    `**${md(title)}** — ${md(description)}`,
    '',
    what,
    link ? t('File: {0}', code(link.file)) : undefined,
    link?.vscodeBaseUrl ? t('Claude Code extension for VS Code: {0}', code(`ANTHROPIC_BASE_URL=${link.vscodeBaseUrl}`)) + (port !== undefined && vscodePort(link.vscodeBaseUrl) !== port ? t(' (not this proxy)') : '') : undefined,
    '',
    actions([state !== 'connected' ? cmdLink(t('Connect'), cmds.on) : undefined, state === 'connected' || state === 'elsewhere' ? cmdLink(t('Disconnect'), cmds.off) : undefined]),
  ].filter((x) => x !== undefined);
  return {
    id: `${d.service}/!client`,
    kind: 'client',
    label: d.service === 'codex' ? t('Codex client') : t('Claude Code client'),
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
      return t('running');
    case 'attached':
      return t('attached :{0}', s.port);
    case 'failed':
      return s.code === 'EADDRINUSE' ? t('port {0} in use', s.port) : s.code === 'WORKER_RESTARTING' ? t('restarting') : t('failed to start');
    case 'stopped':
      return t('stopped');
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
    children.push(message(d.service, 'config-error', t('config.toml has an error (last good config in use)'), WARNING_ICON,
      `${md(d.detail.config_error)}  \n${cmdLink(t('Open config'), CMD.openConfigFile)}`));
  }
  if (s.kind === 'failed') {
    children.push(message(d.service, 'failed', s.message, { id: 'error', color: 'list.errorForeground' },
      `${md(s.message)}  \n${cmdLink(t('Fix…'), CMD.listenerFixes, d.service)} · ${cmdLink(t('Show log'), CMD.showLog)}`));
  }
  if (d.client) children.push(clientNode(d, live ? s.port : undefined));
  if (live && d.detail) {
    for (const c of d.detail.configs) children.push(configNode(d, c, nowMs));
    if (d.detail.configs.length === 0) children.push(message(d.service, 'empty', t('no configs: open the config file'), { id: 'info' }));
  }
  const failover = live ? d.snapshot?.snapshot.failover : undefined;
  const description = [failover ? t('failed over to {0}', failover.to.config) : undefined, statusText(s),
    live && d.detail ? (pin ? t('pinned {0}', pin) : t('auto')) : undefined].filter(Boolean).join(' · ');
  const tip = [
    `**${t('{0} proxy', md(serviceTitle(d.service)))}** — ${md(statusText(s))}${live ? t(' on port {0}', s.port) : ''}`,
    '',
    failover ? `$(debug-step-over) ${md(failoverText(failover, nowMs))}` : undefined,
    live ? t('Base URL: {0}', code(s.url)) : undefined,
    live && d.detail ? (pin ? t('Pinned config: {0}', code(pin)) : t('Automatic config choice (by priority and health)')) : undefined,
    d.detail ? t('Config file: {0}', code(d.detail.config_path)) : undefined,
    ...serviceCostLines(d.snapshot?.snapshot, nowMs),
    '',
    actions([
      live ? cmdLink(t('Pin config…'), CMD.pinConfig, d.service) : cmdLink(t('Start'), CMD.startProxy, d.service),
      live ? cmdLink(t('Check health'), CMD.runHealthChecks, d.service) : undefined,
      s.kind === 'failed' ? cmdLink(t('Fix…'), CMD.listenerFixes, d.service) : undefined,
      cmdLink(t('Open config'), CMD.openConfigFile),
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
