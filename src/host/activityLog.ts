// Feeds the output channel from the in-process proxy's events: each finished request (debug), failovers and
// cooldowns starting or ending (info). Lines come from logFormat.ts; cooldown ends are noticed by one timer armed
// for the soonest end, never by polling. No `vscode` here.
import type { LbConfigView } from '../core/lb';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { Logger } from '../proxy/logger';
import type { ProxyHost } from '../proxy/proxyHost';
import { cooldownLines, failoverLine, requestLine } from './logFormat';
import { upstreamLabels } from './treeModel';

/** Binds to one ProxyHost; call `dispose` before binding the next one. */
export class ActivityLog {
  private readonly offs: Array<() => void> = [];
  private readonly views: Record<ServiceName, Record<string, LbConfigView>> = { codex: {}, claude: {} };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: ProxyHost, private readonly log: Logger) {
    for (const s of SERVICE_NAMES) {
      const svc = host.services[s];
      this.views[s] = svc.lbStore.view();
      this.offs.push(svc.state.onDidChange((e) => {
        if (e.kind !== 'finish') return;
        const r = svc.state.listRecent(1)[0];
        if (!r) return;
        log.debug(requestLine(r));
        const f = failoverLine(r);
        if (f) log.info(f);
      }));
      this.offs.push(svc.lbStore.onDidChange((config) => this.diff(s, [config])));
    }
  }

  private diff(s: ServiceName, configs: readonly string[]): void {
    const svc = this.host.services[s];
    const next = svc.lbStore.view();
    for (const c of configs) {
      const urls = svc.manager.configs[c]?.upstreams.map((u) => u.base_url) ?? [];
      for (const line of cooldownLines(s, c, this.views[s][c], next[c], upstreamLabels(urls))) this.log.info(line);
    }
    this.views[s] = next;
    this.arm();
  }

  /** One timer for the soonest cooldown end, so "cooldown over" is logged when it happens. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let soonest: number | undefined;
    for (const s of SERVICE_NAMES) {
      for (const v of Object.values(this.views[s])) {
        for (const u of v.upstreams) {
          if (u.cooldown_remaining_secs !== undefined && (soonest === undefined || u.cooldown_remaining_secs < soonest)) soonest = u.cooldown_remaining_secs;
        }
      }
    }
    if (soonest === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const s of SERVICE_NAMES) this.diff(s, Object.keys(this.views[s]));
    }, soonest * 1000 + 50);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const off of this.offs.splice(0)) off();
  }
}
