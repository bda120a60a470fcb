// Commands on one upstream or config from the tree, the status bar and tooltip links: reset cooldowns (through the
// admin API, so an attached proxy works too) and open config.toml at the line that defines it.
import { existsSync, readFileSync } from 'node:fs';
import { combineDisposables } from '../core/events';
import type { Disposable } from '../core/events';
import { keyLineMap, lineOfPath } from '../core/configSource';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { numberOfArg, serviceOfArg, stringOfArg } from './commandArgs';
import { CMD } from './constants';
import type { ProxyController } from './proxyController';
import type { ServiceStore } from './serviceStore';
import { hostOf, serviceTitle, statesOf } from './treeModel';
import { t } from './l10n';
import { registerCommand } from './commands';
import type { CommandDeps } from './commands';

export interface UpstreamCommandDeps extends CommandDeps {
  controller: ProxyController;
  store: ServiceStore;
  /** Path of config.toml of the in-process proxy (used when no proxy answers). */
  configFile: () => string;
}

/** What a reset targets: one upstream, one config, or every config of a service. */
export interface ResetTarget {
  service: ServiceName;
  config?: string;
  upstreamIndex?: number;
}

/** Human wording of a reset, for the log and the confirmation toast. */
export function resetWording(target: ResetTarget, baseUrl?: string): string {
  if (target.config === undefined) return t('every {0} upstream', serviceTitle(target.service));
  if (target.upstreamIndex === undefined) return t('every upstream of {0}', target.config);
  return `${target.config} / ${baseUrl ? hostOf(baseUrl) : t('upstream {0}', target.upstreamIndex + 1)}`;
}

/** Registers Reset Cooldown and Open Config at Line. */
export function registerUpstreamCommands(deps: UpstreamCommandDeps): Disposable {
  const { controller, store, log, ui } = deps;

  /** Asks which service and config when the command came from the palette; only configs with trouble are offered. */
  const pickTarget = async (arg: unknown): Promise<ResetTarget | undefined> => {
    const live = SERVICE_NAMES.filter((s) => controller.client(s));
    let service = serviceOfArg(arg);
    if (!service) {
      if (live.length === 0) return void ui.showWarningMessage(t('Codex Helper: no proxy is running.'));
      service = live.length === 1 ? live[0] : (await ui.showQuickPick(live.map((s) => ({ label: serviceTitle(s), s })),
        { title: t('Reset cooldowns of'), placeHolder: t('Which proxy?') }))?.s;
      if (!service) return undefined;
    }
    const config = stringOfArg(arg, 'config');
    const upstreamIndex = numberOfArg(arg, 'upstreamIndex');
    if (config || arg !== undefined) return { service, ...(config ? { config } : {}), ...(config && upstreamIndex !== undefined ? { upstreamIndex } : {}) };
    const d = store.get(service);
    const now = Date.now();
    const items = (d.detail?.configs ?? []).map((c) => {
      const states = statesOf(d, c, now);
      const bad = states.filter((s) => s.kind === 'cooling' || s.kind === 'failing');
      return { label: c.alias ?? c.name, description: bad.length ? bad.map((s) => s.text).join(t(', ')) : t('nothing to reset'), config: c.name as string | undefined, bad: bad.length };
    }).sort((a, b) => b.bad - a.bad);
    const pick = await ui.showQuickPick([{ label: t('$(clear-all) Every config'), description: '', config: undefined, bad: 0 }, ...items],
      { title: t('Reset cooldowns: {0}', serviceTitle(service)), placeHolder: t('Requests go to a reset upstream again at once') });
    return pick ? { service, ...(pick.config ? { config: pick.config } : {}) } : undefined;
  };

  const reset = async (arg?: unknown): Promise<number | undefined> => {
    const target = await pickTarget(arg);
    if (!target) return undefined;
    const client = controller.client(target.service);
    if (!client) return void ui.showWarningMessage(t('Codex Helper: the {0} proxy is not running.', serviceTitle(target.service)));
    const detail = store.get(target.service).detail ?? await client.configsDetail();
    const names = target.config ? [target.config] : detail.configs.map((c) => c.name);
    const baseUrl = target.config !== undefined && target.upstreamIndex !== undefined
      ? detail.configs.find((c) => c.name === target.config)?.upstreams[target.upstreamIndex]?.base_url : undefined;
    const what = resetWording(target, baseUrl);
    // The log stays English (l10n-ignore): name the target by its config and index there.
    const logWhat = `${target.config ?? 'every config'}${target.upstreamIndex !== undefined ? `#${target.upstreamIndex}` : ''}`;
    let cleared = 0;
    try {
      for (const n of names) cleared += (await client.resetCooldown(n, target.upstreamIndex)).cleared;
    } catch (e) {
      log.error(`${target.service}: reset cooldown of ${logWhat} failed: ${(e as Error).message}`);
      void ui.showErrorMessage(t('Codex Helper: reset cooldown failed: {0}', (e as Error).message));
      return undefined;
    }
    log.info(`${target.service}: cooldown reset for ${logWhat} (${cleared} upstream${cleared === 1 ? '' : 's'} cleared)`);
    ui.setStatusBarMessage(cleared ? `$(check) ${t('Cooldown reset: {0}', what)}` : t('Nothing to reset: {0} was not cooling', what), 4000);
    await store.refresh(target.service);
    return cleared;
  };

  const openAt = async (arg?: unknown) => {
    const service = serviceOfArg(arg);
    const config = stringOfArg(arg, 'config');
    const index = numberOfArg(arg, 'upstreamIndex');
    const file = (service && store.get(service).detail?.config_path) || deps.configFile();
    if (!existsSync(file)) return ui.executeCommand(CMD.openConfigFile);
    let line: number | undefined;
    if (service && config && /\.toml$/i.test(file)) {
      try {
        const lines = keyLineMap(readFileSync(file, 'utf8'), 'toml');
        line = lineOfPath(lines, index === undefined ? [service, 'configs', config] : [service, 'configs', config, 'upstreams', index]);
      } catch {
        // A file that no longer parses still opens, at the top.
      }
    }
    await ui.openFile(file, line ?? 1);
    return line;
  };

  return combineDisposables(
    registerCommand(deps, CMD.resetCooldown, reset),
    registerCommand(deps, CMD.openConfigAt, openAt),
  );
}
