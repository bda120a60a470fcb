// One fetch per change for every view: refetches a service's configs and snapshot through its AdminClient when
// the controller says something changed (coalesced by its `subscribe`), and hands the result to the tree and the
// status bar. No `vscode`.
import { Emitter } from '../core/events';
import type { Event } from '../core/events';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import type { ChangeSubscription, ProxyController } from './proxyController';
import type { ClientLink, ServiceData } from './treeModel';

/** Latest data of both services, refreshed on (coalesced) change events, never on a busy poll. */
export class ServiceStore {
  private readonly data: Record<ServiceName, ServiceData>;
  private readonly changes = new Emitter<ServiceName>();
  private readonly feeds: Record<ServiceName, ChangeSubscription>;
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
    this.feeds = {
      codex: controller.subscribe('codex', () => this.fetch('codex')),
      claude: controller.subscribe('claude', () => this.fetch('claude')),
    };
  }

  get(service: ServiceName): ServiceData {
    return this.data[service];
  }

  all(): ServiceData[] {
    return SERVICE_NAMES.map((s) => this.data[s]);
  }

  /** Fires with the service whose data was just refetched (a broken view never starves the others). */
  readonly onDidChange: Event<ServiceName> = this.changes.event;

  /** Refetches one service now (after a fetch in flight, never beside it); resolves once the new data is in. */
  refresh(service: ServiceName): Promise<void> {
    return this.feeds[service].flush();
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
    // The status may have changed while fetching; that change asks for one more run, which corrects it.
    this.data[service] = next;
    this.changes.fire(service);
  }

  dispose(): void {
    this.disposed = true;
    for (const s of SERVICE_NAMES) this.feeds[s].dispose();
    this.changes.dispose();
  }
}
