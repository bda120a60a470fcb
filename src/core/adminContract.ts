// The admin API contract: every path under /__codex_helper/ with its request and response types. The server's
// route table (src/proxy/admin.ts) is keyed by these paths, so a path added here without a handler, a handler
// answering another shape, or a client (src/proxy/adminClient.ts, the running-proxy probe, tests) asking for a
// path that does not exist is a compile error. Shapes match codex-helper's so its clients keep working.
import type { ActiveRequest, FinishedRequest, ResolvedRetryConfig, ServiceName } from './types';
import type { ConfigMeta, SessionStats } from './state';
import type { ConfigHealth, HealthCheckStatus } from './healthState';
import type { DashboardSnapshot } from './dashboard';
import type { FailoverStatus } from './routes';
import type { LbConfigView } from './lb';
import type { ModelPrice } from './pricing';
import type { StatsData } from './statsSeries';
import type { StatsReport } from './statsReport';
import type { UnionModel } from './modelUnion';

export const ADMIN_PREFIX = '/__codex_helper/';

/** Every admin path (relative to ADMIN_PREFIX), in the order capabilities lists them. */
export const ADMIN_PATHS = [
  'api/v1/capabilities',
  'api/v1/snapshot',
  'api/v1/status/active',
  'api/v1/status/recent',
  'api/v1/status/session-stats',
  'api/v1/status/recent/clear',
  'api/v1/stats',
  'api/v1/pricing',
  'api/v1/models',
  'api/v1/status/health-checks',
  'api/v1/status/config-health',
  'api/v1/status/lb',
  'api/v1/status/failover',
  'api/v1/config/runtime',
  'api/v1/config/reload',
  'api/v1/configs',
  'api/v1/configs/detail',
  'api/v1/overrides/session/effort',
  'api/v1/overrides/session/config',
  'api/v1/overrides/global-config',
  'api/v1/overrides/config-meta',
  'api/v1/healthcheck/start',
  'api/v1/healthcheck/cancel',
  'api/v1/lb/reset',
  // Legacy routes of earlier codex-helper versions.
  'override/session',
  'config/runtime',
  'config/reload',
  'status/active',
  'status/recent',
] as const;

export type AdminPath = (typeof ADMIN_PATHS)[number];

/** The path the running-proxy probe asks: only a codex-helper answers it with 200. */
export const CAPABILITIES_PATH: AdminPath = 'api/v1/capabilities';

export interface Capabilities {
  api_version: number;
  service_name: ServiceName;
  endpoints: string[];
}

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
  pricing_rules?: number;
  snapshot: DashboardSnapshot;
}

/** One upstream of `GET …/api/v1/configs/detail`: its routing view, without any credential value. */
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

/** `GET …/api/v1/config/runtime`: where the config came from and when. */
export interface RuntimeStatus {
  config_path: string;
  loaded_at_ms: number;
  source_mtime_ms: number | null;
}

export interface RuntimeView extends RuntimeStatus {
  retry: ResolvedRetryConfig;
}

/** `POST …/api/v1/config/reload` (422 with the reason when the file cannot be served). */
export interface ReloadAnswer {
  reloaded: boolean;
  status: RuntimeView;
}

export interface PricingView {
  estimate: boolean;
  rules: Array<ModelPrice & { pattern: string; origin: string }>;
}

/** One upstream's model list as the catalog last fetched it. */
export interface ModelUpstreamStatus {
  config: string;
  index: number;
  base_url: string;
  ok: boolean;
  models?: number;
  fetched_at_ms?: number;
  error?: string;
}

export interface ModelsView {
  models: UnionModel[];
  upstreams: ModelUpstreamStatus[];
}

export interface HealthCheckActionResult {
  started: string[];
  already_running: string[];
  missing: string[];
  cancel_requested: string[];
  not_running: string[];
}

/** `POST …/api/v1/lb/reset`: what was forgotten (failures and cooldowns of one upstream or a whole config). */
export interface LbResetAnswer {
  config_name: string;
  upstream_index: number | null;
  cleared: number;
}

/** Which configs a health-check action targets. */
export type HealthCheckTargets = { all: true } | { config_names: string[] };

/** 204, no body. */
export type NoContent = void;

/** What `GET` answers on each path that has one. */
export interface AdminGet {
  'api/v1/capabilities': Capabilities;
  'api/v1/snapshot': ApiSnapshot;
  'api/v1/status/active': ActiveRequest[];
  'api/v1/status/recent': FinishedRequest[];
  'api/v1/status/session-stats': Record<string, SessionStats>;
  /** Without `raw=1` the Stats report; with it the mergeable cells. */
  'api/v1/stats': StatsReport | StatsData;
  'api/v1/pricing': PricingView;
  'api/v1/models': ModelsView;
  'api/v1/status/health-checks': Record<string, HealthCheckStatus>;
  'api/v1/status/config-health': Record<string, ConfigHealth>;
  'api/v1/status/lb': Record<string, LbConfigView>;
  'api/v1/status/failover': FailoverStatus | null;
  'api/v1/config/runtime': RuntimeView;
  'api/v1/config/reload': RuntimeView;
  'api/v1/configs': ConfigOption[];
  'api/v1/configs/detail': ConfigsDetail;
  'api/v1/overrides/session/effort': Record<string, string>;
  'api/v1/overrides/session/config': Record<string, string>;
  'api/v1/overrides/global-config': string | null;
  'api/v1/overrides/config-meta': Record<string, ConfigMeta>;
  'override/session': Record<string, string>;
  'config/runtime': RuntimeView;
  'config/reload': RuntimeView;
  'status/active': ActiveRequest[];
  'status/recent': FinishedRequest[];
}

/** What `POST` takes (`req`) and answers (`res`) on each path that has one. */
export interface AdminPost {
  'api/v1/status/recent/clear': { req: undefined; res: { cleared: number } };
  'api/v1/config/reload': { req: undefined; res: ReloadAnswer };
  'api/v1/overrides/session/effort': { req: { session_id: string; effort: string | null }; res: NoContent };
  'api/v1/overrides/session/config': { req: { session_id: string; config_name: string | null }; res: NoContent };
  'api/v1/overrides/global-config': { req: { config_name: string | null }; res: NoContent };
  'api/v1/overrides/config-meta': {
    req: { config_name: string; enabled?: boolean | null; level?: number | null };
    res: NoContent;
  };
  'api/v1/healthcheck/start': { req: HealthCheckTargets; res: HealthCheckActionResult };
  'api/v1/healthcheck/cancel': { req: HealthCheckTargets; res: HealthCheckActionResult };
  'api/v1/lb/reset': { req: { config_name: string; upstream_index: number | null }; res: LbResetAnswer };
  'override/session': { req: { session_id: string; effort: string | null }; res: NoContent };
  'config/reload': { req: undefined; res: ReloadAnswer };
}

// Every key of AdminGet / AdminPost must be a real path (a typo or a removed path fails here).
type Assert<T extends true> = T;
export type AdminContractIsClosed = Assert<
  [Exclude<keyof AdminGet | keyof AdminPost, AdminPath>] extends [never] ? true : false
>;
