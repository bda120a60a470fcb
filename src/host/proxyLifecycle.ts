// Starts the enabled services at activation, restarts only the listener whose setting changed, turns a port
// conflict or a broken config into exactly one actionable notification, and registers the lifecycle commands.
// No `vscode` here (HostUi).
import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { combineDisposables } from '../core/events';
import type { Disposable } from '../core/events';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../io/privateFiles';
import { configTemplate } from '../io/bootstrap';
import { isProxyListening } from '../io/proxyProbe';
import { configFilePath } from '../io/configFile';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { serviceOfArg } from './commandArgs';
import { appliedPinKey, CMD, CONTEXT, SETTING, SETTINGS_SECTION } from './constants';
import { findFreePort, listenerFixes, portConflictPrompt, validatePortInput } from './portConflict';
import type { ProxyController, ServiceStatus } from './proxyController';
import { diffSettings } from './settings';
import type { SettingsSource } from './settings';
import { serviceTitle } from './treeModel';
import { syncWorkspacePin } from './workspacePin';
import type { PinMemory } from './workspacePin';
import { t } from './l10n';
import { registerCommand } from './commands';
import type { CommandDeps } from './commands';

export interface LifecycleDeps extends CommandDeps {
  controller: ProxyController;
  settings: SettingsSource;
  /** Remembers which pin the workspace setting applied (context.workspaceState). */
  pinMemory: PinMemory;
  /** The config home when `codexHelper.proxy.configHome` is empty (CODEX_HELPER_HOME or ~/.codex-helper). */
  defaultHome: string;
}

/** The config home the in-process proxy uses: the setting, else `defaultHome`. */
export function configHome(settings: SettingsSource, defaultHome: string): string {
  return settings.current.configHome ?? defaultHome;
}

/** Wires the proxy lifecycle to settings and commands; starts the enabled services when auto-start is on. */
export function registerProxyLifecycle(deps: LifecycleDeps): Disposable {
  const { controller, settings, log, pinMemory, ui } = deps;
  const home = () => configHome(settings, deps.defaultHome);
  const shown = new Set<string>(); // problems with a visible notification: never a second one for the same cause

  const once = (key: string, show: () => Thenable<unknown>) => {
    if (shown.has(key)) return;
    shown.add(key);
    void show().then(undefined, () => undefined);
  };

  const applyPin = async (s: ServiceName, atStart: boolean) => {
    const client = controller.client(s);
    if (!client || controller.status(s).kind !== 'running') return;
    const pin = settings.current.services[s].pinnedConfig;
    try {
      const done = await syncWorkspacePin({ client, setting: pin, memory: pinMemory, key: appliedPinKey(s), atStart });
      if (done.kind === 'set') log.info(`${s}: pinned '${done.name}' (workspace setting)`);
      else if (done.kind === 'clear') log.info(`${s}: workspace pin removed: automatic config choice`);
    } catch (e) {
      log.warn(`codexHelper.${s}.pinnedConfig: could not pin '${pin ?? '(none)'}': ${(e as Error).message}`); // l10n-ignore: log line
      // A pin naming no config is a settings mistake the user must see, not only a log line.
      const shown = t("Codex Helper: codexHelper.{0}.pinnedConfig: could not pin '{1}': {2}", s, pin ?? t('(none)'), (e as Error).message);
      once(`${s}:pin:${pin ?? ''}`, () => ui.showWarningMessage(shown, t('Open Settings'))
        .then((a) => (a ? ui.executeCommand('workbench.action.openSettings', `codexHelper.${s}.pinnedConfig`) : undefined)));
    }
  };

  const reportFailure = async (s: ServiceName, st: Extract<ServiceStatus, { kind: 'failed' }>) => {
    log.error(st.message);
    if (st.code === 'HOST_FAILED' || controller.hostError) {
      once('host', () => ui.showErrorMessage(
        t('Codex Helper: the proxy cannot start: {0}', controller.hostError?.message ?? st.message), t('Open Config File'), t('Show Log'),
      ).then((a) => (a === t('Open Config File') ? ui.executeCommand(CMD.openConfigFile) : a ? ui.showLog() : undefined)));
      return;
    }
    if (st.code !== 'EADDRINUSE') {
      once(`${s}:${st.code}`, () => ui.showErrorMessage(t('Codex Helper: {0}', st.message), t('Show Log'))
        .then((a) => (a ? ui.showLog() : undefined)));
      return;
    }
    const isHelper = await isProxyListening(st.port);
    const prompt = portConflictPrompt(s, st.port, isHelper);
    once(`${s}:port:${st.port}`, () => ui.showWarningMessage(prompt.message, ...prompt.actions.map((a) => a.title)).then(async (title) => {
      const action = prompt.actions.find((a) => a.title === title)?.action;
      if (action === 'attach') await controller.attach(s, st.port);
      else if (action === 'showLog') ui.showLog();
      else if (action === 'useAnotherPort') await useAnotherPort(s);
    }));
  };

  const useAnotherPort = async (s: ServiceName) => {
    const other = SERVICE_NAMES.find((x) => x !== s)!;
    const taken = [settings.current.services[other].port];
    const suggested = await findFreePort();
    const text = await ui.showInputBox({
      title: t('Port for the {0} proxy', serviceTitle(s)),
      value: String(suggested),
      prompt: t('Clients connected with Connect … to Proxy must be connected again after a port change.'),
      validateInput: (v) => validatePortInput(v, taken),
    });
    if (!text) return;
    const port = Number(text.trim());
    const key = s === 'codex' ? SETTING.codexPort : SETTING.claudePort;
    try {
      // The settings listener restarts the listener on the new port.
      await ui.updateUserSetting(SETTINGS_SECTION, key, port);
    } catch (e) {
      log.warn(`could not save codexHelper.${key}: ${(e as Error).message}; using port ${port} for this session`);
      await startService(s, port);
    }
  };

  const startService = async (s: ServiceName, port = settings.current.services[s].port) => {
    const st = await controller.start(s, port);
    if (st.kind === 'failed') {
      await reportFailure(s, st);
      return;
    }
    for (const k of [...shown]) if (k.startsWith(`${s}:`) || k === 'host') shown.delete(k);
    await applyPin(s, true);
  };

  const startEnabled = async () => {
    for (const s of SERVICE_NAMES) if (settings.current.services[s].enabled) await startService(s);
  };

  const updateContext = () => {
    const any = SERVICE_NAMES.some((s) => controller.status(s).kind === 'running' || controller.status(s).kind === 'attached');
    ui.setContext(CONTEXT.anyRunning, any);
    ui.setContext(CONTEXT.anyFailed, SERVICE_NAMES.some((s) => controller.status(s).kind === 'failed'));
  };

  const targets = (arg: unknown, filter: (s: ServiceName) => boolean): ServiceName[] => {
    const one = serviceOfArg(arg);
    return one ? [one] : SERVICE_NAMES.filter(filter);
  };

  const onSettings = settings.onDidChange(({ prev, next }) => {
    const d = diffSettings(prev, next);
    void (async () => {
      if (d.homeChanged) {
        log.info(`config home changed to ${home()}: restarting the proxy`);
        await controller.disposeHost();
        await startEnabled();
        return;
      }
      for (const s of d.stop) await controller.stop(s);
      for (const s of d.restart) await startService(s);
      for (const s of d.pins) if (!d.restart.includes(s)) await applyPin(s, false);
    })();
  });

  const offStatus = controller.onDidChangeStatus(updateContext);
  updateContext();
  if (settings.current.autoStart) void startEnabled();
  else log.info('auto-start is off: use "Codex Helper: Start Proxy"');

  const reg = (id: string, fn: (arg?: unknown) => unknown) => registerCommand(deps, id, fn);
  return combineDisposables(
    onSettings,
    offStatus,
    reg(CMD.startProxy, async (arg) => {
      for (const s of targets(arg, (x) => settings.current.services[x].enabled && controller.status(x).kind !== 'running')) await startService(s);
    }),
    reg(CMD.stopProxy, async (arg) => {
      for (const s of targets(arg, (x) => controller.status(x).kind !== 'stopped')) await controller.stop(s);
    }),
    reg(CMD.restartProxy, async (arg) => {
      for (const s of targets(arg, (x) => settings.current.services[x].enabled || controller.status(x).kind !== 'stopped')) {
        await controller.stop(s);
        await startService(s);
      }
    }),
    reg(CMD.copyProxyUrl, async (arg) => {
      const live = targets(arg, (x) => ['running', 'attached'].includes(controller.status(x).kind));
      const s = live.length > 1
        ? (await ui.showQuickPick(live.map((x) => ({ label: serviceTitle(x), service: x })), { title: t('Copy proxy URL of') }))?.service
        : live[0];
      const st = s ? controller.status(s) : undefined;
      if (!s || !st || (st.kind !== 'running' && st.kind !== 'attached')) {
        if (!s) void ui.showInformationMessage(t('Codex Helper: no proxy is running.'));
        return undefined;
      }
      await ui.writeClipboard(st.url);
      ui.setStatusBarMessage(t('Copied {0}', st.url), 3000);
      return st.url;
    }),
    reg(CMD.listenerFixes, async (arg) => {
      const s = serviceOfArg(arg) ?? SERVICE_NAMES.find((x) => controller.status(x).kind === 'failed');
      const st = s ? controller.status(s) : undefined;
      if (!s || !st || st.kind !== 'failed') return void ui.showInformationMessage(t('Codex Helper: every enabled proxy is running.'));
      const fixes = listenerFixes(controller.hostError ? 'HOST_FAILED' : st.code, st.port, st.code === 'EADDRINUSE' && await isProxyListening(st.port));
      const pick = await ui.showQuickPick(fixes, { title: t('The {0} proxy is not running: {1}', serviceTitle(s), st.message), placeHolder: t('Choose a fix') });
      if (pick?.action === 'attach') await controller.attach(s, st.port);
      else if (pick?.action === 'useAnotherPort') await useAnotherPort(s);
      else if (pick?.action === 'retry') await startService(s);
      else if (pick?.action === 'openConfig') await ui.executeCommand(CMD.openConfigFile);
      else if (pick?.action === 'showLog') ui.showLog();
      return pick?.action;
    }),
    reg(CMD.showLog, () => ui.showLog()),
    reg(CMD.openConfigFile, async () => {
      const file = configFilePath(home());
      if (!existsSync(file)) {
        ensurePrivateDir(dirname(file));
        writeFileSync(file, configTemplate(), { flag: 'wx', mode: PRIVATE_FILE_MODE });
        log.info(`created ${file} from the template`);
      }
      await ui.openFile(file);
    }),
    reg(CMD.reloadConfig, async () => {
      const host = controller.host;
      if (!host || controller.hostError) {
        // Only a proxy that could not be built is rebuilt: a working one keeps its listeners and in-memory state.
        await controller.disposeHost();
        await startEnabled();
        if (!controller.hostError) void ui.showInformationMessage(t('Codex Helper: config loaded.'));
        return;
      }
      const r = await host.forceReload();
      if (r.error) {
        log.error(`config reload failed (the last good config stays active): ${r.error.message}`); // l10n-ignore: log line
        void ui.showErrorMessage(t('Codex Helper: config reload failed (the last good config stays active): {0}', r.error.message), t('Open Config File'))
          .then((a) => (a ? ui.executeCommand(CMD.openConfigFile) : undefined));
        return;
      }
      void ui.showInformationMessage(r.reloaded ? t('Codex Helper: config reloaded.') : t('Codex Helper: config unchanged (reloaded anyway).'));
    }),
  );
}
