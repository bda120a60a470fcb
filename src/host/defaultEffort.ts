// `codexHelper.codex.defaultEffort`: codex sessions working inside an open workspace folder get that effort as a
// session override the first time they are seen (a user who later clears it is not overruled).
import * as vscode from 'vscode';
import type { Logger } from '../proxy/logger';
import type { ProxyController } from './proxyController';
import type { ServiceStore } from './serviceStore';
import { sessionsForDefaultEffort } from './sessions';
import type { SettingsSource } from './settings';

/** Applies the workspace default effort to new codex sessions as the store reports them. */
export function registerDefaultEffort(deps: { controller: ProxyController; store: ServiceStore; settings: SettingsSource; log: Logger }): vscode.Disposable {
  const handled = new Set<string>();
  const off = deps.store.onDidChange((service) => {
    const effort = deps.settings.current.codexDefaultEffort;
    const client = deps.controller.client('codex');
    const snap = deps.store.get('codex').snapshot?.snapshot;
    if (service !== 'codex' || !effort || !client || !snap) return;
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    for (const id of sessionsForDefaultEffort(snap.session_stats, snap.session_effort_overrides, folders, handled)) {
      handled.add(id);
      client.setSessionEffort(id, effort).then(
        () => deps.log.info(`codex session ${id}: default effort ${effort} (workspace setting)`),
        (e: Error) => deps.log.warn(`codex session ${id}: could not set the default effort: ${e.message}`),
      );
    }
  });
  return off;
}
