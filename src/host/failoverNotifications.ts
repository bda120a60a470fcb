// Opt-in notifications (`codexHelper.notifications.failover`) when a service's requests fail over to another config
// and when they flow to the preferred one again. The tree and the status bar show the same state either way.
// No `vscode` here (HostUi).
import type { Disposable } from '../core/events';
import { SERVICE_NAMES } from '../core/types';
import { CMD } from './constants';
import { FailoverWatcher } from './failoverNotice';
import type { ServiceStore } from './serviceStore';
import { t } from './l10n';
import type { HostUi } from './ui';

/** Watches the store's snapshots and shows one notification per failover / recovery while `enabled()` holds. */
export function registerFailoverNotifications(deps: { store: ServiceStore; ui: HostUi; enabled: () => boolean; now?: () => number }): Disposable {
  const { ui } = deps;
  const now = deps.now ?? Date.now;
  const watcher = new FailoverWatcher();
  const check = (service: (typeof SERVICE_NAMES)[number]) => {
    const n = watcher.update(service, deps.store.get(service).snapshot?.snapshot.failover, now());
    if (!n || !deps.enabled()) return;
    if (n.kind === 'recovered') {
      void ui.showInformationMessage(t('Codex Helper: {0}', n.message));
      return;
    }
    const reset = t('Reset Cooldown');
    const recent = t('Recent Requests');
    void ui.showWarningMessage(t('Codex Helper: {0}', n.message), reset, recent).then((a) => {
      if (a === reset) return ui.executeCommand(CMD.resetCooldown, { service });
      if (a === recent) return ui.executeCommand(CMD.showRecentRequests);
      return undefined;
    });
  };
  for (const s of SERVICE_NAMES) check(s);
  return deps.store.onDidChange(check);
}
