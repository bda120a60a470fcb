// Quota polling: after a successful user turn, ask the upstream's provider (packycode, yescode, …) whether its
// budget is spent and mark the upstream `usage_exhausted`: it gets no traffic, and
// a request that finds every upstream exhausted asks for a re-check (throttled like every poll).
// Improvements over the seed: both services poll (codex `/responses`, claude `/messages`, not only codex
// streams); credentials use the same resolution as real traffic (secrets, credential files); requests time out;
// a broken providers file is never overwritten; errors warn once per distinct error; a poll whose config was
// reloaded meanwhile is dropped instead of resetting the new config's health.
import { createOwnFile } from '../io/ownFiles';
import { join } from 'node:path';
import { SimpleRequestError, simpleRequest } from './upstreamCall';
import type { SimpleResponse } from './upstreamCall';
import { resolveUpstreamAuth } from '../core/auth';
import { WatchedFile } from '../io/watchedFile';
import type { ServiceConfig, UpstreamConfig } from '../core/types';
import type { Logger } from './logger';
import type { ProxyService } from './proxyService';

export const USAGE_PROVIDERS_FILE = 'usage_providers.json';
export const MIN_POLL_INTERVAL_SECS = 20;
const DEFAULT_POLL_INTERVAL_SECS = 60;
const FILE_CHECK_INTERVAL_MS = 5000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

export type UsageProviderKind = 'budget_http_json' | 'yescode_profile';

export interface UsageProviderConfig {
  id: string;
  kind: UsageProviderKind;
  domains: string[];
  endpoint: string;
  token_env?: string;
  poll_interval_secs?: number;
}

/** The seed's built-in providers, written to a missing usage_providers.json. */
export const DEFAULT_USAGE_PROVIDERS: readonly UsageProviderConfig[] = [
  {
    id: 'packycode',
    kind: 'budget_http_json',
    domains: ['packycode.com'],
    endpoint: 'https://www.packycode.com/api/backend/users/info',
    poll_interval_secs: 60,
  },
  {
    id: 'yescode',
    kind: 'yescode_profile',
    domains: ['yes.vg'],
    endpoint: 'https://co.yes.vg/api/v1/auth/profile',
    poll_interval_secs: 60,
  },
];

export type UsageProviderErrorCode = 'HTTP_STATUS' | 'BAD_RESPONSE' | 'TIMEOUT' | 'TRANSPORT' | 'BODY_TOO_LARGE';

/** A failed poll; the upstream's flag is left as it was. */
export class UsageProviderError extends Error {
  constructor(readonly code: UsageProviderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What one provider answered. */
export interface UsagePollResult {
  exhausted: boolean;
  /** Human summary without secrets, e.g. `monthly 12.00/10.00 USD`. */
  detail: string;
}

/** True when `host` is `domain` or a subdomain of it (case-insensitive). */
export function hostMatchesDomain(host: string, domain: string): boolean {
  const h = host.toLowerCase();
  const d = domain.trim().toLowerCase().replace(/^\.+/, '');
  if (d === '') return false;
  return h === d || h.endsWith('.' + d);
}

/** True for the request paths that are a user turn of `service` (the only ones worth a quota poll). */
export function isUserTurnPath(service: string, path: string): boolean {
  return service === 'claude' ? path.endsWith('/messages') : path.endsWith('/responses');
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  // Some providers send money as decimal strings.
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** Interprets a provider's JSON answer; throws UsageProviderError(BAD_RESPONSE) when the shape is unusable. */
export function interpretUsageResponse(kind: UsageProviderKind, body: unknown): UsagePollResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new UsageProviderError('BAD_RESPONSE', 'response is not a JSON object');
  }
  const o = body as Record<string, unknown>;
  if (kind === 'budget_http_json') {
    const budget = num(o['monthly_budget_usd']) ?? 0;
    const spent = num(o['monthly_spent_usd']) ?? 0;
    return { exhausted: budget > 0 && spent >= budget, detail: `monthly ${spent.toFixed(2)}/${budget.toFixed(2)} USD` };
  }
  const sub = num(o['subscription_balance']);
  const payg = num(o['pay_as_you_go_balance']);
  // The seed defaulted both to 0, so any unexpected shape marked the upstream exhausted; require at least one.
  if (sub === undefined && payg === undefined) {
    throw new UsageProviderError('BAD_RESPONSE', 'no subscription_balance or pay_as_you_go_balance in response');
  }
  const total = (sub ?? 0) + (payg ?? 0);
  return { exhausted: total <= 0, detail: `balance ${total.toFixed(2)}` };
}

function parseProviders(json: unknown): { providers: UsageProviderConfig[]; problems: string[] } {
  const problems: string[] = [];
  const list = json !== null && typeof json === 'object' ? (json as Record<string, unknown>)['providers'] : undefined;
  if (!Array.isArray(list)) return { providers: [], problems: ['"providers" is not an array'] };
  const providers: UsageProviderConfig[] = [];
  list.forEach((p: unknown, i) => {
    const o = p !== null && typeof p === 'object' ? (p as Record<string, unknown>) : {};
    const { id, kind, domains, endpoint, token_env, poll_interval_secs } = o;
    if (typeof id !== 'string' || id === '') return void problems.push(`providers[${i}]: missing id`);
    if (kind !== 'budget_http_json' && kind !== 'yescode_profile') return void problems.push(`${id}: unknown kind`);
    if (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string')) {
      return void problems.push(`${id}: domains must be a list of strings`);
    }
    if (typeof endpoint !== 'string' || !/^https?:\/\//i.test(endpoint)) return void problems.push(`${id}: bad endpoint`);
    const c: UsageProviderConfig = { id, kind, domains: domains as string[], endpoint };
    if (typeof token_env === 'string' && token_env.trim() !== '') c.token_env = token_env.trim();
    if (typeof poll_interval_secs === 'number' && poll_interval_secs >= 0) c.poll_interval_secs = poll_interval_secs;
    providers.push(c);
  });
  return { providers, problems };
}

export interface UsageProviderPollerOptions {
  /** CODEX_HELPER_HOME (holds usage_providers.json). */
  home: string;
  log: Logger;
  now?: () => number;
  /** Whole-poll timeout (headers and body); default 5000. */
  fetchTimeoutMs?: number;
}

/** Polls quota providers after successful user turns and feeds `usage_exhausted` into the load balancer. */
export class UsageProviderPoller {
  private readonly file: string;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly providersFile: WatchedFile<readonly UsageProviderConfig[]>;
  private wroteDefaults = false;
  private readonly lastPollAt = new Map<string, number>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly lastWarning = new Map<string, string>();
  private readonly hostCache = new WeakMap<UpstreamConfig, string>();
  /** The providers whose domains match an upstream, for the provider list they were matched against. */
  private readonly matchCache = new WeakMap<UpstreamConfig, { from: readonly UsageProviderConfig[]; matched: UsageProviderConfig[] }>();
  private disposed = false;

  constructor(private readonly opts: UsageProviderPollerOptions) {
    this.file = join(opts.home, USAGE_PROVIDERS_FILE);
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.fetchTimeoutMs ?? 5000;
    this.providersFile = new WatchedFile<readonly UsageProviderConfig[]>(this.file, {
      parse: (text) => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (e) {
          this.opts.log.warn(`${this.file} is not valid JSON (${(e as Error).message}); usage polling is off until it is fixed`);
          throw e;
        }
        const { providers, problems } = parseProviders(json);
        if (problems.length > 0) this.opts.log.warn(`${this.file}: ignored entries: ${problems.join('; ')}`);
        return providers;
      },
      missing: () => DEFAULT_USAGE_PROVIDERS,
      onMissing: () => this.writeDefaults(),
      // Never overwrite what the user wrote: run without providers until the file changes.
      onInvalid: () => [],
      checkIntervalMs: FILE_CHECK_INTERVAL_MS,
      now: this.now,
    });
  }

  private get providers(): readonly UsageProviderConfig[] {
    return this.providersFile.value;
  }

  /**
   * Hook for every 2xx answer; returns at once and polls in the background. `method`, when known, must be POST.
   * Never throws.
   */
  onUpstreamSuccess(
    svc: ProxyService,
    config: ServiceConfig,
    index: number,
    upstream: UpstreamConfig,
    path: string,
    method?: string,
  ): void {
    if (this.disposed || !isUserTurnPath(svc.service, path)) return;
    if (method !== undefined && method.toUpperCase() !== 'POST') return;
    try {
      this.schedule(svc, config, index, upstream);
    } catch (e) {
      // The request path must never see a polling problem.
      this.opts.log.warn(`usage providers: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** Aborts polls in flight; later successes are ignored. */
  dispose(): void {
    this.disposed = true;
    for (const ac of this.inFlight.values()) ac.abort();
    this.inFlight.clear();
  }

  /** The providers currently in effect (for tests and diagnostics). */
  currentProviders(): readonly UsageProviderConfig[] {
    return this.providers;
  }

  private schedule(svc: ProxyService, config: ServiceConfig, index: number, upstream: UpstreamConfig): void {
    const providers = this.providers;
    if (providers.length === 0) return;
    const host = this.hostOf(upstream);
    if (host === undefined) return;
    // Every 2xx lands here: match the domains once per upstream and provider list, not per request.
    let m = this.matchCache.get(upstream);
    if (m?.from !== providers) {
      m = { from: providers, matched: providers.filter((p) => p.domains.some((d) => hostMatchesDomain(host, d))) };
      this.matchCache.set(upstream, m);
    }
    for (const p of m.matched) {
      if (this.inFlight.has(p.id)) continue;
      const now = this.now();
      const interval = Math.max(p.poll_interval_secs ?? DEFAULT_POLL_INTERVAL_SECS, MIN_POLL_INTERVAL_SECS) * 1000;
      const last = this.lastPollAt.get(p.id);
      if (last !== undefined && now - last < interval) continue;
      // Recorded before the request so a failing provider is throttled too.
      this.lastPollAt.set(p.id, now);
      const token = this.tokenFor(svc, p, upstream);
      if (token === undefined) {
        this.opts.log.debug(`usage provider '${p.id}': no token for ${config.name}[${index}] (${host}), skipped`);
        continue;
      }
      const ac = new AbortController();
      this.inFlight.set(p.id, ac);
      void this.poll(svc, p, token, ac, config.name, index, upstream, host).finally(() => {
        if (this.inFlight.get(p.id) === ac) this.inFlight.delete(p.id);
      });
    }
  }

  private hostOf(upstream: UpstreamConfig): string | undefined {
    let host = this.hostCache.get(upstream);
    if (host === undefined) {
      try {
        host = new URL(upstream.base_url).hostname.toLowerCase();
      } catch {
        return undefined;
      }
      this.hostCache.set(upstream, host);
    }
    return host;
  }

  private tokenFor(svc: ProxyService, p: UsageProviderConfig, upstream: UpstreamConfig): string | undefined {
    if (p.token_env) {
      const v = svc.deps.env[p.token_env];
      if (v && v.trim() !== '') return v.trim();
    }
    const auth = resolveUpstreamAuth(svc.service, upstream, { hasAuthorization: false, hasApiKey: false },
      svc.deps.env, svc.credentials, svc.deps.secrets);
    return auth.token ?? auth.apiKey;
  }

  private async poll(
    svc: ProxyService,
    p: UsageProviderConfig,
    token: string,
    ac: AbortController,
    configName: string,
    index: number,
    upstream: UpstreamConfig,
    host: string,
  ): Promise<void> {
    let result: UsagePollResult;
    try {
      result = await this.fetchUsage(svc, p, token, ac);
    } catch (e) {
      if (this.disposed) return;
      const err = e instanceof UsageProviderError ? e : new UsageProviderError('TRANSPORT', String(e), { cause: e });
      const key = `${err.code}: ${err.message}`;
      if (this.lastWarning.get(p.id) !== key) {
        this.lastWarning.set(p.id, key);
        this.opts.log.warn(`usage provider '${p.id}' poll failed (${key}); usage_exhausted of ${configName}[${index}] unchanged`);
      }
      return;
    }
    if (this.disposed) return;
    this.lastWarning.delete(p.id);
    // Apply to the current snapshot only; a config reloaded meanwhile would otherwise get its health reset.
    const cur = svc.upstream(configName, index);
    if (!cur || cur.upstream.base_url !== upstream.base_url) return;
    svc.lbStore.balancer(cur.config).setUsageExhausted(index, result.exhausted);
    this.opts.log.info(
      `usage provider '${p.id}': ${svc.service}/${configName}[${index}] (${host}) exhausted = ${result.exhausted} (${result.detail})`,
    );
  }

  private async fetchUsage(svc: ProxyService, p: UsageProviderConfig, token: string, ac: AbortController): Promise<UsagePollResult> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (p.kind === 'budget_http_json') {
      headers['authorization'] = `Bearer ${token}`;
      headers['content-type'] = 'application/json';
    } else {
      headers['x-api-key'] = token;
    }
    let res: SimpleResponse;
    try {
      res = await simpleRequest(p.endpoint, { headers, timeoutMs: this.timeoutMs, maxBytes: MAX_RESPONSE_BYTES, dispatcher: svc.deps.agent, signal: ac.signal });
    } catch (e) {
      if (e instanceof SimpleRequestError) throw new UsageProviderError(e.code, e.message, { cause: e });
      throw this.abortReason(ac, e);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) throw new UsageProviderError('HTTP_STATUS', `HTTP ${res.statusCode}`);
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new UsageProviderError('BAD_RESPONSE', 'response is not JSON');
    }
    return interpretUsageResponse(p.kind, body);
  }

  private abortReason(ac: AbortController, e: unknown): UsageProviderError {
    if (e instanceof UsageProviderError) return e;
    if (ac.signal.aborted && ac.signal.reason instanceof UsageProviderError) return ac.signal.reason;
    const err = e as { code?: unknown; message?: unknown };
    const code = typeof err?.code === 'string' ? ` (${err.code})` : '';
    const msg = typeof err?.message === 'string' ? err.message : String(e);
    return new UsageProviderError('TRANSPORT', `${msg}${code}`, { cause: e });
  }

  private writeDefaults(): void {
    if (this.wroteDefaults) return;
    this.wroteDefaults = true;
    try {
      // Created only if absent, so a file written meanwhile (by the user or another window) is never clobbered.
      createOwnFile(this.file, JSON.stringify({ providers: DEFAULT_USAGE_PROVIDERS }, null, 2) + '\n');
    } catch (e) {
      this.opts.log.warn(`could not write ${this.file}: ${(e as Error).message}`);
    }
  }
}
