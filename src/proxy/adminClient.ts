// A typed client of the admin API. The VS Code face uses it for everything it shows and changes, whether the proxy
// runs in the extension host or is another process it attached to: one code path, and the API stays complete.
import { loopbackRequest } from './loopbackHttp';
import type { LoopbackResponse } from './loopbackHttp';
import type { DashboardSnapshot } from '../core/dashboard';
import type { ServiceName } from '../core/types';
import type { StatsData } from '../core/statsSeries';
import type { ModelPrice } from '../core/pricing';

export interface ConfigOption {
  name: string;
  alias?: string;
  enabled: boolean;
  level: number;
}

/** `GET …/api/v1/snapshot`. */
export interface ApiSnapshot {
  api_version: number;
  service_name: ServiceName;
  runtime_loaded_at_ms?: number;
  runtime_source_mtime_ms?: number | null;
  configs: ConfigOption[];
  snapshot: DashboardSnapshot;
}

/** `GET …/api/v1/upstreams`: the routing view of every config, without any credential value. */
export interface UpstreamInfo {
  config: string;
  index: number;
  base_url: string;
  provider_id?: string;
  /** Where the credential comes from, e.g. `env:OPENAI_API_KEY`, `secret:work`, `client_passthrough`. */
  auth_source: string;
  supported_models: Record<string, boolean>;
  model_mapping: Record<string, string>;
}

export interface ConfigDetail extends ConfigOption {
  effective_enabled: boolean;
  effective_level: number;
  active: boolean;
  upstreams: UpstreamInfo[];
}

/** `GET …/api/v1/configs/detail`. */
export interface ConfigsDetail {
  active?: string;
  global_override?: string;
  config_path: string;
  config_error?: string;
  configs: ConfigDetail[];
}

export interface HealthCheckActionResult {
  started: string[];
  already_running: string[];
  missing: string[];
  cancel_requested: string[];
  not_running: string[];
}

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

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: LoopbackResponse;
    try {
      res = await loopbackRequest(`${this.baseUrl}/__codex_helper/${path}`, {
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

  capabilities(): Promise<{ api_version: number; service_name: ServiceName; endpoints: string[] }> {
    return this.call('GET', 'api/v1/capabilities');
  }

  snapshot(recentLimit = 200, statsDays = 21): Promise<ApiSnapshot> {
    return this.call('GET', `api/v1/snapshot?recent_limit=${recentLimit}&stats_days=${statsDays}`);
  }

  configsDetail(): Promise<ConfigsDetail> {
    return this.call('GET', 'api/v1/configs/detail');
  }

  setGlobalConfig(name: string | undefined): Promise<void> {
    return this.call('POST', 'api/v1/overrides/global-config', { config_name: name ?? null });
  }

  setSessionEffort(sessionId: string, effort: string | undefined): Promise<void> {
    return this.call('POST', 'api/v1/overrides/session/effort', { session_id: sessionId, effort: effort ?? null });
  }

  setSessionConfig(sessionId: string, name: string | undefined): Promise<void> {
    return this.call('POST', 'api/v1/overrides/session/config', { session_id: sessionId, config_name: name ?? null });
  }

  setConfigMeta(name: string, meta: { enabled?: boolean | null; level?: number | null }): Promise<void> {
    return this.call('POST', 'api/v1/overrides/config-meta', { config_name: name, ...meta });
  }

  /** The mergeable Stats cells of the last `days` days. */
  statsData(days = 30): Promise<StatsData> {
    return this.call('GET', `api/v1/stats?raw=1&days=${days}`);
  }

  /** The price rules in force (no credentials in there). */
  pricing(): Promise<{ estimate: boolean; rules: Array<ModelPrice & { pattern: string; origin: string }> }> {
    return this.call('GET', 'api/v1/pricing');
  }

  /** Empties the proxy's recent-requests list; returns how many were dropped. */
  clearRecent(): Promise<{ cleared: number }> {
    return this.call('POST', 'api/v1/status/recent/clear');
  }

  /** Clears the failures and cooldown of one upstream, or of every upstream of the config. */
  resetCooldown(config: string, upstreamIndex?: number): Promise<{ config_name: string; upstream_index: number | null; cleared: number }> {
    return this.call('POST', 'api/v1/lb/reset', { config_name: config, upstream_index: upstreamIndex ?? null });
  }

  reload(): Promise<{ reloaded: boolean }> {
    return this.call('POST', 'api/v1/config/reload');
  }

  startHealthChecks(names: string[] | 'all'): Promise<HealthCheckActionResult> {
    return this.call('POST', 'api/v1/healthcheck/start', names === 'all' ? { all: true } : { config_names: names });
  }

  cancelHealthChecks(names: string[] | 'all'): Promise<HealthCheckActionResult> {
    return this.call('POST', 'api/v1/healthcheck/cancel', names === 'all' ? { all: true } : { config_names: names });
  }
}
