// Pointing Codex and Claude Code at the proxy (and back), and storing upstream keys in SecretStorage. No `vscode`
// here: the UI goes through HostUi, the client homes come from extension.ts (the file watchers are clientWatch.ts).
import { join } from 'node:path';
import { hasLineBreakOrNul } from '../core/auth';
import { combineDisposables } from '../core/events';
import type { Disposable } from '../core/events';
import {
  ClientConfigError,
  claudeSettingsFile,
  claudeSwitchOff,
  claudeSwitchOn,
  codexSwitchOff,
  codexSwitchOn,
  isLoopbackUrl,
  proxyBaseUrl,
} from '../io/clientSwitch';
import { isProxyListening } from '../io/proxyProbe';
import type { SwitchStatus } from '../io/clientSwitch';
import type { ServiceName } from '../core/types';
import { stringOfArg } from './commandArgs';
import { CLAUDE_ENV_SETTING, CLAUDE_SECTION, CMD, CONNECT_NO_CONFIRM_KEY } from './constants';
import { envVarOf, withEnvVar } from './clientEnv';
import { connectChanges } from './clientLink';
import { servedPort } from './proxyController';
import type { ProxyController } from './proxyController';
import type { SecretCache } from './secretCache';
import type { ServiceStore } from './serviceStore';
import type { SettingsSource } from './settings';
import { secretNameOf, serviceTitle } from './treeModel';
import { t } from './l10n';
import { registerCommand } from './commands';
import type { CommandDeps } from './commands';

/** Where Codex and Claude Code keep their files (read from the environment once, in extension.ts). */
export interface ClientHomes {
  codex: string;
  claude: string;
}

export interface ClientCommandDeps extends CommandDeps {
  /** Remembers "Don't Ask Again" for the connect confirmation (context.globalState). */
  memory: { get(key: string): unknown; update(key: string, value: unknown): PromiseLike<void> };
  controller: ProxyController;
  store: ServiceStore;
  settings: SettingsSource;
  secrets: SecretCache;
  homes: ClientHomes;
}

/** Registers Connect/Disconnect for both clients and Set Upstream API Key. */
export function registerClientCommands(deps: ClientCommandDeps): Disposable {
  const { controller, store, settings, secrets, log, memory, ui, homes } = deps;

  /** Asks before a client file is edited, unless the user said not to (or the caller passed `confirm: false`). */
  const confirmEdit = async (s: ServiceName, file: string, port: number, arg: unknown): Promise<boolean> => {
    if (memory.get(CONNECT_NO_CONFIRM_KEY) === true || (arg as { confirm?: unknown } | undefined)?.confirm === false) return true;
    const c = connectChanges(s, file, port);
    const CONNECT = t('Connect');
    const CONNECT_ALWAYS = t("Connect, Don't Ask Again");
    const a = await ui.showModalWarning(c.message, c.detail, CONNECT, CONNECT_ALWAYS);
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
    void ui.showErrorMessage(t('Codex Helper: the {0} proxy is not running on port {1}; start it before connecting.', serviceTitle(s), port0),
      start, t('Show Log')).then((a) =>
      a === start ? ui.executeCommand(CMD.startProxy, s) : a ? ui.executeCommand(CMD.showLog) : undefined);
    return undefined;
  };

  const switchWith = async (what: string, fn: () => SwitchStatus): Promise<SwitchStatus | undefined> => {
    try {
      const r = fn();
      log.info(`${what}: ${r.message}`);
      void ui.showInformationMessage(t('Codex Helper: {0}', r.message));
      return r;
    } catch (e) {
      const msg = e instanceof ClientConfigError ? e.message : `${what} failed: ${(e as Error).message}`;
      log.error(msg);
      const shown = e instanceof ClientConfigError ? e.message : t('{0} failed: {1}', what, (e as Error).message);
      void ui.showErrorMessage(t('Codex Helper: {0}', shown), t('Open File')).then((a) =>
        a && e instanceof ClientConfigError ? ui.openFile(e.file) : undefined);
      return undefined;
    }
  };

  /** The user-level list only: it is written back to user settings, so workspace entries must not leak into it. */
  const globalClaudeEnv = (): unknown => ui.userSetting(CLAUDE_SECTION, CLAUDE_ENV_SETTING);

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

  const reg = (id: string, fn: (arg?: unknown) => unknown) => registerCommand(deps, id, fn);
  return combineDisposables(
    reg(CMD.connectCodex, async (arg) => {
      const port = await portOf('codex');
      if (port === undefined || !(await confirmEdit('codex', join(homes.codex, 'config.toml'), port, arg))) return undefined;
      return refreshed(switchWith(t('connect Codex'), () => codexSwitchOn(homes.codex, port)));
    }),
    reg(CMD.disconnectCodex, () => refreshed(switchWith(t('disconnect Codex'), () => codexSwitchOff(homes.codex)))),
    reg(CMD.connectClaude, async (arg) => {
      const port = await portOf('claude');
      if (port === undefined || !(await confirmEdit('claude', claudeSettingsFile(homes.claude), port, arg))) return undefined;
      const r = await refreshed(switchWith(t('connect Claude Code'), () => claudeSwitchOn(homes.claude, port)));
      if (!r) return r;
      const url = proxyBaseUrl(port);
      const alsoVsCode = stringOfArg(arg, 'vscodeSetting') === 'yes' || (stringOfArg(arg, 'vscodeSetting') !== 'no' &&
        (await ui.showInformationMessage(
          t('Also point the Claude Code extension for VS Code at the proxy (setting claudeCode.environmentVariables)?'),
          t('Set ANTHROPIC_BASE_URL'), t('Not Now'))) === t('Set ANTHROPIC_BASE_URL'));
      if (alsoVsCode) {
        await ui.updateUserSetting(CLAUDE_SECTION, CLAUDE_ENV_SETTING, withEnvVar(globalClaudeEnv(), 'ANTHROPIC_BASE_URL', url));
        log.info(`claudeCode.environmentVariables: ANTHROPIC_BASE_URL=${url}`);
      }
      return r;
    }),
    reg(CMD.disconnectClaude, async () => {
      const r = await refreshed(switchWith(t('disconnect Claude Code'), () => claudeSwitchOff(homes.claude)));
      const list = globalClaudeEnv();
      const cur = envVarOf(list, 'ANTHROPIC_BASE_URL');
      // Only our own loopback entry is removed; a base URL the user set elsewhere stays.
      if (cur !== undefined && isLoopbackUrl(cur)) {
        await ui.updateUserSetting(CLAUDE_SECTION, CLAUDE_ENV_SETTING, withEnvVar(list, 'ANTHROPIC_BASE_URL', undefined));
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
        const pick = await ui.showQuickPick(
          [...known.map((n) => ({ label: n, description: have.has(n) ? t('set') : t('not set') })), { label: NEW, description: '' }],
          { title: t('Upstream secret (named by auth_token_secret / api_key_secret in config.toml)') });
        if (!pick) return;
        name = pick.label === NEW
          ? (await ui.showInputBox({ title: t('Secret name'), validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : t('Letters, digits, _ . - only')) }))
          : pick.label;
        if (!name) return;
      }
      const given = typeof (arg as { value?: unknown } | undefined)?.value === 'string' ? (arg as { value: string }).value : undefined;
      const value = given ?? await ui.showInputBox({
        title: t("Value of secret '{0}'", name), password: true, ignoreFocusOut: true, prompt: t('Stored in VS Code SecretStorage. Leave empty to delete it.'),
        validateInput: (v) => (hasLineBreakOrNul(v) ? t('A credential cannot contain a line break or NUL character') : undefined),
      });
      if (value === undefined) return;
      if (hasLineBreakOrNul(value)) {
        // It would be written into request headers: refuse it here rather than on every request.
        void ui.showErrorMessage(t("Codex Helper: secret '{0}' not saved: it contains a line break or NUL character.", name));
        return;
      }
      // Asked before storing: once stored, the cache knows the name whether or not config.toml uses it.
      const referenced = secretNames().includes(name);
      if (value === '') await secrets.remove(name);
      else await secrets.set(name, value);
      log.info(`secret '${name}' ${value === '' ? 'deleted' : 'stored'}`);
      void store.refreshAll();
      if (!referenced || !given) {
        void ui.showInformationMessage(value === '' ? t("Codex Helper: secret '{0}' deleted.", name)
          : referenced ? t("Codex Helper: secret '{0}' saved.", name)
            : t('Codex Helper: secret \'{0}\' saved. Reference it from an upstream in config.toml: auth_token_secret = "{0}" (Bearer) or api_key_secret = "{0}" (x-api-key).', name));
      }
    }),
  );
}
