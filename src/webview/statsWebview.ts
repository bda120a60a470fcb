// The Stats panel: what tells it apart from the other panels (its HTML, media and page controller). The panel
// itself is created, restored and wired by singletonPanel.ts; the page is answered by statsPage.ts.
import type * as vscode from 'vscode';
import { DEFAULT_STATS_STATE, statsStateFromSaved } from './protocol';
import type { StatsViewState } from './protocol';
import { renderStatsHtml } from './statsHtml';
import { StatsPage } from './statsPage';
import type { StatsPageDeps } from './statsPage';
import { t } from '../host/l10n';
import { registerSingletonPanel } from './singletonPanel';

export const SHOW_STATS_COMMAND = 'codexHelper.showStats';
export const STATS_VIEW_TYPE = 'codexHelper.stats';

export interface StatsWebviewDeps extends StatsPageDeps {
  extensionUri: vscode.Uri;
}

/** Registers `codexHelper.showStats` and the serializer that restores the panel after a reload. */
export function registerStatsWebview(deps: StatsWebviewDeps): vscode.Disposable {
  return registerSingletonPanel<StatsViewState>({
    command: SHOW_STATS_COMMAND,
    viewType: STATS_VIEW_TYPE,
    // A function: translated when a panel opens, after the extension installed its translator.
    title: () => t('Codex Helper: Stats'),
    media: 'stats',
    render: renderStatsHtml,
    page: (port, state) => new StatsPage(port, deps, state),
    extensionUri: deps.extensionUri,
    log: deps.log,
    ui: deps.ui,
    initialState: () => ({ ...DEFAULT_STATS_STATE }),
    restoredState: statsStateFromSaved,
  });
}
