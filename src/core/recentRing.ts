// The bounded list of recently finished requests behind ProxyState.listRecent().
import type { FinishedRequest } from './types';

/** Fixed-capacity ring, newest first on read: avoids the O(n) `unshift` of a plain array per request. */
export class RecentRing {
  private readonly buf: Array<FinishedRequest | undefined>;
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<FinishedRequest | undefined>(capacity);
  }

  /** Stores `r`, overwriting the oldest entry once full. */
  push(r: FinishedRequest): void {
    this.buf[this.head] = r;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  /** Up to `limit` entries, newest first. */
  list(limit: number): FinishedRequest[] {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.size);
    const out: FinishedRequest[] = new Array<FinishedRequest>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.buf[(this.head - 1 - i + this.capacity * 2) % this.capacity] as FinishedRequest;
    }
    return out;
  }

  /** Forgets every entry; returns how many there were. */
  clear(): number {
    const n = this.size;
    this.buf.fill(undefined);
    this.head = 0;
    this.size = 0;
    return n;
  }
}
