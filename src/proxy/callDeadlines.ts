// The first-byte and idle limits of the upstream calls in flight, checked by one timer for all of them.
//
// undici keeps these limits with a timer per request: its own timers for long limits, which a cleared timer leaves
// in their list until the next half-second tick. The proxy's two limits differ (120 s for a stream's headers, 300 s
// idle), so undici made two such timers per request (it reuses one only while the value stays the same), and each
// lived long enough to be copied into V8's old generation. Those copies were the largest part of what the proxy left
// behind per request for the young-generation collector (`bench/survivors.mjs`: 1040 → 637 bytes per SSE request
// without them, the node floor 252). Here a call in flight costs a few fields of its own and its place in a list,
// and data arriving costs one boolean.
import { performance } from 'node:perf_hooks';

export type DeadlinePhase = 'first_byte' | 'idle';

/** An upstream call ran past one of its limits; `code` is stable, the message names the limit. */
export class UpstreamTimeoutError extends Error {
  readonly code: 'UPSTREAM_FIRST_BYTE_TIMEOUT' | 'UPSTREAM_IDLE_TIMEOUT';

  constructor(readonly phase: DeadlinePhase, readonly limitMs: number) {
    super(phase === 'first_byte' ? `no response headers within ${limitMs} ms` : `no data for ${limitMs} ms`);
    this.name = 'UpstreamTimeoutError';
    this.code = phase === 'first_byte' ? 'UPSTREAM_FIRST_BYTE_TIMEOUT' : 'UPSTREAM_IDLE_TIMEOUT';
  }
}

/** The limits of one call in milliseconds; 0 is "no limit". */
export interface CallLimits {
  firstByteMs: number;
  idleMs: number;
}

/**
 * A call the watcher keeps limits for (UpstreamCall extends it). The call sets `gotHead`, `sawData` and `paused`;
 * the other fields are the watcher's.
 */
export abstract class Watched {
  /** The head arrived: the idle limit applies from here on. */
  gotHead = false;
  /** Data arrived since the last check (set by the call, cleared by the watcher). */
  sawData = false;
  /** Paused for back-pressure: the client is slow, not the upstream; the idle limit waits. */
  paused = false;
  /** When the call was sent (the watcher's clock). */
  startedAt = 0;
  /** When data last arrived, as far as the checks know: never, until the first check after the head. */
  lastDataAt = -Infinity;
  prevWatched: Watched | undefined;
  nextWatched: Watched | undefined;

  constructor(readonly limits: CallLimits) {}

  /** A limit ran out (called by the watcher, which no longer watches the call). */
  abstract expire(err: UpstreamTimeoutError): void;
}

/** Checks never come further apart than this, and a check at most this much late is what a limit can overrun by. */
const MAX_PERIOD_MS = 500;
/** Nor closer together than this (limits of a few ms exist only in tests). */
const MIN_PERIOD_MS = 5;
/** A limit is checked this many times over its length at least (a 200 ms limit every 25 ms). */
const CHECKS_PER_LIMIT = 8;

/** The calls in flight with a limit, in a list of their own links (no allocation per call), and one timer. */
export class CallDeadlines {
  private head: Watched | undefined;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private period = MAX_PERIOD_MS;

  constructor(readonly now: () => number = () => performance.now()) {}

  /** Calls watched now (for tests and leak checks). */
  get size(): number {
    return this.count;
  }

  /** The timer runs (it stops at the first check that finds nothing to watch). */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /** Starts watching `c` (its limits count from now). Calls without any limit are not watched. */
  watch(c: Watched): void {
    const { firstByteMs, idleMs } = c.limits;
    if (firstByteMs <= 0 && idleMs <= 0) return;
    c.startedAt = this.now();
    c.nextWatched = this.head;
    c.prevWatched = undefined;
    if (this.head) this.head.prevWatched = c;
    this.head = c;
    this.count++;
    const shortest = Math.min(firstByteMs > 0 ? firstByteMs : Infinity, idleMs > 0 ? idleMs : Infinity);
    const period = Math.max(MIN_PERIOD_MS, Math.min(MAX_PERIOD_MS, Math.floor(shortest / CHECKS_PER_LIMIT)));
    if (!this.timer || period < this.period) this.schedule(period);
  }

  /** Stops watching `c` (idempotent). */
  unwatch(c: Watched): void {
    if (c.prevWatched === undefined && this.head !== c) return;
    if (c.prevWatched) c.prevWatched.nextWatched = c.nextWatched;
    else this.head = c.nextWatched;
    if (c.nextWatched) c.nextWatched.prevWatched = c.prevWatched;
    c.prevWatched = undefined;
    c.nextWatched = undefined;
    this.count--;
    // The timer keeps running until a check finds the list empty: one request after another (c=1) would otherwise
    // start and stop it each time.
  }

  private schedule(period: number): void {
    if (this.timer) clearInterval(this.timer);
    this.period = period;
    this.timer = setInterval(() => this.check(), period);
    this.timer.unref();
  }

  /** Expires every call past a limit. Runs on the timer; public for tests. */
  check(): void {
    if (this.count === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.period = MAX_PERIOD_MS;
      return;
    }
    const t = this.now();
    let expired: Array<[Watched, UpstreamTimeoutError]> | undefined;
    for (let c = this.head; c; c = c.nextWatched) {
      const { firstByteMs, idleMs } = c.limits;
      if (!c.gotHead) {
        if (firstByteMs > 0 && t - c.startedAt >= firstByteMs) (expired ??= []).push([c, new UpstreamTimeoutError('first_byte', firstByteMs)]);
        continue;
      }
      if (c.sawData || c.paused || c.lastDataAt < c.startedAt) {
        // Data came since the last check (or the head just did, or the client holds the call back): silence counts
        // from now.
        c.sawData = false;
        c.lastDataAt = t;
        continue;
      }
      if (idleMs > 0 && t - c.lastDataAt >= idleMs) (expired ??= []).push([c, new UpstreamTimeoutError('idle', idleMs)]);
    }
    if (!expired) return;
    // Expiring ends a call, which unwatches it: done after the walk, not during it.
    for (const [c, err] of expired) {
      this.unwatch(c);
      c.expire(err);
    }
  }
}
