// Opt-in notifications (`codexHelper.notifications.failover`) when a service's requests fail over to another config
// and when they flow to the preferred one again. The tree and the status bar show the same state either way.
import * as vscode from 'vscode';
import { SERVICE_NAMES } from '../core/types';
import { CMD } from './constants';
import { FailoverWatcher } from './failoverNotice';
import type { ServiceStore } from './serviceStore';

/** Watches the store's snapshots and shows one notification per failover / recovery while `enabled()` holds. */
export function registerFailoverNotifications(deps: { store: ServiceStore; enabled: () => boolean; now?: () => number }): vscode.Disposable {
  const now = deps.now ?? Date.now;
  const watcher = new FailoverWatcher();
  const check = (service: (typeof SERVICE_NAMES)[number]) => {
    const n = watcher.update(service, deps.store.get(service).snapshot?.snapshot.failover, now());
    if (!n || !deps.enabled()) return;
    if (n.kind === 'recovered') {
      void vscode.window.showInformationMessage(`Codex Helper: ${n.message}`);
      return;
    }
    void vscode.window.showWarningMessage(`Codex Helper: ${n.message}`, 'Reset Cooldown', 'Recent Requests').then((a) => {
      if (a === 'Reset Cooldown') return vscode.commands.executeCommand(CMD.resetCooldown, { service });
      if (a === 'Recent Requests') return vscode.commands.executeCommand(CMD.showRecentRequests);
      return undefined;
    });
  };
  for (const s of SERVICE_NAMES) check(s);
  const off = deps.store.onDidChange(check);
  return new vscode.Disposable(off);
}
