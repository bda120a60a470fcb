// The upstream HTTP client: one undici Agent (a keep-alive pool per origin) shared by every listener.
import type { Dispatcher } from 'undici';
import { Agent } from './undiciAgent';
import { UpstreamTimeoutError } from './callDeadlines';

export interface UpstreamClientOptions {
  connectTimeoutMs?: number;
  /** Time allowed until response headers arrive (long: non-stream reasoning answers take minutes). */
  headersTimeoutMs?: number;
  /** Longest silence allowed between two body chunks (a stalled stream is cut after this). */
  bodyIdleTimeoutMs?: number;
}

/** Creates the pooled upstream dispatcher. */
export function createUpstreamAgent(opts: UpstreamClientOptions = {}): Dispatcher {
  return new Agent({
    connect: { timeout: opts.connectTimeoutMs ?? 10_000, keepAlive: true, keepAliveInitialDelay: 30_000 },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    pipelining: 1,
    headersTimeout: opts.headersTimeoutMs ?? 10 * 60_000,
    bodyTimeout: opts.bodyIdleTimeoutMs ?? 15 * 60_000,
  });
}

/**
 * One pooled agent per connect timeout: undici sets the connect timeout per agent, and an upstream may override
 * `[timeouts] connect_ms`. Header and idle timeouts are set per request (dispatch options), not here.
 */
export class UpstreamAgents {
  private readonly byConnect = new Map<number, Dispatcher>();

  /** `shared` serves the default connect timeout (it is owned, and closed, by the caller). */
  constructor(private readonly shared: Dispatcher, private readonly sharedConnectMs: number) {}

  /** The agent for this connect timeout (created on first use). */
  get(connectMs: number): Dispatcher {
    if (connectMs === this.sharedConnectMs) return this.shared;
    let a = this.byConnect.get(connectMs);
    if (!a) {
      a = createUpstreamAgent({ connectTimeoutMs: connectMs });
      this.byConnect.set(connectMs, a);
    }
    return a;
  }

  async close(): Promise<void> {
    const all = [...this.byConnect.values()];
    this.byConnect.clear();
    await Promise.all(all.map((a) => a.close().catch(() => undefined)));
  }
}

/** True when an error is a timeout: undici's (connect, headers, body idle) or a call's limit (callDeadlines.ts). */
export function isTimeoutError(err: unknown): boolean {
  for (let cur: unknown = err, depth = 0; cur && depth < 5; depth++) {
    if (cur instanceof UpstreamTimeoutError) return true;
    const code = (cur as { code?: unknown }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
      || code === 'ETIMEDOUT') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

let shared: Dispatcher | undefined;

/** A lazily created agent for small internal requests when the caller has none. */
export function sharedAgent(): Dispatcher {
  shared ??= createUpstreamAgent({ headersTimeoutMs: 30_000, bodyIdleTimeoutMs: 30_000 });
  return shared;
}

/** One line describing a transport error with its causes and flags, for the retry chain (≤ 360 chars). */
export function describeTransportError(err: unknown): string {
  const parts: string[] = [];
  const flags = new Set<string>();
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 5; depth++) {
    const e = cur as { message?: unknown; code?: unknown; name?: unknown; cause?: unknown };
    const msg = typeof e.message === 'string' && e.message.trim() ? e.message.trim() : String(cur);
    const code = typeof e.code === 'string' ? e.code : undefined;
    const text = code && !msg.includes(code) ? `${msg} (${code})` : msg;
    if (!parts.includes(text)) parts.push(text);
    const tag = `${code ?? ''} ${typeof e.name === 'string' ? e.name : ''}`.toLowerCase();
    if (tag.includes('timeout')) flags.add('timeout');
    if (tag.includes('connect') || code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      flags.add('connect');
    }
    cur = e.cause;
  }
  let out = parts.length ? parts.join(' | caused_by: ') : 'transport error';
  if (flags.size) out += ` (flags: ${[...flags].join(',')})`;
  out = out.replace(/[\r\n]+/g, ' ');
  return out.length > 360 ? out.slice(0, 359) + '…' : out;
}
