// The Recent Requests panel: what tells it apart from the other panels (its HTML, media and page controller). The
// panel itself is created, restored and wired by singletonPanel.ts; the page is answered by requestsPage.ts.
import type * as vscode from 'vscode';
import { DEFAULT_FILTERS, filtersFromState } from './protocol';
import type { RequestFilters } from './protocol';
import { renderRequestsHtml } from './requestsHtml';
import { RequestsPage } from './requestsPage';
import type { RequestsPageDeps } from './requestsPage';
import { t } from '../host/l10n';
import { registerSingletonPanel } from './singletonPanel';

export { lastPostedRowCount } from './requestsPage';
export const SHOW_RECENT_REQUESTS_COMMAND = 'codexHelper.showRecentRequests';
export const REQUESTS_VIEW_TYPE = 'codexHelper.requests';

export interface RequestsWebviewDeps extends RequestsPageDeps {
  extensionUri: vscode.Uri;
}

/** Registers `codexHelper.showRecentRequests` and the serializer that restores the panel after a reload. */
export function registerRequestsWebview(deps: RequestsWebviewDeps): vscode.Disposable {
  return registerSingletonPanel<RequestFilters>({
    command: SHOW_RECENT_REQUESTS_COMMAND,
    viewType: REQUESTS_VIEW_TYPE,
    // A function: translated when a panel opens, after the extension installed its translator.
    title: () => t('Codex Helper: Recent Requests'),
    media: 'requests',
    render: renderRequestsHtml,
    page: (port, filters) => new RequestsPage(port, deps, filters),
    extensionUri: deps.extensionUri,
    log: deps.log,
    ui: deps.ui,
    initialState: () => ({ ...DEFAULT_FILTERS }),
    restoredState: filtersFromState,
  });
}
