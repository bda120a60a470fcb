// The Stats page's host-side controller, without `vscode`: reads the mergeable Stats cells of each running proxy
// through the admin API, builds one report (both services, or the chosen one) and posts it. Refreshes on traffic
// (at most every 2 s), on a 30 s heartbeat, and when the page asks; validates everything the page sends.
// statsWebview.ts owns the panel and wires it here; plain-node tests drive it with a fake port.
import { buildStatsReport } from '../core/statsReport';
import type { StatsData } from '../core/statsSeries';
import type { ApiSnapshot } from '../proxy/adminClient';
import type { Logger } from '../proxy/logger';
import { CMD } from '../host/constants';
import { t } from '../host/l10n';
import type { HostUi } from '../host/ui';
import { statsStrings } from './pageStrings';
import { PageController } from './pageController';
import type { PagePort, PageWatch } from './pageController';
import { parseStatsPageMessage } from './protocol';
import type { PricingSummary, SourceStatus, StatsHostMessage, StatsPageMessage, StatsViewState } from './protocol';
import type { RequestsSource } from './requestsActions';
import { sessionRows } from './statsModel';

const THROTTLE_MS = 2000;
const HEARTBEAT_MS = 30_000;

export interface StatsPageDeps {
  sources: () => RequestsSource[];
  /** As in RequestsPageDeps. */
  watch: PageWatch;
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

/** One open Stats page and its feed. */
export class StatsPage extends PageController<StatsHostMessage, StatsPageMessage> {
  private readonly now: () => number;

  constructor(port: PagePort<StatsHostMessage>, private readonly deps: StatsPageDeps, private state: StatsViewState) {
    // l10n-ignore: a log prefix
    super(port, { label: 'stats', parse: parseStatsPageMessage, watch: deps.watch, windowMs: THROTTLE_MS, heartbeatMs: HEARTBEAT_MS, log: deps.log });
    this.now = deps.now ?? Date.now;
  }

  protected async handle(msg: StatsPageMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        if (msg.state) this.state = msg.state;
        this.opened({ type: 'init', state: this.state, strings: statsStrings() });
        return;
      case 'setState':
        this.state = msg.state;
        this.schedule(true);
        return;
      case 'refresh':
        this.schedule(true);
        return;
      case 'openRequests':
        await this.deps.ui.executeCommand(CMD.showRecentRequests);
        return;
      case 'openConfig':
        await this.deps.ui.executeCommand(CMD.openConfigFile);
        return;
    }
  }

  protected async update(): Promise<void> {
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
    if (!this.live) return;
    const nowMs = this.now();
    const report = buildStatsReport(data, { nowMs, range: this.state.range, tzOffsetMin: -new Date(nowMs).getTimezoneOffset() });
    this.post({ type: 'stats', nowMs, report, sources: statuses, pricing, sessions: sessionRows(snaps) });
  }
}
