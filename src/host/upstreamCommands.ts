// Commands on one upstream or config from the tree, the status bar and tooltip links: reset cooldowns (through the
// admin API, so an attached proxy works too) and open config.toml at the line that defines it.
import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { keyLineMap, lineOfPath } from '../core/configSource';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { Logger } from '../proxy/logger';
import { numberOfArg, serviceOfArg, stringOfArg } from './commandArgs';
import { CMD } from './constants';
import type { ProxyController } from './proxyController';
import type { ServiceStore } from './serviceStore';
import { hostOf, serviceTitle, statesOf } from './treeModel';

export interface UpstreamCommandDeps {
  controller: ProxyController;
  store: ServiceStore;
  log: Logger;
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
export function resetWording(t: ResetTarget, baseUrl?: string): string {
  if (t.config === undefined) return `every ${serviceTitle(t.service)} upstream`;
  if (t.upstreamIndex === undefined) return `every upstream of ${t.config}`;
  return `${t.config} / ${baseUrl ? hostOf(baseUrl) : `upstream ${t.upstreamIndex + 1}`}`;
}

/** Registers Reset Cooldown and Open Config at Line. */
export function registerUpstreamCommands(deps: UpstreamCommandDeps): vscode.Disposable {
  const { controller, store, log } = deps;

  /** Asks which service and config when the command came from the palette; only configs with trouble are offered. */
  const pickTarget = async (arg: unknown): Promise<ResetTarget | undefined> => {
    const live = SERVICE_NAMES.filter((s) => controller.client(s));
    let service = serviceOfArg(arg);
    if (!service) {
      if (live.length === 0) return void vscode.window.showWarningMessage('Codex Helper: no proxy is running.');
      service = live.length === 1 ? live[0] : (await vscode.window.showQuickPick(live.map((s) => ({ label: serviceTitle(s), s })),
        { title: 'Reset cooldowns of', placeHolder: 'Which proxy?' }))?.s;
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
      return { label: c.alias ?? c.name, description: bad.length ? bad.map((s) => s.text).join(', ') : 'nothing to reset', config: c.name as string | undefined, bad: bad.length };
    }).sort((a, b) => b.bad - a.bad);
    const pick = await vscode.window.showQuickPick([{ label: '$(clear-all) Every config', description: '', config: undefined, bad: 0 }, ...items],
      { title: `Reset cooldowns: ${serviceTitle(service)}`, placeHolder: 'Requests go to a reset upstream again at once' });
    return pick ? { service, ...(pick.config ? { config: pick.config } : {}) } : undefined;
  };

  const reset = async (arg?: unknown): Promise<number | undefined> => {
    const t = await pickTarget(arg);
    if (!t) return undefined;
    const client = controller.client(t.service);
    if (!client) return void vscode.window.showWarningMessage(`Codex Helper: the ${serviceTitle(t.service)} proxy is not running.`);
    const detail = store.get(t.service).detail ?? await client.configsDetail();
    const names = t.config ? [t.config] : detail.configs.map((c) => c.name);
    const baseUrl = t.config !== undefined && t.upstreamIndex !== undefined
      ? detail.configs.find((c) => c.name === t.config)?.upstreams[t.upstreamIndex]?.base_url : undefined;
    const what = resetWording(t, baseUrl);
    let cleared = 0;
    try {
      for (const n of names) cleared += (await client.resetCooldown(n, t.upstreamIndex)).cleared;
    } catch (e) {
      log.error(`${t.service}: reset cooldown of ${what} failed: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Codex Helper: reset cooldown failed: ${(e as Error).message}`);
      return undefined;
    }
    log.info(`${t.service}: cooldown reset for ${what} (${cleared} upstream${cleared === 1 ? '' : 's'} cleared)`);
    vscode.window.setStatusBarMessage(cleared ? `$(check) Cooldown reset: ${what}` : `Nothing to reset: ${what} was not cooling`, 4000);
    await store.refresh(t.service);
    return cleared;
  };

  const openAt = async (arg?: unknown) => {
    const service = serviceOfArg(arg);
    const config = stringOfArg(arg, 'config');
    const index = numberOfArg(arg, 'upstreamIndex');
    const file = (service && store.get(service).detail?.config_path) || deps.configFile();
    if (!existsSync(file)) return vscode.commands.executeCommand(CMD.openConfigFile);
    let line: number | undefined;
    if (service && config && /\.toml$/i.test(file)) {
      try {
        const lines = keyLineMap(readFileSync(file, 'utf8'), 'toml');
        line = lineOfPath(lines, index === undefined ? [service, 'configs', config] : [service, 'configs', config, 'upstreams', index]);
      } catch {
        // A file that no longer parses still opens, at the top.
      }
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
    return line;
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand(CMD.resetCooldown, reset),
    vscode.commands.registerCommand(CMD.openConfigAt, openAt),
  );
}
