// One status bar item per running service (text, tooltip and warning decided in statusModel.ts).
import * as vscode from 'vscode';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { CMD } from './constants';
import { CooldownTimer } from './cooldownTimer';
import { TOOLTIP_COMMANDS } from './markdown';
import type { ServiceStore } from './serviceStore';
import { statusBarModel } from './statusModel';
import { serviceTitle } from './treeModel';
import { t } from './l10n';

/** Shows/hides and updates the per-service items whenever the store changes and when a cooldown ends. */
export function registerStatusBar(deps: {
  store: ServiceStore;
  now?: () => number;
  /** Observes the shown text (undefined = hidden), for tests. */
  onRender?: (service: ServiceName, text: string | undefined, command: string | undefined) => void;
}): vscode.Disposable {
  const now = deps.now ?? Date.now;
  const items = new Map<ServiceName, vscode.StatusBarItem>();
  SERVICE_NAMES.forEach((s, i) => {
    const item = vscode.window.createStatusBarItem(`codexHelper.status.${s}`, vscode.StatusBarAlignment.Left, 10 - i);
    item.name = t('Codex Helper ({0})', serviceTitle(s));
    items.set(s, item);
  });
  const update = (s: ServiceName) => {
    const item = items.get(s)!;
    const m = statusBarModel(deps.store.get(s), now());
    deps.onRender?.(s, m?.text, m?.command);
    if (!m) {
      item.hide();
      return;
    }
    item.text = m.text;
    const tip = new vscode.MarkdownString(m.tooltip, true);
    tip.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    item.tooltip = tip;
    item.command = { title: m.command === CMD.pinConfig ? t('Pin Config') : t('Fix the Proxy'), command: m.command, arguments: [s] };
    item.backgroundColor = m.error
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : m.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    item.show();
  };
  // The "all upstreams cooling" warning must go away when the cooldown ends, even if no request arrives then.
  const cooldown: CooldownTimer = new CooldownTimer(() => updateAll(), now);
  const updateAll = () => {
    SERVICE_NAMES.forEach(update);
    cooldown.arm(deps.store.all());
  };
  updateAll();
  const off = deps.store.onDidChange((s) => {
    update(s);
    cooldown.arm(deps.store.all());
  });
  return new vscode.Disposable(() => {
    off.dispose();
    cooldown.dispose();
    for (const i of items.values()) i.dispose();
  });
}
