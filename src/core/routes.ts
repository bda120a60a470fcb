// Where traffic goes when it does not go where it should: the upstream each session failed over to (kept while the
// session's preferred config cannot serve, so a conversation does not hop between providers and lose its prompt
// cache) and the service-wide "failed over to X" status shown in the tree, the status bar and the admin API.
import { Emitter } from './events';
import type { Event } from './events';

export interface RouteTarget {
  config: string;
  index: number;
  base_url: string;
}

export interface FailoverStatus {
  /** The config traffic should go to (first in the routing order). */
  preferred: string;
  /** Where the last request was served instead. */
  to: RouteTarget;
  /** Why the preferred config did not serve it (its last error or cooldown). */
  reason: string;
  since_ms: number;
  /** When the preferred config's soonest cooldown ends (epoch ms), if it is cooling. */
  preferred_retry_at_ms?: number;
}

export type RouteEvent =
  | { kind: 'failover'; status: FailoverStatus }
  | { kind: 'recovered'; preferred: string; from: RouteTarget; after_ms: number };

interface SessionRoute extends RouteTarget {
  at_ms: number;
}

const MAX_SESSIONS = 5000;
const SESSION_TTL_MS = 6 * 3600_000;

/** Sticky failover routes per session and the service-wide failover status. */
export class RouteBook {
  private readonly sessions = new Map<string, SessionRoute>();
  private current: FailoverStatus | undefined;
  private readonly routed = new Emitter<RouteEvent>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The upstream this session failed over to, if it still has one. */
  stickyFor(sessionId: string | undefined): RouteTarget | undefined {
    if (sessionId === undefined) return undefined;
    const r = this.sessions.get(sessionId);
    if (!r) return undefined;
    if (this.now() - r.at_ms > SESSION_TTL_MS) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return r;
  }

  /** The service-wide failover, when the last answer did not come from the preferred config. */
  get failover(): FailoverStatus | undefined {
    return this.current ? { ...this.current, to: { ...this.current.to } } : undefined;
  }

  /**
   * Records who served a successful answer. Served by the preferred config: the session's sticky route is dropped
   * (failback) and a running failover ends. Served elsewhere: the session sticks there and the failover is shown.
   */
  recordServed(
    sessionId: string | undefined,
    preferred: string,
    served: RouteTarget,
    reason: string,
    preferredRetryAtMs?: number,
  ): void {
    const now = this.now();
    if (served.config === preferred) {
      if (sessionId !== undefined) this.sessions.delete(sessionId);
      const was = this.current;
      if (was && was.preferred === preferred) {
        this.current = undefined;
        this.emit({ kind: 'recovered', preferred, from: was.to, after_ms: now - was.since_ms });
      }
      return;
    }
    if (sessionId !== undefined) {
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, { ...served, at_ms: now });
      if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    }
    const was = this.current;
    const same = was && was.preferred === preferred && was.to.config === served.config && was.to.index === served.index;
    this.current = { preferred, to: { ...served }, reason, since_ms: same ? was.since_ms : now };
    if (preferredRetryAtMs !== undefined) this.current.preferred_retry_at_ms = preferredRetryAtMs;
    if (!same) this.emit({ kind: 'failover', status: this.failover! });
  }

  /** Forgets the failover status (e.g. the preferred config was reset by hand or the config changed). */
  clear(): void {
    this.current = undefined;
  }

  /** Failover / recovery events (a broken listener never breaks the request path). */
  readonly onDidRoute: Event<RouteEvent> = this.routed.event;

  private emit(e: RouteEvent): void {
    this.routed.fire(e);
  }
}
