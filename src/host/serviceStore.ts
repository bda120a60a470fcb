// One fetch per change for every view: refetches a service's configs and snapshot through its AdminClient when
// the controller's feed says something changed, and hands the result to the tree and the status bar. No `vscode`.
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { ProxyController } from './proxyController';
import type { ClientLink, ServiceData } from './treeModel';

/** Latest data of both services, refreshed on (coalesced) change events, never on a busy poll. */
export class ServiceStore {
  private readonly data: Record<ServiceName, ServiceData>;
  private readonly listeners = new Set<(service: ServiceName) => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly inflight = new Map<ServiceName, Promise<void>>();
  private readonly again = new Set<ServiceName>();
  private disposed = false;

  constructor(
    private readonly controller: ProxyController,
    private readonly recentLimit = 50,
    /** Reads where the service's client points (its own settings file). */
    private readonly clientLink?: (service: ServiceName) => ClientLink,
  ) {
    this.data = {
      codex: { service: 'codex', status: controller.status('codex') },
      claude: { service: 'claude', status: controller.status('claude') },
    };
    for (const s of SERVICE_NAMES) this.unsubscribe.push(controller.subscribe(s, () => void this.refresh(s)));
  }

  get(service: ServiceName): ServiceData {
    return this.data[service];
  }

  all(): ServiceData[] {
    return SERVICE_NAMES.map((s) => this.data[s]);
  }

  onDidChange(listener: (service: ServiceName) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refetches one service; overlapping calls collapse into one follow-up fetch. */
  refresh(service: ServiceName): Promise<void> {
    const running = this.inflight.get(service);
    if (running) {
      this.again.add(service);
      return running;
    }
    const p = this.fetch(service).finally(() => {
      this.inflight.delete(service);
      if (this.again.delete(service) && !this.disposed) void this.refresh(service);
    });
    this.inflight.set(service, p);
    return p;
  }

  refreshAll(): Promise<void> {
    return Promise.all(SERVICE_NAMES.map((s) => this.refresh(s))).then(() => undefined);
  }

  private async fetch(service: ServiceName): Promise<void> {
    const status = this.controller.status(service);
    const client = this.controller.client(service);
    const next: ServiceData = { service, status };
    if (this.clientLink) {
      try {
        next.client = this.clientLink(service);
      } catch (e) {
        // An unreadable client file must not hide the proxy's own state.
        next.client = { file: '', enabled: false, error: (e as Error).message };
      }
    }
    if (client) {
      try {
        const [detail, snapshot] = await Promise.all([client.configsDetail(), client.snapshot(this.recentLimit, 1)]);
        next.detail = detail;
        next.snapshot = snapshot;
      } catch (e) {
        next.error = (e as Error).message;
      }
    }
    if (this.disposed) return;
    // The status may have changed while fetching; the feed pokes again then, so the newer fetch corrects it.
    this.data[service] = next;
    for (const l of [...this.listeners]) {
      try {
        l(service);
      } catch {
        // One broken view must not starve the others.
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
  }
}
