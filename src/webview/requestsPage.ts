// The Recent Requests page's host-side controller, without `vscode`: validates what the page sends, answers it
// (through HostUi), and feeds it from the admin API of each running proxy, coalesced, never before the page's
// `ready`. requestsWebview.ts owns the panel and wires it here; plain-node tests drive it with a fake port.
import type { Disposable } from '../core/events';
import type { LbConfigView } from '../core/lb';
import type { Logger } from '../proxy/logger';
import type { ChangeSubscription, SubscribeOptions } from '../host/proxyController';
import { CMD } from '../host/constants';
import type { HostUi } from '../host/ui';
import { configHealthStates } from '../host/upstreamHealth';
import { requestsStrings } from './pageStrings';
import { parsePageMessage, PageMessageError } from './protocol';
import type { HostMessage, PageMessage, RequestFilters, RequestRow, UpstreamStateView } from './protocol';
import { clearRecent, copyRow, exportRows, showRowDetails } from './requestsActions';
import type { RequestsSource } from './requestsActions';
import { RequestsModel } from './requestsModel';
import type { SourceData } from './requestsModel';

const THROTTLE_MS = 250;
/** Catches proxies that come back after an error and lets the chart move on when nothing happens. */
const HEARTBEAT_MS = 10_000;
const MAX_FETCH = 2000;
/** The chart covers an hour; fetch at least this many so it is not cut off by a small `maxRows`. */
const MIN_FETCH = 300;

/** The page end of a webview panel, as a controller needs it. */
export interface PagePort<M> {
  postMessage(msg: M): PromiseLike<unknown>;
}

export interface RequestsPageDeps {
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

/** One open page and its feed. */
export class RequestsPage implements Disposable {
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

  constructor(private readonly port: PagePort<HostMessage>, private readonly deps: RequestsPageDeps, private filters: RequestFilters) {
    this.now = deps.now ?? Date.now;
    this.feed = deps.watch(() => this.refresh(), { windowMs: THROTTLE_MS, canRun: () => !this.disposed && this.ready });
  }

  /** The page was torn down (hidden without retainContextWhenHidden); it sends `ready` again when shown. */
  hidden(): void {
    this.setReady(false);
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

  /** Handles one message from the page; a malformed one is logged and ignored. Resolves when its action is done. */
  async onMessage(raw: unknown): Promise<void> {
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
        return this.withRow(msg.key, (row) => showRowDetails(this.deps.ui, row));
      case 'copy':
        return this.withRow(msg.key, (row) => copyRow(this.deps.ui, row, msg.what));
      case 'export':
        return exportRows(this.deps.ui, this.shownRows, msg.format, this.now());
      case 'clearRecent':
        if (await clearRecent(this.deps.ui, this.deps.sources())) this.schedule(true);
        return;
      case 'openStats':
        return this.run(CMD.showStats);
      case 'connect':
        return this.run(msg.service === 'codex' ? CMD.connectCodex : CMD.connectClaude);
    }
  }

  private async withRow(key: string, act: (row: RequestRow) => Promise<void>): Promise<void> {
    const row = this.model.row(key);
    if (row) await act(row);
  }

  private async run(command: string): Promise<void> {
    await this.deps.ui.executeCommand(command);
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
    this.port.postMessage(msg).then(undefined, (e: unknown) => {
      this.deps.log.debug(`recent requests: post failed: ${(e as Error).message}`);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.setReady(false);
    this.feed.dispose();
  }
}
