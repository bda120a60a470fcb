// Typed reading of the `codexHelper.*` settings from plain inspected values (no `vscode` here, so it is testable),
// with the untrusted-workspace filter and the diff that decides which listener must restart.
// l10n-ignore-file: its problems go to the log, which stays English
import type { Event } from '../core/events';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { LogLevel } from '../proxy/logger';
import { DEFAULT_PORTS } from '../proxy/proxyEngine';
import { EFFORTS, RESTRICTED_SETTINGS, SETTING } from './constants';

export type Effort = (typeof EFFORTS)[number];

/** The shape of `WorkspaceConfiguration.inspect()` that matters here. */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type Inspect = (key: string) => Inspected | undefined;

export interface ServiceSettings {
  enabled: boolean;
  port: number;
  pinnedConfig?: string;
}

export interface HostSettings {
  /** Blank = `CODEX_HELPER_HOME` or `~/.codex-helper`. */
  configHome?: string;
  autoStart: boolean;
  services: Record<ServiceName, ServiceSettings>;
  codexDefaultEffort?: Effort;
  webviewMaxRows: number;
  logLevel: Exclude<LogLevel, 'off'>;
  /** Show a notification when traffic fails over to another config and when it comes back. */
  notifyFailover: boolean;
}

/** What a settings change reports: the settings before and after. */
export interface SettingsUpdate {
  prev: HostSettings;
  next: HostSettings;
}

/** The current settings and their changes (SettingsState in VS Code, a plain object in tests). */
export interface SettingsSource {
  readonly current: HostSettings;
  readonly onDidChange: Event<SettingsUpdate>;
}

export interface SettingsRead {
  settings: HostSettings;
  /** One line per invalid value that was replaced by its default. */
  problems: string[];
}

/** Most specific value, skipping workspace-level values of restricted keys when the workspace is untrusted. */
export function effectiveValue(key: string, i: Inspected | undefined, trusted: boolean): unknown {
  if (!i) return undefined;
  const honourWorkspace = trusted || !RESTRICTED_SETTINGS.includes(key);
  if (honourWorkspace && i.workspaceFolderValue !== undefined) return i.workspaceFolderValue;
  if (honourWorkspace && i.workspaceValue !== undefined) return i.workspaceValue;
  if (i.globalValue !== undefined) return i.globalValue;
  return i.defaultValue;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Reads and validates every setting; invalid values fall back to defaults and are reported once each. */
export function readSettings(inspect: Inspect, trusted: boolean): SettingsRead {
  const problems: string[] = [];
  const get = (key: string) => effectiveValue(key, inspect(key), trusted);
  const bool = (key: string, def: boolean): boolean => {
    const v = get(key);
    if (v === undefined) return def;
    if (typeof v === 'boolean') return v;
    problems.push(`codexHelper.${key} must be true or false; using ${def}`);
    return def;
  };
  const str = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      problems.push(`codexHelper.${key} must be a string; ignoring it`);
      return undefined;
    }
    return v.trim() || undefined;
  };
  const int = (key: string, def: number, min: number, max: number): number => {
    const v = get(key);
    if (v === undefined) return def;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    problems.push(`codexHelper.${key} must be an integer ${min}..${max} (got ${JSON.stringify(v)}); using ${def}`);
    return def;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    problems.push(`codexHelper.${key} must be one of ${allowed.join(', ')} (got '${v}'); ignoring it`);
    return undefined;
  };

  const service = (s: ServiceName): ServiceSettings => {
    const enabledKey = s === 'codex' ? SETTING.codexEnabled : SETTING.claudeEnabled;
    const portKey = s === 'codex' ? SETTING.codexPort : SETTING.claudePort;
    const pinKey = s === 'codex' ? SETTING.codexPinnedConfig : SETTING.claudePinnedConfig;
    const out: ServiceSettings = { enabled: bool(enabledKey, true), port: int(portKey, DEFAULT_PORTS[s], 1, 65535) };
    const pin = str(pinKey);
    if (pin !== undefined) out.pinnedConfig = pin;
    return out;
  };
  const services = { codex: service('codex'), claude: service('claude') };
  const settings: HostSettings = {
    autoStart: bool(SETTING.autoStart, true),
    services,
    webviewMaxRows: int(SETTING.webviewMaxRows, 200, 10, 2000),
    logLevel: oneOf(SETTING.logLevel, LOG_LEVELS) ?? 'info',
    notifyFailover: bool(SETTING.notifyFailover, false),
  };
  const home = str(SETTING.configHome);
  if (home !== undefined) settings.configHome = home;
  const effort = oneOf(SETTING.codexDefaultEffort, EFFORTS);
  if (effort !== undefined) settings.codexDefaultEffort = effort;
  return { settings, problems };
}

export interface SettingsChange {
  /** The config home moved: the whole proxy must be rebuilt. */
  homeChanged: boolean;
  /** Listeners to (re)start because their port changed or they were just enabled. */
  restart: ServiceName[];
  /** Listeners to stop because they were disabled. */
  stop: ServiceName[];
  /** Services whose workspace pin changed. */
  pins: ServiceName[];
}

/** What must happen to go from settings `a` to `b`; only affected listeners are touched. */
export function diffSettings(a: HostSettings, b: HostSettings): SettingsChange {
  const out: SettingsChange = { homeChanged: a.configHome !== b.configHome, restart: [], stop: [], pins: [] };
  for (const s of SERVICE_NAMES) {
    const x = a.services[s];
    const y = b.services[s];
    if (x.enabled && !y.enabled) out.stop.push(s);
    else if (y.enabled && (!x.enabled || x.port !== y.port)) out.restart.push(s);
    if (x.pinnedConfig !== y.pinnedConfig) out.pins.push(s);
  }
  return out;
}
