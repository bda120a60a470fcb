// Shared data shapes of the core. Field names follow the on-disk config and the admin API JSON
// (snake_case) so that existing codex-helper files and clients keep working unchanged.
import type { ModelPrice, RequestCost } from './pricing';

export type ServiceName = 'codex' | 'claude';
export const SERVICE_NAMES: readonly ServiceName[] = ['codex', 'claude'];

export interface UpstreamAuth {
  auth_token?: string;
  auth_token_env?: string;
  api_key?: string;
  api_key_env?: string;
  /** Name of a VS Code SecretStorage entry holding the bearer token (extension only). */
  auth_token_secret?: string;
  /** Name of a VS Code SecretStorage entry holding the x-api-key value (extension only). */
  api_key_secret?: string;
}

export interface UpstreamConfig {
  base_url: string;
  auth: UpstreamAuth;
  tags: Record<string, string>;
  /** Model allow-list; keys may hold one `*`. A `false` value excludes. Insertion order = file order. */
  supported_models: Record<string, boolean>;
  /** External model name (pattern) → name sent upstream. Insertion order = file order. */
  model_mapping: Record<string, string>;
  /** Per-upstream overrides of the top-level `[timeouts]`. */
  timeouts?: TimeoutsConfig;
}

/** `[timeouts]` (and an upstream's `timeouts`) as written; milliseconds, every field optional. */
export interface TimeoutsConfig {
  /** TCP/TLS connect. */
  connect_ms?: number;
  /** Until the response headers of a non-streaming request. */
  first_byte_ms?: number;
  /** Until the response headers of a streaming request (`"stream": true`). */
  stream_first_byte_ms?: number;
  /** Longest silence between two body chunks once the answer started. */
  idle_ms?: number;
}

export interface ServiceConfig {
  name: string;
  alias?: string;
  enabled: boolean;
  /** 1..=10, lower = preferred. Stored as given; clamp with `clampLevel` where used. */
  level: number;
  upstreams: UpstreamConfig[];
}

export interface ServiceConfigManager {
  active?: string;
  /** Insertion order = file order. */
  configs: Record<string, ServiceConfig>;
}

export type RetryProfile = 'balanced' | 'same-upstream' | 'aggressive-failover' | 'cost-primary';
export type RetryStrategy = 'failover' | 'same_upstream';

export interface RetryLayerConfig {
  max_attempts?: number;
  backoff_ms?: number;
  backoff_max_ms?: number;
  jitter_ms?: number;
  on_status?: string;
  on_class?: string[];
  strategy?: RetryStrategy;
}

/** `[retry]` exactly as written on disk; every field optional. */
export interface RetryConfig extends RetryLayerConfig {
  profile?: RetryProfile;
  upstream?: RetryLayerConfig;
  provider?: RetryLayerConfig;
  never_on_status?: string;
  never_on_class?: string[];
  cloudflare_challenge_cooldown_secs?: number;
  cloudflare_timeout_cooldown_secs?: number;
  transport_cooldown_secs?: number;
  cooldown_backoff_factor?: number;
  cooldown_backoff_max_secs?: number;
  /** When every candidate is cooling: wait this long at most for the soonest cooldown to end (0 = never wait). */
  max_wait_ms?: number;
  /** How long the content-free opening events of a 2xx stream may be held back (0 = never hold). */
  hold_preamble_ms?: number;
  /** How many bytes of content-free opening events may be held back. */
  hold_preamble_bytes?: number;
}

export interface ResolvedRetryLayer {
  max_attempts: number;
  backoff_ms: number;
  backoff_max_ms: number;
  jitter_ms: number;
  on_status: string;
  on_class: string[];
  strategy: RetryStrategy;
}

/** What `resolveRetry()` returns; serialised as-is by `config/runtime`. */
export interface ResolvedRetryConfig {
  upstream: ResolvedRetryLayer;
  provider: ResolvedRetryLayer;
  never_on_status: string;
  never_on_class: string[];
  cloudflare_challenge_cooldown_secs: number;
  cloudflare_timeout_cooldown_secs: number;
  transport_cooldown_secs: number;
  cooldown_backoff_factor: number;
  cooldown_backoff_max_secs: number;
  max_wait_ms: number;
  hold_preamble_ms: number;
  hold_preamble_bytes: number;
}

export interface ProxyConfig {
  version?: number;
  codex: ServiceConfigManager;
  claude: ServiceConfigManager;
  retry: RetryConfig;
  timeouts?: TimeoutsConfig;
  /** Kept verbatim (notify/ui and unknown future sections) so nothing the user wrote is lost. */
  notify?: unknown;
  default_service?: ServiceName;
  ui?: { language?: string };
  /** `[pricing."<model glob>"]`: prices per million tokens. Insertion order = file order. */
  pricing?: Record<string, ModelPrice>;
}

export interface UsageMetrics {
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  /** Cached input tokens (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`). */
  cached_input_tokens?: number;
  /** Anthropic `cache_creation_input_tokens`. */
  cache_creation_input_tokens?: number;
}

export interface RetryInfo {
  attempts: number;
  upstream_chain: string[];
  /**
   * Optional per-attempt facts, index-aligned with `upstream_chain` (not part of codex-helper's API; readers must
   * cope with its absence). The webview shows them as columns of the attempt table.
   */
  attempt_details?: RetryAttemptDetail[];
}

/** What one attempt of a retry chain took and answered. */
export interface RetryAttemptDetail {
  started_at_ms?: number;
  duration_ms?: number;
  /** The upstream's own error message (from its JSON body), short. */
  upstream_message?: string;
  /** The upstream's Retry-After header, as sent. */
  retry_after?: string;
  /** Cooldown the attempt put on the upstream, in seconds. */
  cooldown_secs?: number;
}

export interface ActiveRequest {
  id: number;
  session_id?: string;
  cwd?: string;
  model?: string;
  reasoning_effort?: string;
  config_name?: string;
  provider_id?: string;
  upstream_base_url?: string;
  service: ServiceName;
  method: string;
  path: string;
  started_at_ms: number;
}

export interface FinishedRequest {
  id: number;
  session_id?: string;
  cwd?: string;
  model?: string;
  /** Model actually sent upstream when a mapping rewrote it. */
  mapped_model?: string;
  reasoning_effort?: string;
  config_name?: string;
  provider_id?: string;
  upstream_base_url?: string;
  service: ServiceName;
  method: string;
  path: string;
  usage?: UsageMetrics;
  retry?: RetryInfo;
  status_code: number;
  duration_ms: number;
  ttfb_ms?: number;
  ended_at_ms: number;
  /** Error class of the final answer, when one applies (e.g. `upstream_stream_error`). */
  error_class?: string;
  /** Short English hint for the error class. */
  error_hint?: string;
  /** The upstream's own error message (an in-band error) or what broke the stream. */
  error_message?: string;
  /** Why the request was routed where it was (failover, sticky session, trial), when not simply preferred. */
  route_note?: string;
  /** Estimated cost from the price table (absent without usage or without a matching price). */
  cost?: RequestCost;
}
