// The one change-coalescing step between the proxy and everything that shows it (ARCHITECTURE.md "Host plumbing").
// The controller fires raw change events; each consumer (the service store per service, each webview panel) hands
// its refetch to one `Coalescer` through `ProxyController.subscribe`. A run starts at once when the last one is older
// than the window, else at the end of the window; runs never overlap; changes during a run become exactly one more
// run after it, so the final state is always shown. No `vscode` here.

export interface CoalescerOptions {
  /** Least time between the starts of two runs (user actions and `flush` skip it). */
  windowMs: number;
  /** False while nobody could see the result (page not ready, panel hidden): nothing is scheduled then. */
  canRun?: () => boolean;
  now?: () => number;
  /** A run that threw (the next change runs again all the same). */
  onError?: (error: unknown) => void;
}

/** Runs `work` at most once per window, never twice at the same time, and never drops the last request. */
export class Coalescer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private again = false;
  private againNow = false;
  private lastRunMs = -Infinity;
  private stopped = false;
  /** `flush` callers waiting for the next run to finish. */
  private waiting: Array<() => void> = [];
  private readonly canRun: () => boolean;
  private readonly now: () => number;

  constructor(private readonly work: () => unknown, private readonly opts: CoalescerOptions) {
    this.canRun = opts.canRun ?? (() => true);
    this.now = opts.now ?? Date.now;
  }

  /** Asks for a run: after the window, or right away when `immediate` (user actions). */
  schedule(immediate = false): void {
    if (this.stopped || !this.canRun()) return;
    if (this.inFlight) {
      this.again = true;
      this.againNow ||= immediate;
      return;
    }
    if (this.timer) {
      if (!immediate) return;
      clearTimeout(this.timer);
    }
    const wait = immediate ? 0 : Math.max(0, this.lastRunMs + this.opts.windowMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
    this.timer.unref?.();
  }

  /** Runs as soon as no run is in flight and resolves when a run that started after this call has finished. */
  flush(): Promise<void> {
    if (this.stopped || !this.canRun()) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.schedule(true);
    return done;
  }

  private async run(): Promise<void> {
    this.inFlight = true;
    this.lastRunMs = this.now();
    const waiters = this.waiting;
    this.waiting = [];
    try {
      await this.work();
    } catch (e) {
      this.opts.onError?.(e);
    } finally {
      this.inFlight = false;
      for (const w of waiters) w();
      if (this.again) {
        const now = this.againNow;
        this.again = this.againNow = false;
        this.schedule(now);
      }
      // Nothing will run (stopped, or nobody can see it now): nobody may wait for it.
      if (!this.timer) this.release();
    }
  }

  private release(): void {
    const waiters = this.waiting;
    this.waiting = [];
    for (const w of waiters) w();
  }

  dispose(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }
}
