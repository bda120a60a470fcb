// Commands that change routing at runtime through the admin API: pins, per-session overrides, config meta and
// health checks. They work the same against the in-process proxy and an attached one.
import * as vscode from 'vscode';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { AdminClient, ConfigDetail } from '../proxy/adminClient';
import type { Logger } from '../proxy/logger';
import { numberOfArg, serviceOfArg, stringOfArg } from './commandArgs';
import { CMD, EFFORTS } from './constants';
import { waitForHealthChecks } from './healthProgress';
import type { HealthRun } from './healthProgress';
import type { ProxyController } from './proxyController';
import type { ServiceStore } from './serviceStore';
import { sessionChoices } from './sessions';
import { serviceTitle } from './treeModel';

export interface OverrideDeps {
  controller: ProxyController;
  store: ServiceStore;
  log: Logger;
}

type Live = { service: ServiceName; client: AdminClient };

/** Registers pin/unpin, session effort/config, enable/disable/level and health-check commands. */
export function registerOverrideCommands(deps: OverrideDeps): vscode.Disposable {
  const { controller, store, log } = deps;

  const live = (): Live[] => SERVICE_NAMES.flatMap((s) => {
    const client = controller.client(s);
    return client ? [{ service: s, client }] : [];
  });

  /** The service the argument names, else the only live one, else the user's choice. */
  const pickLive = async (arg: unknown): Promise<Live | undefined> => {
    const all = live();
    const named = serviceOfArg(arg);
    if (named) {
      const hit = all.find((l) => l.service === named);
      if (!hit) void vscode.window.showWarningMessage(`Codex Helper: the ${serviceTitle(named)} proxy is not running.`);
      return hit;
    }
    if (all.length === 0) {
      void vscode.window.showWarningMessage('Codex Helper: no proxy is running.', 'Start Proxy')
        .then((a) => (a ? vscode.commands.executeCommand(CMD.startProxy) : undefined));
      return undefined;
    }
    if (all.length === 1) return all[0];
    const pick = await vscode.window.showQuickPick(all.map((l) => ({ label: serviceTitle(l.service), live: l })), { title: 'Which proxy?' });
    return pick?.live;
  };

  /** Runs an admin call; failures become one error message (and a log line), never a throw into VS Code. */
  const run = async (what: string, service: ServiceName, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn();
      log.info(`${service}: ${what}`);
      void store.refresh(service);
      return true;
    } catch (e) {
      log.error(`${service}: ${what} failed: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Codex Helper: ${what} failed: ${(e as Error).message}`);
      return false;
    }
  };

  const configs = async (l: Live): Promise<ConfigDetail[]> => (await l.client.configsDetail()).configs;

  const pickConfig = async (l: Live, title: string, extra: Array<{ label: string; value: string | null }>) => {
    const detail = await l.client.configsDetail();
    const items = [
      ...extra.map((e) => ({ label: e.label, value: e.value, description: '' })),
      ...detail.configs.map((c) => ({
        label: `${c.name === detail.global_override ? '$(pinned) ' : ''}${c.alias ?? c.name}`,
        description: [c.alias ? c.name : undefined, `L${c.effective_level}`, c.effective_enabled ? undefined : 'disabled',
          c.active ? 'active' : undefined].filter(Boolean).join(' · '),
        value: c.name as string | null,
      })),
    ];
    return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true }))?.value;
  };

  const sessionPick = async (l: Live, arg: unknown): Promise<string | undefined> => {
    const given = stringOfArg(arg, 'sessionId');
    if (given) return given;
    const snap = await l.client.snapshot(1, 1);
    const choices = sessionChoices(snap, Date.now());
    if (choices.length === 0) {
      void vscode.window.showInformationMessage(`Codex Helper: no recent ${serviceTitle(l.service)} sessions yet.`);
      return undefined;
    }
    return (await vscode.window.showQuickPick(choices, { title: 'Session', matchOnDescription: true, matchOnDetail: true }))?.sessionId;
  };

  const metaValue = async (l: Live, name: string, field: 'enabled' | 'level', value: boolean | number | null) => {
    // Setting the file's own value clears the override, so later file edits take effect again.
    const c = (await configs(l)).find((x) => x.name === name);
    const same = c !== undefined && value === (field === 'enabled' ? c.enabled : c.level);
    return run(`${field} of ${name} → ${value ?? 'file value'}`, l.service,
      () => l.client.setConfigMeta(name, { [field]: same ? null : value }));
  };

  const healthChecks = async (arg: unknown, onlyConfig: boolean) => {
    const one = serviceOfArg(arg);
    const targets = one ? live().filter((l) => l.service === one) : live();
    const config = onlyConfig ? stringOfArg(arg, 'config') : undefined;
    if (targets.length === 0) return void vscode.window.showWarningMessage('Codex Helper: no proxy is running.');
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Codex Helper: health checks', cancellable: true },
      async (progress, token) => {
        const started: HealthRun[] = [];
        for (const l of targets) {
          try {
            const r = await l.client.startHealthChecks(config ? [config] : 'all');
            started.push({ ...l, names: [...r.started, ...r.already_running] });
          } catch (e) {
            log.error(`${l.service}: health checks could not start: ${(e as Error).message}`);
          }
        }
        if (started.length === 0) {
          void vscode.window.showErrorMessage('Codex Helper: health checks could not start (see the log).', 'Show Log')
            .then((a) => (a ? vscode.commands.executeCommand(CMD.showLog) : undefined));
          return undefined;
        }
        token.onCancellationRequested(() => {
          for (const l of started) void l.client.cancelHealthChecks(l.names).catch(() => undefined);
        });
        const { ok, err, runs } = await waitForHealthChecks(started, {
          onProgress: (done, total) => progress.report({ message: `${done}/${total} upstreams probed` }),
          onDrop: (l, e) => log.warn(`${l.service}: health checks: the proxy stopped answering: ${e.message}`),
        });
        for (const l of started) void store.refresh(l.service);
        if (runs.length === 0) {
          void vscode.window.showErrorMessage('Codex Helper: health checks interrupted: the proxy stopped answering.');
          return undefined;
        }
        const summary = `${ok} healthy, ${err} failing${token.isCancellationRequested ? ' (canceled)' : ''}`;
        log.info(`health checks: ${summary}`);
        void vscode.window.showInformationMessage(`Codex Helper: health checks done: ${summary}.`);
        return { ok, err };
      },
    );
  };

  const reg = (id: string, fn: (arg?: unknown, ...rest: unknown[]) => unknown) => vscode.commands.registerCommand(id, fn);
  return vscode.Disposable.from(
    reg(CMD.pinConfig, async (arg) => {
      const l = await pickLive(arg);
      if (!l) return;
      const name = stringOfArg(arg, 'config') ?? await pickConfig(l, `Pin a ${serviceTitle(l.service)} config`,
        [{ label: '$(sync) Automatic (by level)', value: null }]);
      if (name === undefined) return;
      await run(name ? `pinned ${name}` : 'automatic config choice', l.service, () => l.client.setGlobalConfig(name ?? undefined));
    }),
    reg(CMD.unpinConfig, async (arg) => {
      const l = await pickLive(arg);
      if (l) await run('automatic config choice', l.service, () => l.client.setGlobalConfig(undefined));
    }),
    reg(CMD.setSessionEffort, async (arg) => {
      const l = await pickLive(arg ?? 'codex');
      if (!l) return;
      const sid = await sessionPick(l, arg);
      if (!sid) return;
      const given = stringOfArg(arg, 'effort');
      const effort = given ?? (await vscode.window.showQuickPick(
        [...EFFORTS.map((e) => ({ label: e, value: e as string | null })), { label: '$(close) clear override', value: null }],
        { title: 'Reasoning effort for this session' }))?.value;
      if (effort === undefined) return;
      await run(`effort of session ${sid} → ${effort === 'clear' || effort === null ? 'cleared' : effort}`, l.service,
        () => l.client.setSessionEffort(sid, effort === 'clear' || effort === null ? undefined : effort));
    }),
    reg(CMD.setSessionConfig, async (arg) => {
      const l = await pickLive(arg);
      if (!l) return;
      const sid = await sessionPick(l, arg);
      if (!sid) return;
      const name = stringOfArg(arg, 'config') ?? await pickConfig(l, 'Config for this session', [{ label: '$(close) clear override', value: null }]);
      if (name === undefined) return;
      await run(`config of session ${sid} → ${name ?? 'cleared'}`, l.service, () => l.client.setSessionConfig(sid, name ?? undefined));
    }),
    reg(CMD.enableConfig, async (arg) => {
      const l = await pickLive(arg);
      const name = stringOfArg(arg, 'config') ?? (l && await pickConfig(l, 'Enable config', []));
      if (l && name) await metaValue(l, name, 'enabled', true);
    }),
    reg(CMD.disableConfig, async (arg) => {
      const l = await pickLive(arg);
      const name = stringOfArg(arg, 'config') ?? (l && await pickConfig(l, 'Disable config', []));
      if (l && name) await metaValue(l, name, 'enabled', false);
    }),
    reg(CMD.setConfigLevel, async (arg) => {
      const l = await pickLive(arg);
      const name = stringOfArg(arg, 'config') ?? (l && await pickConfig(l, 'Change the level of', []));
      if (!l || !name) return;
      const c = (await configs(l)).find((x) => x.name === name);
      const level = numberOfArg(arg, 'level') ?? (await vscode.window.showQuickPick(
        Array.from({ length: 10 }, (_, i) => ({
          label: String(i + 1),
          description: [i + 1 === c?.effective_level ? 'current' : undefined, i + 1 === c?.level ? 'file value' : undefined, i === 0 ? 'preferred' : undefined].filter(Boolean).join(' · '),
          value: i + 1,
        })), { title: `Level of ${name} (lower is preferred)` }))?.value;
      if (level !== undefined) await metaValue(l, name, 'level', level);
    }),
    reg(CMD.runHealthChecks, (arg) => healthChecks(arg, false)),
    reg(CMD.checkConfigHealth, (arg) => healthChecks(arg, true)),
    reg(CMD.copyBaseUrl, async (arg) => {
      const url = stringOfArg(arg, 'baseUrl');
      if (!url) return;
      await vscode.env.clipboard.writeText(url);
      vscode.window.setStatusBarMessage(`Copied ${url}`, 3000);
    }),
    reg(CMD.refreshView, () => store.refreshAll()),
  );
}
