// Aggregation and printing: each measurement is repeated, shown as median [min–max], compared to direct as a
// ratio (or a difference, for the SSE timing lines), and checked against the issue-5 targets.

/** median/min/max of a list of numbers (NaN-free). */
export function summarize(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

function fmtNum(x) {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

/** "median [min–max]" (just the median when there is one sample). */
export function fmtStat(s) {
  if (!s || s.n === 0) return '-';
  if (s.n === 1 || s.min === s.max) return fmtNum(s.median);
  return `${fmtNum(s.median)} [${fmtNum(s.min)}–${fmtNum(s.max)}]`;
}

function pad(s, n) {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

const COLS = ['proxy', 'floor', 'nginx'];
const ratio = (r, c) => (r.direct && r[c] ? `×${(r[c].median / r.direct.median).toFixed(2)}` : '-');

function cells(r) {
  const out = [r.scenario, `${r.metric} (${r.unit})`, fmtStat(r.direct)];
  for (const c of COLS) out.push(fmtStat(r[c]), ratio(r, c));
  return out;
}

const HEAD = ['scenario', 'metric', 'direct', 'proxy', 'proxy÷direct', 'node floor', 'floor÷direct', 'nginx', 'nginx÷direct'];

/**
 * rows: {scenario, metric, unit, direct?, proxy?, floor?, nginx?} with summarized stats. The ratio columns are
 * each target's median over direct's median.
 */
export function printTable(rows, out = (l) => process.stdout.write(l + '\n')) {
  const body = rows.map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  out(HEAD.map((h, i) => pad(h, widths[i])).join('  '));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) out(b.map((c, i) => pad(c, widths[i])).join('  '));
}

/** The same table as GitHub markdown (for bench/README.md and the main README). */
export function markdownTable(rows) {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${cells(r).join(' | ')} |`);
  return lines.join('\n');
}

/** Prints PASS/FAIL lines; returns true when every target passed. */
export function printTargets(targets, out = (l) => process.stdout.write(l + '\n')) {
  let ok = true;
  for (const t of targets) {
    const verdict = t.pass === undefined ? 'SKIP' : t.pass ? 'PASS' : 'FAIL';
    if (t.pass === false) ok = false;
    out(`${verdict}  ${pad(t.name, 58)} ${t.detail}`);
  }
  return ok;
}
