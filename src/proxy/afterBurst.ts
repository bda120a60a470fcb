// The bookkeeping that waits for the burst. Requests and answers arrive in bursts (a client's parallel calls, streams
// starting and ending together): sending each request and each answer's first bytes comes first, and the records
// follow together, while the upstreams work, instead of each one delaying the requests and answers queued behind it.
// Shared by the pipeline's requests (`RequestAnswer.settleSoon()`), the state's flushes and the record of every
// finished request (`recordFinished()`), which is why it is a module of its own.

/**
 * How long the bookkeeping that can wait (a request's beginning, where it was served; a finished request's accounting)
 * waits. Requests come in bursts, and undici writes a request on a kept-alive socket only from an immediate, after
 * the event loop's poll phase: whatever runs before that immediate delays the burst's requests. An immediate of our
 * own would run in front of the next turn's sends; a few milliseconds on, the burst is out and the loop is quiet.
 */
const AFTER_BURST_MS = 4;

/** Something whose bookkeeping waits in the queue (a request: see `RequestAnswer.settleSoon()`). */
export interface SettlesLater {
  /** Runs the bookkeeping that waited; never throws. */
  settleQueued(): void;
}

/** What waits for the burst, in the order it came: requests to settle (undefined once settled early), other work. */
const settleQueue: Array<SettlesLater | (() => void) | undefined> = [];
let settleTimer: NodeJS.Timeout | undefined;
/** True while the queue runs: what it runs is already in the order it came. */
let settling = false;
/** Records waiting in the queue (see `RequestAnswer.finishSoon()`). */
let finishesWaiting = 0;

function settleNow(): void {
  if (settleTimer) clearTimeout(settleTimer);
  settleTimer = undefined;
  const queued = settleQueue.splice(0);
  const outer = settling;
  settling = true;
  try {
    for (const r of queued) {
      if (typeof r === 'function') r();
      else r?.settleQueued();
    }
  } finally {
    settling = outer;
  }
}

/** Queues `item`'s bookkeeping for the end of the burst; returns its slot (for `dropQueued()`). */
export function queueSettle(item: SettlesLater): number {
  const slot = settleQueue.push(item) - 1;
  settleTimer ??= setTimeout(settleNow, AFTER_BURST_MS);
  return slot;
}

/** Lets go of `item`, settled early (its answer is done), now rather than when the wait ends. */
export function dropQueued(item: SettlesLater, slot: number): void {
  if (settleQueue[slot] === item) settleQueue[slot] = undefined;
}

/** Runs `work` once the burst is out, with the requests' bookkeeping (one timer for both). */
export function afterBurst(work: () => void): void {
  settleQueue.push(work);
  settleTimer ??= setTimeout(settleNow, AFTER_BURST_MS);
}

/**
 * Runs whatever waits for the burst now (the requests' bookkeeping first of all), for whoever must see those
 * requests: every read and flush of the state.
 */
export function settlePending(): void {
  if (settleQueue.length > 0) settleNow();
}

/** A finished request's record now waits in the queue (`RequestAnswer.finishSoon()`). */
export function finishQueued(): void {
  finishesWaiting++;
}

/** A record that waited was made. */
export function finishSettled(): void {
  finishesWaiting--;
}

/**
 * Makes the records that wait, for a record about to be made at once (`recordFinished()`): the recent requests and
 * the log keep the order in which requests ended. Inside the queue's own run they come in that order already.
 */
export function settleWaitingFinishes(): void {
  if (finishesWaiting > 0 && !settling) settlePending();
}
