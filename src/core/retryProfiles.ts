// The seed's retry profile table and `RetryConfig::resolve()`: how a `[retry]` section as written becomes the
// fully specified policy the retry planner uses.
import type { ResolvedRetryConfig, ResolvedRetryLayer, RetryConfig, RetryLayerConfig, RetryProfile } from './types';

const UPSTREAM_ON_STATUS = '429,500-599,524';
const UPSTREAM_ON_CLASS = ['upstream_transport_error', 'cloudflare_timeout', 'cloudflare_challenge'];
const PROVIDER_ON_STATUS = '401,403,404,408,429,500-599,524';

/** How long a request may wait for the soonest cooldown to end before it is sent to that upstream as a trial. */
export const DEFAULT_MAX_WAIT_MS = 5_000;
/**
 * How long a 2xx stream's content-free opening events (response.created, message_start, ping…) may be held back so
 * that an in-band error behind them can still fail over invisibly. Far below any client's idle timer; overloaded
 * and rate-limit errors arrive within milliseconds of the opening event.
 */
export const DEFAULT_HOLD_PREAMBLE_MS = 3_000;
/** The byte bound of that hold (an opening event is a few hundred bytes; message_start with a long id list, a few KB). */
export const DEFAULT_HOLD_PREAMBLE_BYTES = 64 * 1024;

function profileDefaults(
  upstreamAttempts: number, upstreamBackoffMax: number, upstreamJitter: number, providerAttempts: number,
  factor: number, factorMax: number,
): ResolvedRetryConfig {
  return {
    upstream: {
      max_attempts: upstreamAttempts, backoff_ms: 200, backoff_max_ms: upstreamBackoffMax, jitter_ms: upstreamJitter,
      on_status: UPSTREAM_ON_STATUS, on_class: [...UPSTREAM_ON_CLASS], strategy: 'same_upstream',
    },
    provider: {
      max_attempts: providerAttempts, backoff_ms: 0, backoff_max_ms: 0, jitter_ms: 0,
      on_status: PROVIDER_ON_STATUS, on_class: ['upstream_transport_error'], strategy: 'failover',
    },
    never_on_status: '413,415,422',
    never_on_class: ['client_error_non_retryable'],
    cloudflare_challenge_cooldown_secs: 300,
    cloudflare_timeout_cooldown_secs: 60,
    transport_cooldown_secs: 30,
    cooldown_backoff_factor: factor,
    cooldown_backoff_max_secs: factorMax,
    max_wait_ms: DEFAULT_MAX_WAIT_MS,
    hold_preamble_ms: DEFAULT_HOLD_PREAMBLE_MS,
    hold_preamble_bytes: DEFAULT_HOLD_PREAMBLE_BYTES,
  };
}

/** The seed's profile table; treat as read-only (`resolveRetry` copies). */
export const RETRY_PROFILES: Readonly<Record<RetryProfile, Readonly<ResolvedRetryConfig>>> = Object.freeze({
  'balanced': profileDefaults(2, 2000, 100, 2, 1, 600),
  'same-upstream': profileDefaults(3, 2000, 100, 1, 1, 600),
  'aggressive-failover': profileDefaults(2, 2500, 150, 3, 1, 600),
  'cost-primary': profileDefaults(2, 2000, 100, 2, 2, 900),
});

/** The keys a retry layer (`[retry]`, `[retry.upstream]`, `[retry.provider]`) may set. */
export const LAYER_FIELDS = ['max_attempts', 'backoff_ms', 'backoff_max_ms', 'jitter_ms', 'on_status', 'on_class', 'strategy'] as const;

function applyLayer(out: ResolvedRetryLayer, layer: RetryLayerConfig): void {
  for (const f of LAYER_FIELDS) {
    const v = layer[f];
    if (v === undefined) continue;
    if (f === 'on_class') out.on_class = [...(v as string[])];
    else (out as unknown as Record<string, unknown>)[f] = v;
  }
}

/** The seed's `RetryConfig::resolve()`: profile, then legacy flat fields (only without `[retry.upstream]`), then the
 * nested blocks, then top-level overrides. Nothing is clamped here. */
export function resolveRetry(retry: RetryConfig): ResolvedRetryConfig {
  const base = RETRY_PROFILES[retry.profile ?? 'balanced'];
  const out: ResolvedRetryConfig = {
    ...base,
    upstream: { ...base.upstream, on_class: [...base.upstream.on_class] },
    provider: { ...base.provider, on_class: [...base.provider.on_class] },
    never_on_class: [...base.never_on_class],
  };
  if (retry.upstream === undefined) applyLayer(out.upstream, retry);
  else applyLayer(out.upstream, retry.upstream);
  if (retry.provider !== undefined) applyLayer(out.provider, retry.provider);
  if (retry.never_on_status !== undefined) out.never_on_status = retry.never_on_status;
  if (retry.never_on_class !== undefined) out.never_on_class = [...retry.never_on_class];
  if (retry.cloudflare_challenge_cooldown_secs !== undefined) out.cloudflare_challenge_cooldown_secs = retry.cloudflare_challenge_cooldown_secs;
  if (retry.cloudflare_timeout_cooldown_secs !== undefined) out.cloudflare_timeout_cooldown_secs = retry.cloudflare_timeout_cooldown_secs;
  if (retry.transport_cooldown_secs !== undefined) out.transport_cooldown_secs = retry.transport_cooldown_secs;
  if (retry.cooldown_backoff_factor !== undefined) out.cooldown_backoff_factor = retry.cooldown_backoff_factor;
  if (retry.cooldown_backoff_max_secs !== undefined) out.cooldown_backoff_max_secs = retry.cooldown_backoff_max_secs;
  if (retry.max_wait_ms !== undefined) out.max_wait_ms = retry.max_wait_ms;
  if (retry.hold_preamble_ms !== undefined) out.hold_preamble_ms = retry.hold_preamble_ms;
  if (retry.hold_preamble_bytes !== undefined) out.hold_preamble_bytes = retry.hold_preamble_bytes;
  return out;
}
