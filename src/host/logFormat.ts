// What the output channel says, one readable line per event: a request finished (debug), a failover, a cooldown
// starting or ending (info). Multi-line messages (a warning plus its JSON details) keep only their first line at
// their own level; the details go to debug, so info level never shows JSON dumps. No `vscode` here.
import type { LbConfigView } from '../core/lb';
import type { FinishedRequest } from '../core/types';
import type { LogLevel } from '../proxy/logger';
import { parseChainEntry } from '../webview/retryChain';
import { formatDuration, shortReason } from './upstreamHealth';

export interface ChannelLine {
  level: Exclude<LogLevel, 'off'>;
  text: string;
}

/** Splits a message into lines for the channel: the first at `level`, the rest (details) at debug. */
export function channelLines(level: ChannelLine['level'], msg: string): ChannelLine[] {
  const [first = '', ...rest] = msg.split(/\r?\n/);
  const out: ChannelLine[] = [{ level, text: first }];
  for (const r of rest) if (r.trim() !== '') out.push({ level: 'debug', text: r.trim() });
  return out;
}

function ms(n: number | undefined): string {
  if (n === undefined) return '?';
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/** `codex POST /v1/responses → 200 via main/api.openai.com in 1.23 s (first byte 210 ms), 2 attempts, gpt-5`. */
export function requestLine(r: FinishedRequest): string {
  const route = [r.config_name, hostOf(r.upstream_base_url)].filter(Boolean).join('/');
  const attempts = r.retry?.attempts ?? 1;
  return [
    `${r.service} ${r.method} ${r.path} → ${r.status_code || 'ERR'}${r.error_class ? ` (${r.error_class})` : ''}`,
    route ? ` via ${route}` : '',
    ` in ${ms(r.duration_ms)}`,
    r.ttfb_ms !== undefined ? ` (first byte ${ms(r.ttfb_ms)})` : '',
    attempts > 1 ? `, ${attempts} attempts` : '',
    r.model ? `, ${r.model}` : '',
    r.session_id ? `, session ${r.session_id}` : '',
  ].join('');
}

/** `codex failover: main/a.example (HTTP 502) → backup/c.example (HTTP 200)`, or undefined when it stayed put. */
export function failoverLine(r: FinishedRequest): string | undefined {
  const chain = r.retry?.upstream_chain ?? [];
  const tries = chain.map((e) => parseChainEntry(e)).filter((a) => a.result !== 'skipped' && a.config !== undefined);
  if (tries.length < 2) return undefined;
  const where = (a: (typeof tries)[number]) => `${a.config}/${a.upstreamHost ?? `#${a.upstreamIndex}`}`;
  const first = tries[0]!;
  const last = tries[tries.length - 1]!;
  if (where(first) === where(last) && tries.every((a) => where(a) === where(first))) return undefined;
  const steps = tries.map((a) => `${where(a)} (${a.outcome})`);
  return `${r.service} failover: ${steps.join(' → ')}`;
}

/** Cooldowns that started or ended between two load-balancer views of one config. */
export function cooldownLines(service: string, config: string, prev: LbConfigView | undefined, next: LbConfigView | undefined,
  labels: readonly string[]): string[] {
  const out: string[] = [];
  const n = Math.max(prev?.upstreams.length ?? 0, next?.upstreams.length ?? 0);
  for (let i = 0; i < n; i++) {
    const a = prev?.upstreams[i];
    const b = next?.upstreams[i];
    const name = `${config}/${labels[i] ?? `#${i}`}`;
    const was = a?.cooldown_remaining_secs !== undefined;
    const is = b?.cooldown_remaining_secs !== undefined;
    if (is && (!was || (b!.penalty_streak > (a?.penalty_streak ?? 0)))) {
      const why = shortReason(b!.last_error, b!.last_status);
      out.push(`${service} cooldown: ${name} for ${formatDuration(b!.cooldown_remaining_secs!)}${why ? ` after ${why}` : ''}`);
    } else if (was && !is) {
      out.push(`${service} cooldown over: ${name} gets requests again`);
    }
  }
  return out;
}
