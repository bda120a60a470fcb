// The Recent Requests panel: creates and restores the webview, renders its HTML, and wires the panel's events to
// the page controller (requestsPage.ts), where everything the page asks for is handled without `vscode`.
import * as vscode from 'vscode';
import { DEFAULT_FILTERS, filtersFromState } from './protocol';
import type { RequestFilters } from './protocol';
import { renderRequestsHtml } from './requestsHtml';
import { RequestsPage } from './requestsPage';
import type { RequestsPageDeps } from './requestsPage';
import { t } from '../host/l10n';
import { registerSingletonPanel, webviewOptions } from './singletonPanel';

export { lastPostedRowCount } from './requestsPage';
export const SHOW_RECENT_REQUESTS_COMMAND = 'codexHelper.showRecentRequests';
export const REQUESTS_VIEW_TYPE = 'codexHelper.requests';
// A function: translated when a panel opens, after the extension installed its translator.
const title = () => t('Codex Helper: Recent Requests');

export interface RequestsWebviewDeps extends RequestsPageDeps {
  extensionUri: vscode.Uri;
}

/** One open panel: its page controller and the panel's event wiring. */
class RequestsWebview implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly page: RequestsPage;
  private disposed = false;

  constructor(readonly panel: vscode.WebviewPanel, deps: RequestsWebviewDeps, filters: RequestFilters, onDispose: () => void) {
    panel.webview.options = webviewOptions(deps.extensionUri);
    const media = vscode.Uri.joinPath(deps.extensionUri, 'media');
    panel.webview.html = renderRequestsHtml({
      cspSource: panel.webview.cspSource,
      lang: vscode.env.language,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'requests.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'requests.css')).toString(),
    });
    this.page = new RequestsPage(panel.webview, deps, filters);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        this.page.onMessage(m).catch((e: unknown) => deps.log.error(`recent requests: ${(e as Error).message}`));
      }),
      // Without retainContextWhenHidden the page is torn down when hidden and sends `ready` again when shown.
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

/** Registers `codexHelper.showRecentRequests` and the serializer that restores the panel after a reload. */
export function registerRequestsWebview(deps: RequestsWebviewDeps): vscode.Disposable {
  return registerSingletonPanel<RequestFilters>({
    command: SHOW_RECENT_REQUESTS_COMMAND,
    viewType: REQUESTS_VIEW_TYPE,
    title,
    extensionUri: deps.extensionUri,
    log: deps.log,
    ui: deps.ui,
    initialState: () => ({ ...DEFAULT_FILTERS }),
    restoredState: filtersFromState,
    create: (panel, state, onDisposed) => new RequestsWebview(panel, deps, state, onDisposed),
  });
}
