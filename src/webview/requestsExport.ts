// Export of the rows the Recent Requests page shows, as CSV or JSON. Pure, so the format is tested in plain node.
import type { RequestRow } from './protocol';

const COLUMNS: Array<[string, (r: RequestRow) => string | number | undefined]> = [
  ['time', (r) => new Date(r.timeMs).toISOString()],
  ['state', (r) => (r.active ? 'active' : 'finished')],
  ['service', (r) => r.service],
  ['method', (r) => r.method],
  ['path', (r) => r.path],
  ['status', (r) => r.status],
  ['status_class', (r) => r.statusClass],
  ['error_class', (r) => r.errorClass],
  ['duration_ms', (r) => r.durationMs],
  ['ttfb_ms', (r) => r.ttfbMs],
  ['model', (r) => r.model],
  ['mapped_model', (r) => r.mappedModel],
  ['effort', (r) => r.effort],
  ['config', (r) => r.config],
  ['provider', (r) => r.provider],
  ['upstream_host', (r) => r.upstreamHost],
  ['session_id', (r) => r.sessionId],
  ['cwd', (r) => r.cwd],
  ['input_tokens', (r) => r.tokens?.input],
  ['output_tokens', (r) => r.tokens?.output],
  ['reasoning_tokens', (r) => r.tokens?.reasoning],
  ['cached_tokens', (r) => r.tokens?.cached],
  ['total_tokens', (r) => r.tokens?.total],
  ['cost_estimate', (r) => r.cost?.amount],
  ['currency', (r) => r.cost?.currency],
  ['attempts', (r) => r.attempts],
  ['upstream_chain', (r) => r.chain.join(' | ')],
];

/** One CSV field: quoted when needed; text a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = v;
  if (/^[=+@\t\r]/.test(s) || (/^-/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) && s.length > 1)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header line, CRLF line ends. */
export function rowsToCsv(rows: readonly RequestRow[]): string {
  const lines = [COLUMNS.map(([h]) => h).join(',')];
  for (const r of rows) lines.push(COLUMNS.map(([, get]) => csvField(get(r))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Pretty JSON array of the rows without the page-internal `key`. */
export function rowsToJson(rows: readonly RequestRow[]): string {
  return JSON.stringify(rows.map(({ key: _key, ...rest }) => ({ ...rest, time: new Date(rest.timeMs).toISOString() })), null, 2) + '\n';
}

/** `codex-helper-requests-20260102-1504.csv` in local time. */
export function exportFileName(nowMs: number, format: 'csv' | 'json'): string {
  const d = new Date(nowMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `codex-helper-requests-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}.${format}`;
}
