// A view that shows "cooling down" must redraw when the cooldown ends even if no event arrives then: one one-shot
// timer at the earliest cooldown end, re-armed on every redraw (no busy poll). No `vscode` here.
import type { ServiceData } from './treeModel';
import { nextCooldownEnd } from './treeModel';

/** Schedules `fn` after `ms`; returns the cancel function (injectable for tests). */
export type Schedule = (fn: () => void, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref?.();
  return () => clearTimeout(t);
};

/** Calls `onEnd` shortly after the earliest cooldown in the data last given to `arm` ends. */
export class CooldownTimer {
  private cancel: (() => void) | undefined;

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
    this.cancel = this.schedule(() => {
      this.cancel = undefined;
      this.onEnd();
    }, Math.max(250, end - now + 50));
  }

  dispose(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
