// Session choices for the per-session commands, and which sessions a workspace default effort applies to.
import { isAbsolute, relative } from 'node:path';
import type { SessionStats } from '../core/state';
import type { ApiSnapshot } from '../proxy/adminClient';
import { ago } from './statusModel';

export interface SessionChoice {
  sessionId: string;
  label: string;
  description: string;
  detail: string;
}

/** Recent sessions, newest first: cwd (or the full id) as label, the full id, last activity and overrides in detail. */
export function sessionChoices(snap: ApiSnapshot, nowMs: number): SessionChoice[] {
  const s = snap.snapshot;
  return Object.entries(s.session_stats)
    .sort((a, b) => b[1].last_seen_ms - a[1].last_seen_ms)
    .map(([id, st]) => {
      const effort = s.session_effort_overrides[id];
      const pin = s.session_config_overrides[id];
      const overrides = [effort ? `effort ${effort}` : undefined, pin ? `config ${pin}` : undefined].filter(Boolean);
      return {
        sessionId: id,
        label: st.cwd ? `$(folder) ${st.cwd}` : `$(comment-discussion) ${id}`,
        description: [`active ${ago(nowMs - st.last_seen_ms)}`, st.last_model, st.last_reasoning_effort].filter(Boolean).join(' · '),
        detail: [st.cwd ? id : undefined, `${st.turns_total} turn${st.turns_total === 1 ? '' : 's'}`,
          overrides.length ? `override: ${overrides.join(', ')}` : undefined].filter(Boolean).join(' · '),
      };
    });
}

/** True when `dir` is `folder` or inside it. */
export function isWithin(dir: string, folder: string): boolean {
  const r = relative(folder, dir);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/**
 * Sessions that should get the workspace's default effort: working in an open folder, no effort override yet, and
 * not handled before (a user who clears the override is not overruled).
 */
export function sessionsForDefaultEffort(stats: Readonly<Record<string, SessionStats>>,
  efforts: Readonly<Record<string, string>>, folders: readonly string[], handled: ReadonlySet<string>): string[] {
  if (folders.length === 0) return [];
  const out: string[] = [];
  for (const [id, st] of Object.entries(stats)) {
    if (handled.has(id) || efforts[id] !== undefined || !st.cwd) continue;
    if (folders.some((f) => isWithin(st.cwd as string, f))) out.push(id);
  }
  return out;
}
