// Commands that change routing at runtime through the admin API: pins, per-session overrides, config meta and
// health checks. They work the same against the in-process proxy and an attached one.
import { combineDisposables } from '../core/events';
import type { Disposable } from '../core/events';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { AdminClient, ConfigDetail } from '../proxy/adminClient';
import { numberOfArg, serviceOfArg, stringOfArg } from './commandArgs';
import { CMD } from './constants';
import { waitForHealthChecks } from './healthProgress';
import type { HealthRun } from './healthProgress';
import type { ProxyController } from './proxyController';
import type { ServiceStore } from './serviceStore';
import { configPickItems, effortPickItems } from './quickPicks';
import type { PickItem } from './quickPicks';
import { sessionChoices } from './sessions';
import { priorityText, serviceTitle } from './treeModel';
import { t } from './l10n';
import { registerCommand } from './commands';
import type { CommandDeps } from './commands';

export interface OverrideDeps extends CommandDeps {
  controller: ProxyController;
  store: ServiceStore;
}

type Live = { service: ServiceName; client: AdminClient };

/** Registers pin/unpin, session effort/config, enable/disable/level and health-check commands. */
export function registerOverrideCommands(deps: OverrideDeps): Disposable {
  const { controller, store, log, ui } = deps;

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
      if (!hit) void ui.showWarningMessage(t('Codex Helper: the {0} proxy is not running.', serviceTitle(named)));
      return hit;
    }
    if (all.length === 0) {
      void ui.showWarningMessage(t('Codex Helper: no proxy is running.'), t('Start Proxy'))
        .then((a) => (a ? ui.executeCommand(CMD.startProxy) : undefined));
      return undefined;
    }
    if (all.length === 1) return all[0];
    const pick = await ui.showQuickPick(all.map((l) => ({ label: serviceTitle(l.service), description: l.client.baseUrl, live: l })),
      { title: t('Which proxy?'), placeHolder: t('Codex (Responses API) or Claude Code (Messages API)') });
    return pick?.live;
  };

  /**
   * Runs an admin call; failures become one error message (and a log line), never a throw into VS Code. `what` is
   * the English log wording, `shown` the user's wording of the same change.
   */
  const run = async (what: string, shown: string, service: ServiceName, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn();
      log.info(`${service}: ${what}`);
      void store.refresh(service);
      return true;
    } catch (e) {
      log.error(`${service}: ${what} failed: ${(e as Error).message}`);
      void ui.showErrorMessage(t('Codex Helper: {0} failed: {1}', shown, (e as Error).message));
      return false;
    }
  };

  /** A quick pick whose current item is preselected. */
  const showPick = <T>(items: Array<PickItem<T>>, o: { title: string; placeHolder: string; matchOnDescription?: boolean; matchOnDetail?: boolean }) =>
    ui.showQuickPick(items, { ...o, active: items.find((i) => i.current) });

  const configs = async (l: Live): Promise<ConfigDetail[]> => (await l.client.configsDetail()).configs;

  /** Picks a config; `current` (a name, or null for "automatic"/"no override") is marked and preselected. */
  const pickConfig = async (l: Live, title: string, extra: Array<{ label: string; value: string | null }>,
    current?: string | null, placeHolder = t('Health and priority as in the Upstreams view')) => {
    const [detail, snapshot] = await Promise.all([l.client.configsDetail(), l.client.snapshot(1, 1).catch(() => undefined)]);
    const d = { ...store.get(l.service), ...(snapshot ? { snapshot } : {}) };
    const items = configPickItems(d, detail, Date.now(), current, extra);
    return (await showPick(items, { title, placeHolder, matchOnDescription: true, matchOnDetail: true }))?.value;
  };

  const sessionPick = async (l: Live, arg: unknown): Promise<string | undefined> => {
    const given = stringOfArg(arg, 'sessionId');
    if (given) return given;
    const snap = await l.client.snapshot(1, 1);
    const choices = sessionChoices(snap, Date.now());
    if (choices.length === 0) {
      void ui.showInformationMessage(t('Codex Helper: no recent {0} sessions yet.', serviceTitle(l.service)));
      return undefined;
    }
    return (await ui.showQuickPick(choices, {
      title: t('{0} session (newest first)', serviceTitle(l.service)),
      placeHolder: t('Filter by folder, session id or model'),
      matchOnDescription: true,
      matchOnDetail: true,
    }))?.sessionId;
  };

  const metaValue = async (l: Live, name: string, field: 'enabled' | 'level', value: boolean | number | null) => {
    // Setting the file's own value clears the override, so later file edits take effect again.
    const c = (await configs(l)).find((x) => x.name === name);
    const same = c !== undefined && value === (field === 'enabled' ? c.enabled : c.level);
    const shown = field === 'enabled' ? (value ? t('enable {0}', name) : t('disable {0}', name)) : t('priority of {0} → {1}', name, String(value));
    return run(`${field} of ${name} → ${value ?? 'file value'}`, shown, l.service, // l10n-ignore: log line
      () => l.client.setConfigMeta(name, { [field]: same ? null : value }));
  };

  const healthChecks = async (arg: unknown, onlyConfig: boolean) => {
    const one = serviceOfArg(arg);
    const targets = one ? live().filter((l) => l.service === one) : live();
    const config = onlyConfig ? stringOfArg(arg, 'config') : undefined;
    if (targets.length === 0) return void ui.showWarningMessage(t('Codex Helper: no proxy is running.'));
    return ui.withProgress(t('Codex Helper: health checks'),
      async (report, token) => {
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
          void ui.showErrorMessage(t('Codex Helper: health checks could not start (see the log).'), t('Show Log'))
            .then((a) => (a ? ui.executeCommand(CMD.showLog) : undefined));
          return undefined;
        }
        token.onCancellationRequested(() => {
          for (const l of started) void l.client.cancelHealthChecks(l.names).catch(() => undefined);
        });
        const { ok, err, runs } = await waitForHealthChecks(started, {
          onProgress: (done, total) => report(t('{0}/{1} upstreams probed', done, total)),
          onDrop: (l, e) => log.warn(`${l.service}: health checks: the proxy stopped answering: ${e.message}`),
        });
        for (const l of started) void store.refresh(l.service);
        if (runs.length === 0) {
          void ui.showErrorMessage(t('Codex Helper: health checks interrupted: the proxy stopped answering.'));
          return undefined;
        }
        const canceled = token.isCancellationRequested;
        log.info(`health checks: ${ok} healthy, ${err} failing${canceled ? ' (canceled)' : ''}`); // l10n-ignore: log line
        const summary = canceled ? t('{0} healthy, {1} failing (canceled)', ok, err) : t('{0} healthy, {1} failing', ok, err);
        void ui.showInformationMessage(t('Codex Helper: health checks done: {0}.', summary));
        return { ok, err };
      },
    );
  };

  const reg = (id: string, fn: (arg?: unknown, ...rest: unknown[]) => unknown) => registerCommand(deps, id, fn);
  return combineDisposables(
    reg(CMD.pinConfig, async (arg) => {
      const l = await pickLive(arg);
      if (!l) return;
      const current = store.get(l.service).detail?.global_override ?? null;
      const name = stringOfArg(arg, 'config') ?? await pickConfig(l, t('Pin a {0} config', serviceTitle(l.service)),
        [{ label: t('$(sync) Automatic (by priority and health)'), value: null }], current, t('Every request of this service goes to the pinned config'));
      if (name === undefined) return;
      await run(name ? `pinned ${name}` : 'automatic config choice', name ? t('pin {0}', name) : t('automatic config choice'), l.service, // l10n-ignore: log line
        () => l.client.setGlobalConfig(name ?? undefined));
    }),
    reg(CMD.unpinConfig, async (arg) => {
      const l = await pickLive(arg);
      if (l) await run('automatic config choice', t('automatic config choice'), l.service, () => l.client.setGlobalConfig(undefined)); // l10n-ignore: log line
    }),
    reg(CMD.setSessionEffort, async (arg) => {
      const l = await pickLive(arg ?? 'codex');
      if (!l) return;
      const sid = await sessionPick(l, arg);
      if (!sid) return;
      const given = stringOfArg(arg, 'effort');
      const current = given ? undefined : (await l.client.snapshot(1, 1)).snapshot.session_effort_overrides[sid];
      const effort = given ?? (await showPick(effortPickItems(current), {
        title: t('Reasoning effort for session {0}', sid), placeHolder: t('Applies to the next requests of this session') }))?.value;
      if (effort === undefined) return;
      const cleared = effort === 'clear' || effort === null;
      await run(`effort of session ${sid} → ${cleared ? 'cleared' : effort}`, // l10n-ignore: log line
        cleared ? t('clear the effort of session {0}', sid) : t('effort of session {0} → {1}', sid, effort), l.service,
        () => l.client.setSessionEffort(sid, effort === 'clear' || effort === null ? undefined : effort));
    }),
    reg(CMD.setSessionConfig, async (arg) => {
      const l = await pickLive(arg);
      if (!l) return;
      const sid = await sessionPick(l, arg);
      if (!sid) return;
      const current = stringOfArg(arg, 'config') ? undefined : (await l.client.snapshot(1, 1)).snapshot.session_config_overrides[sid] ?? null;
      const name = stringOfArg(arg, 'config') ?? await pickConfig(l, t('Config for session {0}', sid),
        [{ label: t('$(close) No override (follow the service)'), value: null }], current, t('Requests of this session go to this config'));
      if (name === undefined) return;
      await run(`config of session ${sid} → ${name ?? 'cleared'}`, // l10n-ignore: log line
        name ? t('config of session {0} → {1}', sid, name) : t('clear the config of session {0}', sid), l.service,
        () => l.client.setSessionConfig(sid, name ?? undefined));
    }),
    reg(CMD.enableConfig, async (arg) => {
      const l = await pickLive(arg);
      const name = stringOfArg(arg, 'config') ?? (l && await pickConfig(l, t('Enable config'), [], undefined, t('Choose a config to enable')));
      if (l && name) await metaValue(l, name, 'enabled', true);
    }),
    reg(CMD.disableConfig, async (arg) => {
      const l = await pickLive(arg);
      const name = stringOfArg(arg, 'config') ?? (l && await pickConfig(l, t('Disable config'), [], undefined, t('A disabled config is skipped unless pinned or active')));
      if (l && name) await metaValue(l, name, 'enabled', false);
    }),
    reg(CMD.setConfigLevel, async (arg) => {
      const l = await pickLive(arg);
      const name = stringOfArg(arg, 'config') ?? (l && await pickConfig(l, t('Change the priority of'), [], undefined, t('Choose a config')));
      if (!l || !name) return;
      const c = (await configs(l)).find((x) => x.name === name);
      const level = numberOfArg(arg, 'level') ?? (await ui.showQuickPick(
        Array.from({ length: 10 }, (_, i) => ({
          label: `${i + 1 === c?.effective_level ? '$(check) ' : ''}${priorityText(i + 1)}`,
          description: [i + 1 === c?.effective_level ? t('current') : undefined, i + 1 === c?.level ? t('file value') : undefined, i === 0 ? t('tried first') : undefined].filter(Boolean).join(' · '),
          value: i + 1,
        })), { title: t('Priority of {0} (lower is tried first)', name), placeHolder: t('Configs of priority 1 are tried first; ties go to the active config') }))?.value;
      if (level !== undefined) await metaValue(l, name, 'level', level);
    }),
    reg(CMD.runHealthChecks, (arg) => healthChecks(arg, false)),
    reg(CMD.checkConfigHealth, (arg) => healthChecks(arg, true)),
    reg(CMD.copyBaseUrl, async (arg) => {
      const url = stringOfArg(arg, 'baseUrl');
      if (!url) return;
      await ui.writeClipboard(url);
      ui.setStatusBarMessage(t('Copied {0}', url), 3000);
    }),
    reg(CMD.refreshView, () => store.refreshAll()),
  );
}
