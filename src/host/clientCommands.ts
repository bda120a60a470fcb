// Pointing Codex and Claude Code at the proxy (and back), and storing upstream keys in SecretStorage.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hasLineBreakOrNul } from '../core/auth';
import {
  ClientConfigError,
  claudeSettingsFile,
  claudeHomeDir,
  claudeSwitchOff,
  claudeSwitchOn,
  codexHomeDir,
  codexSwitchOff,
  codexSwitchOn,
  isLoopbackUrl,
  proxyBaseUrl,
} from '../io/clientSwitch';
import { isProxyListening } from '../io/proxyProbe';
import type { SwitchStatus } from '../io/clientSwitch';
import type { ServiceName } from '../core/types';
import type { Logger } from '../proxy/logger';
import { stringOfArg } from './commandArgs';
import { CMD, CONNECT_NO_CONFIRM_KEY } from './constants';
import { envVarOf, withEnvVar } from './clientEnv';
import { connectChanges } from './clientLink';
import { servedPort } from './proxyController';
import type { ProxyController } from './proxyController';
import type { SecretCache } from './secretCache';
import type { ServiceStore } from './serviceStore';
import type { SettingsState } from './settingsReader';
import { secretNameOf, serviceTitle } from './treeModel';
import { t } from './l10n';
import { registerCommand } from './commands';

export interface ClientCommandDeps {
  /** Remembers "Don't Ask Again" for the connect confirmation (context.globalState). */
  memory: { get(key: string): unknown; update(key: string, value: unknown): Thenable<void> };
  controller: ProxyController;
  store: ServiceStore;
  settings: SettingsState;
  secrets: SecretCache;
  log: Logger;
}

/** ANTHROPIC_BASE_URL in the user's `claudeCode.environmentVariables` (the Claude Code extension for VS Code). */
export function claudeExtensionBaseUrl(): string | undefined {
  return envVarOf(vscode.workspace.getConfiguration('claudeCode').inspect<unknown>('environmentVariables')?.globalValue, 'ANTHROPIC_BASE_URL');
}


const CLAUDE_ENV_SETTING = 'environmentVariables';
const CLAUDE_SECTION = 'claudeCode';

/** Registers Connect/Disconnect for both clients and Set Upstream API Key. */
export function registerClientCommands(deps: ClientCommandDeps): vscode.Disposable {
  const { controller, store, settings, secrets, log, memory } = deps;

  /** Asks before a client file is edited, unless the user said not to (or the caller passed `confirm: false`). */
  const confirmEdit = async (s: ServiceName, file: string, port: number, arg: unknown): Promise<boolean> => {
    if (memory.get(CONNECT_NO_CONFIRM_KEY) === true || (arg as { confirm?: unknown } | undefined)?.confirm === false) return true;
    const c = connectChanges(s, file, port);
    const CONNECT = t('Connect');
    const CONNECT_ALWAYS = t("Connect, Don't Ask Again");
    const a = await vscode.window.showWarningMessage(c.message, { modal: true, detail: c.detail }, CONNECT, CONNECT_ALWAYS);
    if (a === CONNECT_ALWAYS) await memory.update(CONNECT_NO_CONFIRM_KEY, true);
    return a === CONNECT || a === CONNECT_ALWAYS;
  };

  /** The port our proxy serves for `s`; undefined (after telling the user) when nothing of ours listens. */
  const portOf = async (s: ServiceName): Promise<number | undefined> => {
    const port = await servedPort(controller.status(s), settings.current.services[s].port, isProxyListening);
    if (port !== undefined) return port;
    // Pointing the client (and its credentials) at whatever else holds the port would be worse than not connecting.
    const port0 = settings.current.services[s].port;
    log.warn(`connect: the ${serviceTitle(s)} proxy is not running on port ${port0}`);
    const start = t('Start Proxy');
    void vscode.window.showErrorMessage(t('Codex Helper: the {0} proxy is not running on port {1}; start it before connecting.', serviceTitle(s), port0),
      start, t('Show Log')).then((a) =>
      a === start ? vscode.commands.executeCommand(CMD.startProxy, s) : a ? vscode.commands.executeCommand(CMD.showLog) : undefined);
    return undefined;
  };

  const switchWith = async (what: string, fn: () => SwitchStatus): Promise<SwitchStatus | undefined> => {
    try {
      const r = fn();
      log.info(`${what}: ${r.message}`);
      void vscode.window.showInformationMessage(t('Codex Helper: {0}', r.message));
      return r;
    } catch (e) {
      const msg = e instanceof ClientConfigError ? e.message : `${what} failed: ${(e as Error).message}`;
      log.error(msg);
      const shown = e instanceof ClientConfigError ? e.message : t('{0} failed: {1}', what, (e as Error).message);
      void vscode.window.showErrorMessage(t('Codex Helper: {0}', shown), t('Open File')).then((a) =>
        a && e instanceof ClientConfigError ? vscode.window.showTextDocument(vscode.Uri.file(e.file)) : undefined);
      return undefined;
    }
  };

  const claudeEnv = () => vscode.workspace.getConfiguration(CLAUDE_SECTION);
  /** The user-level list only: it is written back to user settings, so workspace entries must not leak into it. */
  const globalClaudeEnv = (): unknown => claudeEnv().inspect<unknown>(CLAUDE_ENV_SETTING)?.globalValue;

  const secretNames = (): string[] => {
    const names = new Set(secrets.names);
    for (const d of store.all()) {
      for (const c of d.detail?.configs ?? []) for (const u of c.upstreams) {
        const n = secretNameOf(u.auth_source);
        if (n) names.add(n);
      }
    }
    return [...names].sort();
  };

  /** The tree shows where each client points: read the files again after a switch. */
  const refreshed = async <T>(p: Promise<T>): Promise<T> => {
    const r = await p;
    void store.refreshAll();
    return r;
  };

  // A client file edited elsewhere (by hand, by `codex-helper switch`) updates the client nodes too.
  const watchers = [
    [codexHomeDir(process.env), 'config.toml'],
    [claudeHomeDir(process.env), 'settings.json'],
  ].map(([dir, name]) => {
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir!), name!));
    const poke = () => void store.refreshAll();
    w.onDidChange(poke);
    w.onDidCreate(poke);
    w.onDidDelete(poke);
    return w;
  });

  const onClaudeSetting = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(`${CLAUDE_SECTION}.${CLAUDE_ENV_SETTING}`)) void store.refreshAll();
  });

  const reg = (id: string, fn: (arg?: unknown) => unknown) => registerCommand(id, fn, log);
  return vscode.Disposable.from(
    ...watchers,
    onClaudeSetting,
    reg(CMD.connectCodex, async (arg) => {
      const port = await portOf('codex');
      if (port === undefined || !(await confirmEdit('codex', join(codexHomeDir(process.env), 'config.toml'), port, arg))) return undefined;
      return refreshed(switchWith(t('connect Codex'), () => codexSwitchOn(codexHomeDir(process.env), port)));
    }),
    reg(CMD.disconnectCodex, () => refreshed(switchWith(t('disconnect Codex'), () => codexSwitchOff(codexHomeDir(process.env))))),
    reg(CMD.connectClaude, async (arg) => {
      const port = await portOf('claude');
      if (port === undefined || !(await confirmEdit('claude', claudeSettingsFile(claudeHomeDir(process.env)), port, arg))) return undefined;
      const r = await refreshed(switchWith(t('connect Claude Code'), () => claudeSwitchOn(claudeHomeDir(process.env), port)));
      if (!r) return r;
      const url = proxyBaseUrl(port);
      const alsoVsCode = stringOfArg(arg, 'vscodeSetting') === 'yes' || (stringOfArg(arg, 'vscodeSetting') !== 'no' &&
        (await vscode.window.showInformationMessage(
          t('Also point the Claude Code extension for VS Code at the proxy (setting claudeCode.environmentVariables)?'),
          t('Set ANTHROPIC_BASE_URL'), t('Not Now'))) === t('Set ANTHROPIC_BASE_URL'));
      if (alsoVsCode) {
        await claudeEnv().update(CLAUDE_ENV_SETTING, withEnvVar(globalClaudeEnv(), 'ANTHROPIC_BASE_URL', url), vscode.ConfigurationTarget.Global);
        log.info(`claudeCode.environmentVariables: ANTHROPIC_BASE_URL=${url}`);
      }
      return r;
    }),
    reg(CMD.disconnectClaude, async () => {
      const r = await refreshed(switchWith(t('disconnect Claude Code'), () => claudeSwitchOff(claudeHomeDir(process.env))));
      const list = globalClaudeEnv();
      const cur = envVarOf(list, 'ANTHROPIC_BASE_URL');
      // Only our own loopback entry is removed; a base URL the user set elsewhere stays.
      if (cur !== undefined && isLoopbackUrl(cur)) {
        await claudeEnv().update(CLAUDE_ENV_SETTING, withEnvVar(list, 'ANTHROPIC_BASE_URL', undefined), vscode.ConfigurationTarget.Global);
        log.info('claudeCode.environmentVariables: removed ANTHROPIC_BASE_URL');
      }
      return r;
    }),
    reg(CMD.setUpstreamApiKey, async (arg) => {
      let name = stringOfArg(arg, 'secretName');
      if (!name) {
        const known = secretNames();
        const have = new Set(secrets.names);
        const NEW = t('$(add) New name…');
        const pick = await vscode.window.showQuickPick(
          [...known.map((n) => ({ label: n, description: have.has(n) ? t('set') : t('not set') })), { label: NEW, description: '' }],
          { title: t('Upstream secret (named by auth_token_secret / api_key_secret in config.toml)') });
        if (!pick) return;
        name = pick.label === NEW
          ? (await vscode.window.showInputBox({ title: t('Secret name'), validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : t('Letters, digits, _ . - only')) }))
          : pick.label;
        if (!name) return;
      }
      const given = typeof (arg as { value?: unknown } | undefined)?.value === 'string' ? (arg as { value: string }).value : undefined;
      const value = given ?? await vscode.window.showInputBox({
        title: t("Value of secret '{0}'", name), password: true, ignoreFocusOut: true, prompt: t('Stored in VS Code SecretStorage. Leave empty to delete it.'),
        validateInput: (v) => (hasLineBreakOrNul(v) ? t('A credential cannot contain a line break or NUL character') : undefined),
      });
      if (value === undefined) return;
      if (hasLineBreakOrNul(value)) {
        // It would be written into request headers: refuse it here rather than on every request.
        void vscode.window.showErrorMessage(t("Codex Helper: secret '{0}' not saved: it contains a line break or NUL character.", name));
        return;
      }
      if (value === '') await secrets.remove(name);
      else await secrets.set(name, value);
      log.info(`secret '${name}' ${value === '' ? 'deleted' : 'stored'}`);
      void store.refreshAll();
      if (!secretNames().includes(name) || !given) {
        const referenced = secretNames().includes(name);
        void vscode.window.showInformationMessage(referenced
          ? (value === '' ? t("Codex Helper: secret '{0}' deleted.", name) : t("Codex Helper: secret '{0}' saved.", name))
          : t('Codex Helper: secret \'{0}\' saved. Reference it from an upstream in config.toml: auth_token_secret = "{0}" (Bearer) or api_key_secret = "{0}" (x-api-key).', name));
      }
    }),
  );
}
