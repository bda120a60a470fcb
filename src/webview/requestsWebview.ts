// Host side of the recent-requests webview: one panel, fed from the admin API of each running proxy. It reacts to the
// proxies' change events (coalesced), posts nothing before the page's `ready`, and validates everything the page sends.
import * as vscode from 'vscode';
import type { AdminClient } from '../proxy/adminClient';
import type { Logger } from '../proxy/logger';
import type { ServiceName } from '../core/types';
import { DEFAULT_FILTERS, filtersFromState, parsePageMessage, PageMessageError } from './protocol';
import type { CopyWhat, ExportFormat, HostMessage, PageMessage, RequestFilters, RequestRow } from './protocol';
import { exportFileName, rowsToCsv, rowsToJson } from './requestsExport';
import { renderRequestsHtml } from './requestsHtml';
import { RequestsModel } from './requestsModel';
import type { SourceData } from './requestsModel';
import { configHealthStates } from '../host/upstreamHealth';
import type { LbConfigView } from '../core/lb';
import type { UpstreamStateView } from './protocol';
import { t } from '../host/l10n';
import { requestsStrings } from './pageStrings';
import { serviceTitle } from '../host/treeModel';
import type { ChangeSubscription, SubscribeOptions } from '../host/proxyController';
import type { HostUi } from '../host/ui';
import { registerSingletonPanel, webviewOptions } from './singletonPanel';

export const SHOW_RECENT_REQUESTS_COMMAND = 'codexHelper.showRecentRequests';
export const REQUESTS_VIEW_TYPE = 'codexHelper.requests';
// A function: translated when a panel opens, after the extension installed its translator.
const title = () => t('Codex Helper: Recent Requests');
const THROTTLE_MS = 250;
/** Catches proxies that come back after an error and lets the chart move on when nothing happens. */
const HEARTBEAT_MS = 10_000;
const MAX_FETCH = 2000;
/** The chart covers an hour; fetch at least this many so it is not cut off by a small `maxRows`. */
const MIN_FETCH = 300;

export interface RequestsSource {
  service: ServiceName;
  client: AdminClient;
}

export interface RequestsWebviewDeps {
  extensionUri: vscode.Uri;
  /** The proxies to read now (running or attached); asked again on every refresh. */
  sources: () => RequestsSource[];
  /**
   * Runs `work`, coalesced (ProxyController.subscribe), whenever any service's requests or status change, including
   * services that are not running yet (so a proxy that starts later shows up at once).
   */
  watch: (work: () => Promise<void>, o: SubscribeOptions) => ChangeSubscription;
  maxRows: () => number;
  log: Logger;
  ui: HostUi;
  now?: () => number;
}

let lastRowCount = -1;

/** Test hook: how many rows the last `update` posted to a page carried (-1 before any). */
export function lastPostedRowCount(): number {
  return lastRowCount;
}

/** One open panel and its feed. */
class RequestsWebview implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly model = new RequestsModel();
  private readonly now: () => number;
  private readonly feed: ChangeSubscription;
  private ready = false;
  private disposed = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** The rows of the last update, what "export" writes. */
  private shownRows: RequestRow[] = [];
  /** Sources (service + base URL) currently failing, so each outage is logged once. */
  private readonly failing = new Set<string>();

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly deps: RequestsWebviewDeps,
    private filters: RequestFilters,
    onDispose: () => void,
  ) {
    this.now = deps.now ?? Date.now;
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.render();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      // Without retainContextWhenHidden the page is torn down when hidden and sends `ready` again when shown.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.setReady(false);
      }),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
    this.feed = deps.watch(() => this.refresh(), { windowMs: THROTTLE_MS, canRun: () => !this.disposed && this.ready });
  }

  reveal(): void {
    this.panel.reveal();
  }

  private render(): void {
    const webview = this.panel.webview;
    const media = vscode.Uri.joinPath(this.deps.extensionUri, 'media');
    webview.html = renderRequestsHtml({
      cspSource: webview.cspSource,
      lang: vscode.env.language,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'requests.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'requests.css')).toString(),
    });
  }

  private setReady(ready: boolean): void {
    this.ready = ready;
    if (ready && !this.heartbeat) {
      this.heartbeat = setInterval(() => this.schedule(), HEARTBEAT_MS);
    } else if (!ready && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private onMessage(raw: unknown): void {
    let msg: PageMessage;
    try {
      msg = parsePageMessage(raw);
    } catch (e) {
      if (e instanceof PageMessageError) {
        this.deps.log.warn(`recent requests: ignored a malformed message from the page (${e.message})`);
        return;
      }
      throw e;
    }
    switch (msg.type) {
      case 'ready':
        if (msg.filters) this.filters = msg.filters;
        this.setReady(true);
        this.post({ type: 'init', filters: this.filters, maxRows: this.maxRows(), strings: requestsStrings() });
        this.schedule(true);
        return;
      case 'setFilter':
        this.filters = msg.filters;
        this.schedule(true);
        return;
      case 'refresh':
        this.schedule(true);
        return;
      case 'requestDetails':
        void this.showDetails(msg.key);
        return;
      case 'copy':
        void this.copy(msg.key, msg.what);
        return;
      case 'export':
        void this.exportRows(msg.format);
        return;
      case 'clearRecent':
        void this.clearRecent();
        return;
      case 'openStats':
        void vscode.commands.executeCommand('codexHelper.showStats');
        return;
      case 'connect':
        void vscode.commands.executeCommand(msg.service === 'codex' ? 'codexHelper.connectCodex' : 'codexHelper.connectClaude');
        return;
    }
  }

  private maxRows(): number {
    const n = Math.floor(this.deps.maxRows());
    return Number.isFinite(n) && n > 0 ? n : 200;
  }

  /** A refresh after the coalescing window, or right away for user actions. */
  private schedule(immediate = false): void {
    this.feed.schedule(immediate);
  }

  private async refresh(): Promise<void> {
    try {
      const maxRows = this.maxRows();
      const limit = Math.min(MAX_FETCH, Math.max(maxRows, MIN_FETCH));
      const data = await Promise.all(this.deps.sources().map((source) => this.read(source, limit)));
      if (this.disposed || !this.ready) return;
      const update = this.model.build(data, { filters: this.filters, maxRows, nowMs: this.now() });
      lastRowCount = update.rows.length;
      this.shownRows = update.rows;
      this.post(update);
    } catch (e) {
      this.deps.log.error(`recent requests: refresh failed: ${(e as Error).message}`);
    }
  }

  private async read(source: RequestsSource, limit: number): Promise<SourceData> {
    const id = `${source.service} ${source.client.baseUrl}`;
    try {
      const [snap, detail] = await Promise.all([source.client.snapshot(limit, 1), source.client.configsDetail()]);
      if (this.failing.delete(id)) this.deps.log.info(`recent requests: ${source.service} proxy reachable again`);
      // The same health the tree shows, so the attempt table and the tree never disagree about an upstream.
      const states: Record<string, UpstreamStateView> = {};
      const s = snap.snapshot;
      for (const c of detail.configs) {
        configHealthStates(c.upstreams.map((u) => u.base_url), s.lb_view[c.name] as LbConfigView | undefined, s.config_health[c.name],
          s.refreshed_at_ms, this.now()).forEach((st, i) => { states[`${source.service}/${c.name}#${i}`] = { kind: st.kind, text: st.text }; });
      }
      return { service: source.service, ok: true, active: s.active, recent: s.recent, url: source.client.baseUrl, states };
    } catch (e) {
      const message = (e as Error).message;
      if (!this.failing.has(id)) {
        this.failing.add(id);
        this.deps.log.warn(`recent requests: cannot read the ${source.service} proxy: ${message}`);
      }
      return { service: source.service, ok: false, message, url: source.client.baseUrl };
    }
  }

  private post(msg: HostMessage): void {
    if (this.disposed || !this.ready) return;
    this.panel.webview.postMessage(msg).then(undefined, (e: unknown) => {
      this.deps.log.debug(`recent requests: post failed: ${(e as Error).message}`);
    });
  }

  private async showDetails(key: string): Promise<void> {
    const row = this.model.row(key);
    if (!row) return;
    const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(row, null, 2) });
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  private async copy(key: string, what: CopyWhat): Promise<void> {
    const row = this.model.row(key);
    if (!row) return;
    const text =
      what === 'sessionId' ? row.sessionId ?? '' : what === 'chain' ? row.chain.join('\n') : JSON.stringify(row, null, 2);
    if (!text) return;
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(what === 'sessionId' ? t('Codex Helper: copied session id {0}', text) : t('Codex Helper: copied'), 3000);
  }

  private async exportRows(format: ExportFormat): Promise<void> {
    const rows = this.shownRows;
    if (rows.length === 0) {
      void vscode.window.showInformationMessage(t('Codex Helper: no requests to export with the current filters.'));
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = exportFileName(this.now(), format);
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      saveLabel: rows.length === 1 ? t('Export 1 request') : t('Export {0} requests', rows.length),
    });
    if (!target) return;
    try {
      const text = format === 'csv' ? rowsToCsv(rows) : rowsToJson(rows);
      await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
      vscode.window.setStatusBarMessage(t('Codex Helper: exported {0} request(s) to {1}', rows.length, target.fsPath), 4000);
    } catch (e) {
      void vscode.window.showErrorMessage(t('Codex Helper: export failed: {0}', (e as Error).message));
    }
  }

  private async clearRecent(): Promise<void> {
    const sources = this.deps.sources();
    if (sources.length === 0) return;
    const clear = t('Clear');
    const answer = await vscode.window.showWarningMessage(
      sources.length === 1
        ? t('Clear the recent requests of the {0} proxy?', serviceTitle(sources[0]!.service))
        : t('Clear the recent requests of the {0} and {1} proxies?', serviceTitle(sources[0]!.service), serviceTitle(sources[1]!.service)),
      { modal: true, detail: t('Totals, the Stats view, session totals and requests.jsonl are kept.') },
      clear,
    );
    if (answer !== clear) return;
    const results = await Promise.allSettled(sources.map((s) => s.client.clearRecent()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) void vscode.window.showErrorMessage(t('Codex Helper: could not clear: {0}', (failed[0]!.reason as Error).message));
    this.schedule(true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.setReady(false);
    this.feed.dispose();
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
