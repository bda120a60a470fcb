// `codex-helper stats [--days N] [--service S] [--json]`: usage, cost and latency from the request logs, with or
// without a running proxy. Lines written with a cost keep it; older lines are priced with today's price table.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig, proxyHomeDir } from './io/configFile';
import { buildPriceTable, envPriceRules, formatCost, priceRequest } from './core/pricing';
import { buildStatsReport } from './core/statsReport';
import type { StatsGroup, StatsReport, StatsTotals } from './core/statsReport';
import { StatsSeries } from './core/statsSeries';
import type { ServiceName } from './core/types';
import { SERVICE_NAMES } from './core/types';
import { toReplayEvent } from './core/usageRollup';

export interface StatsArgs {
  days: number;
  services: ServiceName[];
  json: boolean;
}

export class StatsUsageError extends Error {
  readonly code = 'USAGE';
}

/** Parses `stats` options. */
export function parseStatsArgs(args: string[]): StatsArgs {
  const out: StatsArgs = { days: 7, services: [...SERVICE_NAMES], json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v.startsWith('--')) throw new StatsUsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') out.json = true;
    else if (flag === '--days') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 366) throw new StatsUsageError(`--days must be a whole number from 1 to 366 (got '${v}')`);
      out.days = n;
    } else if (flag === '--service') {
      const v = value();
      if (v === 'all') out.services = [...SERVICE_NAMES];
      else if (v === 'codex' || v === 'claude') out.services = [v];
      else throw new StatsUsageError(`--service must be codex, claude or all (got '${v}')`);
    } else throw new StatsUsageError(`unknown option '${a}'`);
  }
  return out;
}

/** requests.jsonl and its rotated files that were written to within the window, oldest first. */
function logFiles(dir: string, sinceMs: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n === 'requests.jsonl' || /^requests\.\d+\.jsonl$/.test(n))
    .map((n) => join(dir, n))
    .filter((f) => {
      try {
        return statSync(f).mtimeMs >= sinceMs;
      } catch {
        return false;
      }
    })
    .sort((a, b) => (a.endsWith('requests.jsonl') ? 1 : b.endsWith('requests.jsonl') ? -1 : a < b ? -1 : 1));
}

/** Builds the report for the last `days` days from the logs under `home`. */
export async function statsFromLogs(home: string, args: StatsArgs, env: NodeJS.ProcessEnv, nowMs: number, tzOffsetMin: number): Promise<{ report: StatsReport; lines: number; priced: boolean }> {
  const loaded = loadConfig(home);
  const table = buildPriceTable(loaded.config.pricing, envPriceRules(env).rules);
  const keepDays = Math.max(args.days, 30);
  const since = nowMs - keepDays * 86_400_000;
  const series = args.services.map((s) => new StatsSeries(s, keepDays));
  const providers: Record<string, string> = {};
  for (const s of SERVICE_NAMES) {
    for (const c of Object.values(loaded.config[s].configs)) for (const u of c.upstreams) if (u.tags['provider_id']) providers[u.base_url] = u.tags['provider_id'];
  }
  let lines = 0;
  for (const file of logFiles(join(home, 'logs'), since)) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line.includes('"status_code"')) continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      args.services.forEach((service, i) => {
        const e = toReplayEvent(v, service, providers);
        if (!e || e.ended_at_ms < since || e.ended_at_ms > nowMs) return;
        if (!e.cost && e.usage) {
          const cost = priceRequest(table, service, e.usage, e.model, e.mapped_model);
          if (cost) e.cost = cost;
        }
        series[i]!.record(e);
        lines += 1;
      });
    }
  }
  const report = buildStatsReport(series.map((s) => s.data(nowMs, keepDays)), { nowMs, range: '30d', days: args.days, tzOffsetMin });
  return { report, lines, priced: table.rules.length > 0 };
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtMs(n: number | undefined): string {
  if (n === undefined) return '-';
  return n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

function row(label: string, t: StatsTotals, via = ''): string[] {
  return [
    label,
    fmtInt(t.requests),
    t.requests ? `${(t.error_rate * 100).toFixed(1)}%` : '-',
    `${fmtInt(t.tokens.input)} / ${fmtInt(t.tokens.output)}`,
    formatCost(t.cost) || '-',
    fmtMs(t.p50_ms),
    fmtMs(t.p95_ms),
    fmtMs(t.ttfb_p50_ms),
    t.output_tps !== undefined ? t.output_tps.toFixed(1) : '-',
    via,
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const HEAD = ['', 'requests', 'errors', 'tokens in / out', 'cost', 'p50', 'p95', 'ttfb p50', 'out tok/s', ''];

/** The human-readable report. */
export function formatStatsReport(r: StatsReport, days: number, priced: boolean): string {
  const out: string[] = [];
  out.push(table([HEAD, row('today', r.today), row('7 days', r.last_7d), row('30 days', r.last_30d), row(`last ${days} d`, r.period)]));
  const group = (title: string, gs: StatsGroup[], viaLabel: string) => {
    if (gs.length === 0) return;
    out.push('', `${title} (last ${days} days)`);
    out.push(table([[...HEAD.slice(0, -1), viaLabel], ...gs.slice(0, 20).map((g) => row(g.key, g.totals, g.via.join(', ')))]));
  };
  group('per model', r.by_model, 'configs');
  group('per config', r.by_config, 'providers');
  const classes = Object.entries(r.period.errors_by_class).sort((a, b) => b[1] - a[1]);
  if (classes.length) out.push('', `errors by class (last ${days} days): ${classes.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push('', 'per day');
  out.push(table([['day', 'requests', 'errors', 'tokens', 'cost'], ...r.chart.buckets.map((b) => [
    new Date(b.start_ms + 12 * 3_600_000).toISOString().slice(0, 10), fmtInt(b.requests), fmtInt(b.errors), fmtInt(b.tokens), formatCost(b.cost) || '-',
  ])]));
  out.push('');
  out.push(priced
    ? 'Costs are estimates from the [pricing] table of config.toml and CODEX_HELPER_PRICE_* (latency percentiles within ±10 %).'
    : 'No prices configured: add [pricing."<model glob>"] to config.toml (input/output per million tokens) to see costs.');
  if (r.period.unpriced > 0 && priced) out.push(`${fmtInt(r.period.unpriced)} request(s) in the period matched no price rule.`);
  return out.join('\n');
}

/** Runs the command; returns the exit code. */
export async function runStatsCommand(args: string[], io: { env: NodeJS.ProcessEnv; out: (s: string) => void }): Promise<number> {
  const a = parseStatsArgs(args);
  const home = proxyHomeDir(io.env);
  const now = Date.now();
  const { report, lines, priced } = await statsFromLogs(home, a, io.env, now, -new Date(now).getTimezoneOffset());
  if (a.json) io.out(JSON.stringify({ ...report, requests_read: lines, pricing_configured: priced }, null, 2));
  else if (lines === 0) io.out(`no requests in the last ${a.days} day(s) in ${join(home, 'logs')}`);
  else io.out(formatStatsReport(report, a.days, priced));
  return 0;
}
