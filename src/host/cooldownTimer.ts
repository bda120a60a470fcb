// A view that shows "cooling down" must redraw when the cooldown ends even if no event arrives then: one one-shot
// timer at the earliest cooldown end, re-armed on every redraw (no busy poll). No `vscode` here.
import { toDisposable } from '../core/events';
import type { Disposable } from '../core/events';
import type { ServiceData } from './treeModel';
import { nextCooldownEnd } from './treeModel';

/** Schedules `fn` after `ms`; disposing the result cancels it (injectable for tests). */
export type Schedule = (fn: () => void, ms: number) => Disposable;

const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref?.();
  return toDisposable(() => clearTimeout(t));
};

/** Calls `onEnd` shortly after the earliest cooldown in the data last given to `arm` ends. */
export class CooldownTimer {
  private pending: Disposable | undefined;

  constructor(
    private readonly onEnd: () => void,
    private readonly now: () => number = Date.now,
    private readonly schedule: Schedule = realSchedule,
  ) {}

  /** Replaces any pending timer by one for `data` (none when nothing cools down). */
  arm(data: ServiceData[]): void {
    this.dispose();
    const now = this.now();
    const end = nextCooldownEnd(data, now);
    if (end === undefined) return;
    this.pending = this.schedule(() => {
      this.pending = undefined;
      this.onEnd();
    }, Math.max(250, end - now + 50));
  }

  dispose(): void {
    this.pending?.dispose();
    this.pending = undefined;
  }
}
