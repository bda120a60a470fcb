// The Stats panel: creates and restores the webview, renders its HTML, and wires the panel's events to the page
// controller (statsPage.ts), where everything the page asks for is handled without `vscode`.
import * as vscode from 'vscode';
import { DEFAULT_STATS_STATE, statsStateFromSaved } from './protocol';
import type { StatsViewState } from './protocol';
import { renderStatsHtml } from './statsHtml';
import { StatsPage } from './statsPage';
import type { StatsPageDeps } from './statsPage';
import { t } from '../host/l10n';
import { registerSingletonPanel, webviewOptions } from './singletonPanel';

export const SHOW_STATS_COMMAND = 'codexHelper.showStats';
export const STATS_VIEW_TYPE = 'codexHelper.stats';
// A function: translated when a panel opens, after the extension installed its translator.
const title = () => t('Codex Helper: Stats');

export interface StatsWebviewDeps extends StatsPageDeps {
  extensionUri: vscode.Uri;
}

/** One open panel: its page controller and the panel's event wiring. */
class StatsWebview implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly page: StatsPage;
  private disposed = false;

  constructor(readonly panel: vscode.WebviewPanel, deps: StatsWebviewDeps, state: StatsViewState, onDispose: () => void) {
    panel.webview.options = webviewOptions(deps.extensionUri);
    const media = vscode.Uri.joinPath(deps.extensionUri, 'media');
    panel.webview.html = renderStatsHtml({
      cspSource: panel.webview.cspSource,
      lang: vscode.env.language,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'stats.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'stats.css')).toString(),
    });
    this.page = new StatsPage(panel.webview, deps, state);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        this.page.onMessage(m).catch((e: unknown) => deps.log.error(`stats: ${(e as Error).message}`));
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.page.hidden();
      }),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.page.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.panel.dispose();
  }
}

/** Registers `codexHelper.showStats` and the serializer that restores the panel after a reload. */
export function registerStatsWebview(deps: StatsWebviewDeps): vscode.Disposable {
  return registerSingletonPanel<StatsViewState>({
    command: SHOW_STATS_COMMAND,
    viewType: STATS_VIEW_TYPE,
    title,
    extensionUri: deps.extensionUri,
    log: deps.log,
    ui: deps.ui,
    initialState: () => ({ ...DEFAULT_STATS_STATE }),
    restoredState: statsStateFromSaved,
    create: (panel, state, onDisposed) => new StatsWebview(panel, deps, state, onDisposed),
  });
}
