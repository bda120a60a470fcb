// Pure parts of the Stats view host (no `vscode`), testable in plain node.
import type { ApiSnapshot } from '../proxy/adminClient';
import type { SessionCostRow } from './protocol';

const MAX_SESSIONS = 30;

/** The sessions a snapshot knows, newest first, with their estimated cost. */
export function sessionRows(snaps: ReadonlyArray<Pick<ApiSnapshot, 'service_name' | 'snapshot'>>): SessionCostRow[] {
  const rows: SessionCostRow[] = [];
  for (const s of snaps) {
    for (const [id, st] of Object.entries(s.snapshot.session_stats ?? {})) {
      const row: SessionCostRow = {
        service: s.service_name, id, turns: st.turns_total, tokens: st.total_usage?.total_tokens ?? 0, lastSeenMs: st.last_seen_ms,
      };
      if (st.cwd) row.cwd = st.cwd;
      if (st.total_cost && Object.keys(st.total_cost).length) row.cost = { ...st.total_cost };
      if (st.last_model) row.lastModel = st.last_model;
      rows.push(row);
    }
  }
  return rows.sort((a, b) => b.lastSeenMs - a.lastSeenMs).slice(0, MAX_SESSIONS);
}
