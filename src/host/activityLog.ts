// Feeds the output channel from what the views see (the store's snapshots, read through the admin API, so it works
// the same for the proxy's worker and for an attached proxy): each finished request (debug), failovers and cooldowns
// starting or ending (info). A proxy in this window logs its own failover / cooldown lines (the pipeline's), so for it
// only request lines and cooldown ends are added here. Lines come from logFormat.ts; a cooldown end is noticed by one
// timer armed for the soonest end (it asks the store for a fresh snapshot), never by polling. No `vscode` here.
import type { Disposable, Event } from '../core/events';
import type { LbConfigView } from '../core/lb';
import type { FinishedRequest, ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { Logger } from '../proxy/logger';
import { cooldownLines, failoverLine, requestLine } from './logFormat';
import type { ServiceData } from './treeModel';
import { upstreamLabels } from './treeModel';

/** What the activity log reads: the store's latest data per service and its change events. */
export interface ActivitySource {
  get(service: ServiceName): ServiceData;
  onDidChange: Event<ServiceName>;
  refresh(service: ServiceName): Promise<void>;
}

export class ActivityLog {
  private readonly off: Disposable;
  private readonly views: Partial<Record<ServiceName, Record<string, LbConfigView>>> = {};
  /** Newest finished request already logged, per service; requests that ended before the log started are not. */
  private readonly seen: Partial<Record<ServiceName, { at: number; ids: Set<number> }>> = {};
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly source: ActivitySource, private readonly log: Logger) {
    this.off = source.onDidChange((s) => this.update(s));
    for (const s of SERVICE_NAMES) this.update(s);
  }

  private update(s: ServiceName): void {
    const d = this.source.get(s);
    const snap = d.snapshot?.snapshot;
    if (!snap) return;
    // A proxy of this window logs its own failovers and cooldown starts; an attached one's are only seen here.
    const own = d.status.kind === 'running';
    this.requests(s, snap.recent, own);
    const next = snap.lb_view as Record<string, LbConfigView>;
    const prev = this.views[s];
    if (prev) {
      for (const c of new Set([...Object.keys(prev), ...Object.keys(next)])) {
        const cfg = d.detail?.configs.find((x) => x.name === c);
        const labels = upstreamLabels(cfg?.upstreams.map((u) => u.base_url) ?? []);
        for (const line of cooldownLines(s, c, prev[c], next[c], labels)) {
          if (own && !line.startsWith(`${s} cooldown over:`)) continue;
          this.log.info(line);
        }
      }
    }
    this.views[s] = next;
    this.arm();
  }

  /** Logs the requests finished since the last snapshot (or since the log started), oldest first. */
  private requests(s: ServiceName, recent: readonly FinishedRequest[], own: boolean): void {
    const seen = this.seen[s] ?? { at: this.startedAt, ids: new Set<number>() };
    const newest = recent.reduce((m, r) => Math.max(m, r.ended_at_ms), seen.at);
    const fresh = recent.filter((r) => r.ended_at_ms > seen.at || (r.ended_at_ms === seen.at && !seen.ids.has(r.id)));
    for (const r of [...fresh].reverse()) {
      this.log.debug(requestLine(r));
      const f = own ? undefined : failoverLine(r);
      if (f) this.log.info(f);
    }
    this.seen[s] = { at: newest, ids: new Set([...(newest === seen.at ? seen.ids : []), ...recent.filter((r) => r.ended_at_ms === newest).map((r) => r.id)]) };
  }

  /** One timer for the soonest cooldown end, so "cooldown over" is logged when it happens. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let soonest: number | undefined;
    for (const s of SERVICE_NAMES) {
      for (const v of Object.values(this.views[s] ?? {})) {
        for (const u of v.upstreams) {
          if (u.cooldown_remaining_secs !== undefined && (soonest === undefined || u.cooldown_remaining_secs < soonest)) soonest = u.cooldown_remaining_secs;
        }
      }
    }
    if (soonest === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const s of SERVICE_NAMES) void this.source.refresh(s).catch(() => undefined);
    }, soonest * 1000 + 50);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.off.dispose();
  }
}
