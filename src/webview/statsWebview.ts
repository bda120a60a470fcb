// Host side of the Stats webview: reads the mergeable Stats cells of each running proxy through the admin API,
// builds one report (both services, or the chosen one) and posts it. Refreshes on traffic (at most every 2 s),
// on a 30 s heartbeat, and when the page asks; validates everything the page sends.
import * as vscode from 'vscode';
import { buildStatsReport } from '../core/statsReport';
import type { StatsData } from '../core/statsSeries';
import type { Logger } from '../proxy/logger';
import { DEFAULT_STATS_STATE, PageMessageError, parseStatsPageMessage, statsStateFromSaved } from './protocol';
import type { PricingSummary, SourceStatus, StatsHostMessage, StatsViewState } from './protocol';
import { sessionRows } from './statsModel';
import type { ApiSnapshot } from '../proxy/adminClient';
import type { RequestsSource } from './requestsWebview';
import { renderStatsHtml } from './statsHtml';
import { t } from '../host/l10n';
import { statsStrings } from './pageStrings';
import type { ChangeSubscription, SubscribeOptions } from '../host/proxyController';
import type { HostUi } from '../host/ui';
import { registerSingletonPanel, webviewOptions } from './singletonPanel';

export const SHOW_STATS_COMMAND = 'codexHelper.showStats';
export const STATS_VIEW_TYPE = 'codexHelper.stats';
// A function: translated when a panel opens, after the extension installed its translator.
const title = () => t('Codex Helper: Stats');
const THROTTLE_MS = 2000;
const HEARTBEAT_MS = 30_000;

export interface StatsWebviewDeps {
  extensionUri: vscode.Uri;
  sources: () => RequestsSource[];
  /** As in RequestsWebviewDeps. */
  watch: (work: () => Promise<void>, o: SubscribeOptions) => ChangeSubscription;
  log: Logger;
  ui: HostUi;
  now?: () => number;
}

/** Price notes shown under the tables: how many rules, and the dates/sources written next to them. */
async function pricingSummary(sources: RequestsSource[]): Promise<PricingSummary> {
  for (const s of sources) {
    try {
      const p = await s.client.pricing();
      const notes = new Set<string>();
      for (const r of p.rules) {
        const parts = [r.as_of ? t('as of {0}', r.as_of) : '', r.source ?? ''].filter(Boolean);
        notes.add(`${r.pattern}: ${parts.length ? parts.join(t(', ')) : t('no date or source given')}`);
      }
      return { rules: p.rules.length, notes: [...notes].slice(0, 20) };
    } catch {
      // A proxy without the route (an older version) or unreachable: try the next one.
    }
  }
  return { rules: 0, notes: [] };
}

class StatsWebview implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly now: () => number;
  private readonly feed: ChangeSubscription;
  private ready = false;
  private disposed = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(readonly panel: vscode.WebviewPanel, private readonly deps: StatsWebviewDeps, private state: StatsViewState, onDispose: () => void) {
    this.now = deps.now ?? Date.now;
    panel.webview.options = webviewOptions(deps.extensionUri);
    const media = vscode.Uri.joinPath(deps.extensionUri, 'media');
    panel.webview.html = renderStatsHtml({
      cspSource: panel.webview.cspSource,
      lang: vscode.env.language,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'stats.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'stats.css')).toString(),
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
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

  private setReady(ready: boolean): void {
    this.ready = ready;
    if (ready && !this.heartbeat) this.heartbeat = setInterval(() => this.schedule(), HEARTBEAT_MS);
    else if (!ready && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private onMessage(raw: unknown): void {
    let msg;
    try {
      msg = parseStatsPageMessage(raw);
    } catch (e) {
      if (e instanceof PageMessageError) {
        this.deps.log.warn(`stats: ignored a malformed message from the page (${e.message})`);
        return;
      }
      throw e;
    }
    switch (msg.type) {
      case 'ready':
        if (msg.state) this.state = msg.state;
        this.setReady(true);
        this.post({ type: 'init', state: this.state, strings: statsStrings() });
        this.schedule(true);
        return;
      case 'setState':
        this.state = msg.state;
        this.schedule(true);
        return;
      case 'refresh':
        this.schedule(true);
        return;
      case 'openRequests':
        void vscode.commands.executeCommand('codexHelper.showRecentRequests');
        return;
      case 'openConfig':
        void vscode.commands.executeCommand('codexHelper.openConfigFile');
        return;
    }
  }

  /** A refresh after the coalescing window, or right away for user actions. */
  private schedule(immediate = false): void {
    this.feed.schedule(immediate);
  }

  private async refresh(): Promise<void> {
    try {
      const all = this.deps.sources();
      const sources = this.state.service === 'all' ? all : all.filter((s) => s.service === this.state.service);
      const statuses: SourceStatus[] = [];
      const data: StatsData[] = [];
      const snaps: ApiSnapshot[] = [];
      await Promise.all(sources.map(async (s) => {
        try {
          const [d, snap] = await Promise.all([s.client.statsData(30), s.client.snapshot(1, 1)]);
          data.push(d);
          snaps.push(snap);
          statuses.push({ service: s.service, ok: true });
        } catch (e) {
          statuses.push({ service: s.service, ok: false, message: (e as Error).message });
        }
      }));
      const pricing = await pricingSummary(sources);
      if (this.disposed || !this.ready) return;
      const nowMs = this.now();
      const report = buildStatsReport(data, { nowMs, range: this.state.range, tzOffsetMin: -new Date(nowMs).getTimezoneOffset() });
      this.post({ type: 'stats', nowMs, report, sources: statuses, pricing, sessions: sessionRows(snaps) });
    } catch (e) {
      this.deps.log.error(`stats: refresh failed: ${(e as Error).message}`);
    }
  }

  private post(msg: StatsHostMessage): void {
    if (this.disposed || !this.ready) return;
    this.panel.webview.postMessage(msg).then(undefined, (e: unknown) => this.deps.log.debug(`stats: post failed: ${(e as Error).message}`));
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
