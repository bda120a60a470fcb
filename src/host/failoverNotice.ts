// What the user is told when traffic fails over or comes back: the transition between two snapshots' `failover`
// (undefined → set: failover; set → undefined: recovery; another target: failover again), as plain text. No `vscode`.
import type { FailoverStatus } from '../core/routes';
import type { ServiceName } from '../core/types';

export interface FailoverNotice {
  kind: 'failover' | 'recovered';
  message: string;
}

const LABEL: Record<ServiceName, string> = { codex: 'Codex', claude: 'Claude Code' };

/** "12 s", "3 min", "1 h 5 min" until `atMs`. */
export function timeLeft(atMs: number, nowMs: number): string {
  const s = Math.max(0, Math.ceil((atMs - nowMs) / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One line for the tree / status bar: "failed over to backup#0 (status_500; main back in 25 s)". */
export function failoverText(f: FailoverStatus, nowMs: number): string {
  const back = f.preferred_retry_at_ms !== undefined ? `; ${f.preferred} back in ${timeLeft(f.preferred_retry_at_ms, nowMs)}` : '';
  return `failed over to ${f.to.config}#${f.to.index} (${f.reason || 'preferred config unavailable'}${back})`;
}

/** The notice for a change of a service's failover status, or undefined when nothing changed. */
export function failoverNotice(service: ServiceName, prev: FailoverStatus | undefined, next: FailoverStatus | undefined, nowMs: number): FailoverNotice | undefined {
  if (!prev && !next) return undefined;
  if (prev && !next) {
    return { kind: 'recovered', message: `${LABEL[service]}: requests flow to ${prev.preferred} again (recovered after ${timeLeft(nowMs, prev.since_ms)}).` };
  }
  if (next && (!prev || prev.to.config !== next.to.config || prev.to.index !== next.to.index || prev.preferred !== next.preferred)) {
    return { kind: 'failover', message: `${LABEL[service]}: ${next.preferred} is unavailable, ${failoverText(next, nowMs)}.` };
  }
  return undefined;
}

/** Remembers each service's last failover status and says what changed (nothing for the first snapshot seen). */
export class FailoverWatcher {
  private readonly last = new Map<ServiceName, FailoverStatus | undefined>();

  update(service: ServiceName, next: FailoverStatus | undefined, nowMs: number): FailoverNotice | undefined {
    const seen = this.last.has(service);
    const prev = this.last.get(service);
    this.last.set(service, next);
    return seen ? failoverNotice(service, prev, next, nowMs) : undefined;
  }
}
