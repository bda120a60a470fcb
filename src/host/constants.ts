// Every id the extension contributes (commands, views, settings, context keys), in one place so package.json,
// menus and code cannot drift apart silently (test/unit/hostManifest.test.ts checks them against package.json).

export const EXTENSION_ID = 'codex-helper.codex-helper-vscode';
export const OUTPUT_NAME = 'Codex Helper';

export const VIEW_CONTAINER = 'codexHelper';
export const VIEW_UPSTREAMS = 'codexHelper.upstreams';

export const CMD = {
  pinConfig: 'codexHelper.pinConfig',
  unpinConfig: 'codexHelper.unpinConfig',
  setSessionEffort: 'codexHelper.setSessionEffort',
  setSessionConfig: 'codexHelper.setSessionConfig',
  reloadConfig: 'codexHelper.reloadConfig',
  openConfigFile: 'codexHelper.openConfigFile',
  runHealthChecks: 'codexHelper.runHealthChecks',
  showRecentRequests: 'codexHelper.showRecentRequests',
  showStats: 'codexHelper.showStats',
  startProxy: 'codexHelper.startProxy',
  stopProxy: 'codexHelper.stopProxy',
  restartProxy: 'codexHelper.restartProxy',
  copyProxyUrl: 'codexHelper.copyProxyUrl',
  connectCodex: 'codexHelper.connectCodex',
  disconnectCodex: 'codexHelper.disconnectCodex',
  connectClaude: 'codexHelper.connectClaude',
  disconnectClaude: 'codexHelper.disconnectClaude',
  setUpstreamApiKey: 'codexHelper.setUpstreamApiKey',
  showLog: 'codexHelper.showLog',
  enableConfig: 'codexHelper.enableConfig',
  disableConfig: 'codexHelper.disableConfig',
  setConfigLevel: 'codexHelper.setConfigLevel',
  checkConfigHealth: 'codexHelper.checkConfigHealth',
  copyBaseUrl: 'codexHelper.copyBaseUrl',
  refreshView: 'codexHelper.refreshView',
  resetCooldown: 'codexHelper.resetCooldown',
  openConfigAt: 'codexHelper.openConfigAt',
  listenerFixes: 'codexHelper.listenerFixes',
  importConfig: 'codexHelper.importConfig',
  openWalkthrough: 'codexHelper.openWalkthrough',
} as const;

export type CommandId = (typeof CMD)[keyof typeof CMD];

/** Setting keys relative to the `codexHelper` section. */
export const SETTING = {
  configHome: 'proxy.configHome',
  autoStart: 'proxy.autoStart',
  codexEnabled: 'codex.enabled',
  codexPort: 'codex.port',
  claudeEnabled: 'claude.enabled',
  claudePort: 'claude.port',
  codexPinnedConfig: 'codex.pinnedConfig',
  claudePinnedConfig: 'claude.pinnedConfig',
  codexDefaultEffort: 'codex.defaultEffort',
  webviewMaxRows: 'webview.maxRows',
  logLevel: 'log.level',
  notifyFailover: 'notifications.failover',
} as const;

export const SETTINGS_SECTION = 'codexHelper';

/** Settings whose workspace values are ignored in untrusted workspaces: they could redirect traffic or keys. */
export const RESTRICTED_SETTINGS: readonly string[] = [
  SETTING.configHome,
  SETTING.codexPort,
  SETTING.claudePort,
  SETTING.codexPinnedConfig,
  SETTING.claudePinnedConfig,
  SETTING.codexDefaultEffort,
];

export const CONTEXT = {
  anyRunning: 'codexHelper:anyRunning',
  /** A listener that should run failed to start (its status bar item shows the error). */
  anyFailed: 'codexHelper:anyFailed',
  /** No config.toml (or config.json) in the config home: the proxy serves an import or the embedded default. */
  noConfigFile: 'codexHelper:noConfigFile',
} as const;

export const VIEW_WELCOME = 'codexHelper.welcome';
export const WALKTHROUGH_ID = 'codexHelper.gettingStarted';
/** globalState key: the user chose "Don't Ask Again" before Connect edits a client's file. */
export const CONNECT_NO_CONFIRM_KEY = 'codexHelper.connect.noConfirm';

/** Prefix of SecretStorage keys holding upstream credentials named in config.toml. */
export const SECRET_KEY_PREFIX = 'codexHelper.upstream.';

export const EFFORTS = ['low', 'medium', 'high', 'xhigh'] as const;

/** workspaceState key remembering which pin the `<service>.pinnedConfig` setting applied (see workspacePin.ts). */
export const appliedPinKey = (service: string): string => `codexHelper.appliedPin.${service}`;

/** The Claude Code extension for VS Code reads its environment from `claudeCode.environmentVariables`. */
export const CLAUDE_SECTION = 'claudeCode';
export const CLAUDE_ENV_SETTING = 'environmentVariables';
