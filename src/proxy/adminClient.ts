// A typed client of the admin API. The VS Code face uses it for everything it shows and changes, whether the proxy
// runs in the extension host or is another process it attached to: one code path, and the API stays complete.
import { loopbackRequest } from './loopbackHttp';
import type { LoopbackResponse } from './loopbackHttp';
import { ADMIN_PREFIX } from '../core/adminContract';
import type { AdminGet, AdminPost, ApiSnapshot, Capabilities, ConfigsDetail, HealthCheckActionResult, LbResetAnswer, PricingView, ReloadAnswer } from '../core/adminContract';
import type { StatsData } from '../core/statsSeries';

// The shapes live in the shared contract; re-exported for the VS Code face, which talks to the proxy through here.
export type {
  ApiSnapshot, ConfigDetail, ConfigOption, ConfigsDetail, HealthCheckActionResult, UpstreamInfo,
} from '../core/adminContract';

export class AdminApiError extends Error {
  constructor(readonly code: 'ADMIN_HTTP' | 'ADMIN_UNREACHABLE', readonly status: number, message: string) {
    super(message);
  }
}

/** Talks to one proxy listener's admin API at `baseUrl` (e.g. `http://127.0.0.1:3211`). */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 3000,
  ) {}

  /** `GET` on a contract path (`query` already encoded); the answer has the contract's type for that path. */
  get<P extends keyof AdminGet>(path: P, query = ''): Promise<AdminGet[P]> {
    return this.call('GET', path + query);
  }

  /** `POST` of the contract's request body for `path`; resolves to its answer (undefined for a 204). */
  post<P extends keyof AdminPost>(path: P, ...body: AdminPost[P]['req'] extends undefined ? [] : [AdminPost[P]['req']]): Promise<AdminPost[P]['res']> {
    return this.call('POST', path, body[0]);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: LoopbackResponse;
    try {
      res = await loopbackRequest(`${this.baseUrl}${ADMIN_PREFIX}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.timeoutMs,
        maxBytes: 64 * 1024 * 1024,
      });
    } catch (e) {
      throw new AdminApiError('ADMIN_UNREACHABLE', 0, `proxy at ${this.baseUrl} is not reachable: ${(e as Error).message}`);
    }
    const text = res.body.toString('utf8');
    if (res.statusCode === 204) return undefined as T;
    if (res.statusCode >= 400) throw new AdminApiError('ADMIN_HTTP', res.statusCode, text || `HTTP ${res.statusCode}`);
    return JSON.parse(text) as T;
  }

  capabilities(): Promise<Capabilities> {
    return this.get('api/v1/capabilities');
  }

  snapshot(recentLimit = 200, statsDays = 21): Promise<ApiSnapshot> {
    return this.get('api/v1/snapshot', `?recent_limit=${recentLimit}&stats_days=${statsDays}`);
  }

  configsDetail(): Promise<ConfigsDetail> {
    return this.get('api/v1/configs/detail');
  }

  setGlobalConfig(name: string | undefined): Promise<void> {
    return this.post('api/v1/overrides/global-config', { config_name: name ?? null });
  }

  setSessionEffort(sessionId: string, effort: string | undefined): Promise<void> {
    return this.post('api/v1/overrides/session/effort', { session_id: sessionId, effort: effort ?? null });
  }

  setSessionConfig(sessionId: string, name: string | undefined): Promise<void> {
    return this.post('api/v1/overrides/session/config', { session_id: sessionId, config_name: name ?? null });
  }

  setConfigMeta(name: string, meta: { enabled?: boolean | null; level?: number | null }): Promise<void> {
    return this.post('api/v1/overrides/config-meta', { config_name: name, ...meta });
  }

  /** The mergeable Stats cells of the last `days` days. */
  statsData(days = 30): Promise<StatsData> {
    // `raw=1` selects the cells out of the path's two answers.
    return this.get('api/v1/stats', `?raw=1&days=${days}`) as Promise<StatsData>;
  }

  /** The price rules in force (no credentials in there). */
  pricing(): Promise<PricingView> {
    return this.get('api/v1/pricing');
  }

  /** Empties the proxy's recent-requests list; returns how many were dropped. */
  clearRecent(): Promise<{ cleared: number }> {
    return this.post('api/v1/status/recent/clear');
  }

  /** Clears the failures and cooldown of one upstream, or of every upstream of the config. */
  resetCooldown(config: string, upstreamIndex?: number): Promise<LbResetAnswer> {
    return this.post('api/v1/lb/reset', { config_name: config, upstream_index: upstreamIndex ?? null });
  }

  reload(): Promise<ReloadAnswer> {
    return this.post('api/v1/config/reload');
  }

  startHealthChecks(names: string[] | 'all'): Promise<HealthCheckActionResult> {
    return this.post('api/v1/healthcheck/start', names === 'all' ? { all: true } : { config_names: names });
  }

  cancelHealthChecks(names: string[] | 'all'): Promise<HealthCheckActionResult> {
    return this.post('api/v1/healthcheck/cancel', names === 'all' ? { all: true } : { config_names: names });
  }
}
