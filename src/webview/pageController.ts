// What every webview page controller shares, without `vscode`: nothing is posted before the page's `ready` (nor
// after it was hidden or disposed), messages are validated before a page sees them, and the feed is a coalesced
// subscription plus a heartbeat that runs only while the page is shown. requestsPage.ts and statsPage.ts keep only
// what is their own: their messages and how they build what they post.
import type { Disposable } from '../core/events';
import type { ChangeSubscription, SubscribeOptions } from '../host/proxyController';
import type { Logger } from '../proxy/logger';
import { PageMessageError } from './protocol';

/** The page end of a webview panel, as a controller needs it. */
export interface PagePort<M> {
  postMessage(msg: M): PromiseLike<unknown>;
}

/** Runs `work`, coalesced (ProxyController.subscribe), whenever a service's requests or status change. */
export type PageWatch = (work: () => Promise<void>, o: SubscribeOptions) => ChangeSubscription;

/** How one kind of page is fed and checked. */
export interface PageFeed<P> {
  /** Starts every log line of the page, e.g. `stats` (the log stays English). */
  label: string;
  /** Validates a message from the page; throws PageMessageError when it is malformed. */
  parse: (raw: unknown) => P;
  watch: PageWatch;
  /** Coalescing window of refreshes caused by traffic. */
  windowMs: number;
  /** Refresh at least this often while the page is shown. */
  heartbeatMs: number;
  log: Logger;
}

/** One open page: its readiness, its feed and its way back to the page. */
export abstract class PageController<H, P> implements Disposable {
  private ready = false;
  private disposed = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly feed: ChangeSubscription;
  /** As in PageFeed: what the panel's log lines about this page start with. */
  readonly label: string;

  constructor(private readonly port: PagePort<H>, private readonly pf: PageFeed<P>) {
    this.label = pf.label;
    this.feed = pf.watch(() => this.refresh(), { windowMs: pf.windowMs, canRun: () => this.live });
  }

  /** Whether the page can receive: it said `ready` and was neither hidden nor disposed since. */
  protected get live(): boolean {
    return !this.disposed && this.ready;
  }

  /** The page was torn down (hidden without retainContextWhenHidden); it sends `ready` again when shown. */
  hidden(): void {
    this.setReady(false);
  }

  private setReady(ready: boolean): void {
    this.ready = ready;
    if (ready && !this.heartbeat) {
      this.heartbeat = setInterval(() => this.schedule(), this.pf.heartbeatMs);
    } else if (!ready && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** Handles one message from the page; a malformed one is logged and ignored. Resolves when its action is done. */
  async onMessage(raw: unknown): Promise<void> {
    let msg: P;
    try {
      msg = this.pf.parse(raw);
    } catch (e) {
      if (e instanceof PageMessageError) {
        this.pf.log.warn(`${this.pf.label}: ignored a malformed message from the page (${e.message})`);
        return;
      }
      throw e;
    }
    return this.handle(msg);
  }

  /** Acts on one valid message. */
  protected abstract handle(msg: P): Promise<void>;

  /** Reads the sources and posts what the page shows; called through the coalesced feed, only while live. */
  protected abstract update(): Promise<void>;

  /** The page said `ready`: from now on it is fed, starting with `init` and an immediate refresh. */
  protected opened(init: H): void {
    this.setReady(true);
    this.post(init);
    this.schedule(true);
  }

  /** A refresh after the coalescing window, or right away for user actions. */
  protected schedule(immediate = false): void {
    this.feed.schedule(immediate);
  }

  private async refresh(): Promise<void> {
    try {
      await this.update();
    } catch (e) {
      this.pf.log.error(`${this.pf.label}: refresh failed: ${(e as Error).message}`);
    }
  }

  /** Posts to the page if it is live; a failed post (the page went away meanwhile) is only worth a debug line. */
  protected post(msg: H): void {
    if (!this.live) return;
    this.port.postMessage(msg).then(undefined, (e: unknown) => {
      this.pf.log.debug(`${this.pf.label}: post failed: ${(e as Error).message}`);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.setReady(false);
    this.feed.dispose();
  }
}
