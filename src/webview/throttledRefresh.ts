// The one change-coalescing step of the webviews: a refresh runs at most once per window (at once for a user
// action), never twice at the same time, and a request that arrives while one runs becomes one more run after it.
// No `vscode` here.

export class ThrottledRefresh {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private again = false;
  private lastRunMs = -Infinity;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly windowMs: number,
    /** False while nobody could see the result (page not ready, panel disposed): nothing is scheduled then. */
    private readonly canRun: () => boolean = () => true,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs after the throttle window, or right away when `immediate` (user actions). */
  schedule(immediate = false): void {
    if (this.stopped || !this.canRun()) return;
    if (this.timer) {
      if (!immediate) return;
      clearTimeout(this.timer);
    }
    const wait = immediate ? 0 : Math.max(0, this.lastRunMs + this.windowMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
  }

  private async run(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.lastRunMs = this.now();
    try {
      await this.work();
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  dispose(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
