// The Recent Requests page's host-side controller, without `vscode`: validates what the page sends, answers it
// (through HostUi), and feeds it from the admin API of each running proxy, coalesced, never before the page's
// `ready`. requestsWebview.ts owns the panel and wires it here; plain-node tests drive it with a fake port.
import type { LbConfigView } from '../core/lb';
import type { Logger } from '../proxy/logger';
import { CMD } from '../host/constants';
import type { HostUi } from '../host/ui';
import { configHealthStates } from '../host/upstreamHealth';
import { requestsStrings } from './pageStrings';
import { PageController } from './pageController';
import type { PagePort, PageWatch } from './pageController';
import { parsePageMessage } from './protocol';
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

export interface RequestsPageDeps {
  /** The proxies to read now (running or attached); asked again on every refresh. */
  sources: () => RequestsSource[];
  /**
   * Runs `work`, coalesced (ProxyController.subscribe), whenever any service's requests or status change, including
   * services that are not running yet (so a proxy that starts later shows up at once).
   */
  watch: PageWatch;
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
export class RequestsPage extends PageController<HostMessage, PageMessage> {
  private readonly model = new RequestsModel();
  private readonly now: () => number;
  /** The rows of the last update, what "export" writes. */
  private shownRows: RequestRow[] = [];
  /** Sources (service + base URL) currently failing, so each outage is logged once. */
  private readonly failing = new Set<string>();

  constructor(port: PagePort<HostMessage>, private readonly deps: RequestsPageDeps, private filters: RequestFilters) {
    // l10n-ignore: a log prefix
    super(port, { label: 'recent requests', parse: parsePageMessage, watch: deps.watch, windowMs: THROTTLE_MS, heartbeatMs: HEARTBEAT_MS, log: deps.log });
    this.now = deps.now ?? Date.now;
  }

  protected async handle(msg: PageMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        if (msg.filters) this.filters = msg.filters;
        this.opened({ type: 'init', filters: this.filters, maxRows: this.maxRows(), strings: requestsStrings() });
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

  protected async update(): Promise<void> {
    const maxRows = this.maxRows();
    const limit = Math.min(MAX_FETCH, Math.max(maxRows, MIN_FETCH));
    const data = await Promise.all(this.deps.sources().map((source) => this.read(source, limit)));
    if (!this.live) return;
    const update = this.model.build(data, { filters: this.filters, maxRows, nowMs: this.now() });
    lastRowCount = update.rows.length;
    this.shownRows = update.rows;
    this.post(update);
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
}
