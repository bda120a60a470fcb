// What the Recent Requests page asks the host to do with its rows: copy, show, export to a file, clear the proxies'
// recent lists. Through HostUi only (no `vscode`), so every branch is tested in plain Node with a scripted user.
import type { ServiceName } from '../core/types';
import type { AdminClient } from '../proxy/adminClient';
import { t } from '../host/l10n';
import { serviceTitle } from '../host/treeModel';
import type { HostUi } from '../host/ui';
import type { CopyWhat, ExportFormat, RequestRow } from './protocol';
import { exportFileName, rowsToCsv, rowsToJson } from './requestsExport';

/** A running (or attached) proxy a page reads through its admin API. */
export interface RequestsSource {
  service: ServiceName;
  client: AdminClient;
}

/** Copies a row's session id, upstream chain or JSON; a status bar line says what was copied. */
export async function copyRow(ui: HostUi, row: RequestRow, what: CopyWhat): Promise<void> {
  const text =
    what === 'sessionId' ? row.sessionId ?? '' : what === 'chain' ? row.chain.join('\n') : JSON.stringify(row, null, 2);
  if (!text) return;
  await ui.writeClipboard(text);
  ui.setStatusBarMessage(what === 'sessionId' ? t('Codex Helper: copied session id {0}', text) : t('Codex Helper: copied'), 3000);
}

/** Opens a row as JSON in an unsaved editor beside the page. */
export function showRowDetails(ui: HostUi, row: RequestRow): Promise<void> {
  return ui.openUntitled(JSON.stringify(row, null, 2), 'json');
}

/** Asks where to save the rows shown, writes them as CSV or JSON, and says where (or why it could not). */
export async function exportRows(ui: HostUi, rows: readonly RequestRow[], format: ExportFormat, nowMs: number): Promise<void> {
  if (rows.length === 0) {
    void ui.showInformationMessage(t('Codex Helper: no requests to export with the current filters.'));
    return;
  }
  const target = await ui.showSaveDialog({
    defaultName: exportFileName(nowMs, format),
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
    saveLabel: rows.length === 1 ? t('Export 1 request') : t('Export {0} requests', rows.length),
  });
  if (!target) return;
  try {
    await ui.writeTextFile(target, format === 'csv' ? rowsToCsv(rows) : rowsToJson(rows));
    ui.setStatusBarMessage(t('Codex Helper: exported {0} request(s) to {1}', rows.length, target.path), 4000);
  } catch (e) {
    void ui.showErrorMessage(t('Codex Helper: export failed: {0}', (e as Error).message));
  }
}

/** After a modal confirmation, clears the recent requests of every source; false when the user said no. */
export async function clearRecent(ui: HostUi, sources: readonly RequestsSource[]): Promise<boolean> {
  if (sources.length === 0) return false;
  const clear = t('Clear');
  const answer = await ui.showModalWarning(
    sources.length === 1
      ? t('Clear the recent requests of the {0} proxy?', serviceTitle(sources[0]!.service))
      : t('Clear the recent requests of the {0} and {1} proxies?', serviceTitle(sources[0]!.service), serviceTitle(sources[1]!.service)),
    t('Totals, the Stats view, session totals and requests.jsonl are kept.'),
    clear,
  );
  if (answer !== clear) return false;
  const results = await Promise.allSettled(sources.map((s) => s.client.clearRecent()));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) void ui.showErrorMessage(t('Codex Helper: could not clear: {0}', (failed[0]!.reason as Error).message));
  return true;
}
