// Waiting for health checks started through the admin API of one or more proxies. A proxy that stops answering
// mid-check is dropped (and reported) instead of failing the whole run. No `vscode` here.
import type { ServiceName } from '../core/types';
import type { AdminClient } from '../proxy/adminClient';

export interface HealthRun {
  service: ServiceName;
  client: AdminClient;
  /** Configs whose checks were started (or already running) on this proxy. */
  names: string[];
}

export interface HealthTally {
  ok: number;
  err: number;
  /** Runs still answering at the end; the others were dropped through `onDrop`. */
  runs: HealthRun[];
}

/** Polls every run until none has a pending check; `onProgress(done, total)` after each round. */
export async function waitForHealthChecks(runs: readonly HealthRun[], o: {
  onProgress: (done: number, total: number) => void;
  onDrop: (run: HealthRun, error: Error) => void;
  intervalMs?: number;
}): Promise<HealthTally> {
  let live = [...runs];
  for (;;) {
    let total = 0;
    let done = 0;
    let ok = 0;
    let err = 0;
    let pending = false;
    const answering: HealthRun[] = [];
    for (const r of live) {
      let snap;
      try {
        snap = (await r.client.snapshot(1, 1)).snapshot;
      } catch (e) {
        o.onDrop(r, e as Error);
        continue;
      }
      answering.push(r);
      for (const n of r.names) {
        const h = snap.health_checks[n];
        if (!h) continue;
        total += h.total;
        done += h.completed;
        ok += h.ok;
        err += h.err;
        if (!h.done) pending = true;
      }
    }
    live = answering;
    o.onProgress(done, total);
    if (!pending) return { ok, err, runs: live };
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 300));
  }
}
