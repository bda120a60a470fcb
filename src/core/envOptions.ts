// The environment knobs (the seed's `CODEX_HELPER_*` variables), read once by the entry points (cli.ts,
// extension.ts) into typed options that are passed down; nothing under src/core reads the environment itself.
// ENV_KNOBS is the complete list: README's "Environment variables" table and a unit test keep the two in step.

/** A text-to-text environment snapshot (process.env at an entry point, a literal in tests). */
export type EnvSnapshot = Readonly<Record<string, string | undefined>>;

/** Every variable the proxy reads, with what it does (README lists the same names). */
export const ENV_KNOBS: Readonly<Record<string, string>> = {
  CODEX_HELPER_HOME: 'proxy home (config.toml, logs, state); default ~/.codex-helper',
  CODEX_HOME: "Codex's home (auth.json, sessions); default ~/.codex",
  CLAUDE_HOME: "Claude Code's home (settings.json); default ~/.claude",
  CODEX_HELPER_PROXY_TOKEN: 'token remote peers must send (remote mode; at least 16 characters)',
  CODEX_HELPER_ADMIN_TOKEN: 'token that opens the admin API to non-loopback peers',
  CODEX_HELPER_ALLOWED_HOSTS: 'extra names accepted in Host (comma-separated, remote mode)',
  CODEX_HELPER_MAX_CONNECTIONS: 'open connections per listener (default 1024)',
  CODEX_HELPER_HEADERS_TIMEOUT_MS: 'time a client has to send its request headers (default 30000)',
  CODEX_HELPER_SESSION_OVERRIDE_TTL_SECS: 'idle time after which a session override is forgotten (default 1800)',
  CODEX_HELPER_RECENT_FINISHED_MAX: 'finished requests kept for the dashboard (200–20000, default 2000)',
  CODEX_HELPER_USAGE_ROLLUP_KEEP_DAYS: 'days of usage rollups kept (default 60)',
  CODEX_HELPER_USAGE_REPLAY_ON_STARTUP: 'rebuild rollups from requests.jsonl at start (default on)',
  CODEX_HELPER_USAGE_REPLAY_MAX_BYTES: 'tail of requests.jsonl read by that replay (default 8 MiB)',
  CODEX_HELPER_USAGE_REPLAY_MAX_LINES: 'lines of that tail replayed (default 20000)',
  CODEX_HELPER_REQUEST_LOG_MAX_BYTES: 'size at which requests.jsonl rotates (default 50 MiB)',
  CODEX_HELPER_REQUEST_LOG_MAX_FILES: 'rotated request logs kept (default 10)',
  CODEX_HELPER_REQUEST_LOG_ONLY_ERRORS: 'log only failed requests',
  CODEX_HELPER_RETRY_TRACE: 'write logs/retry_trace.jsonl',
  CODEX_HELPER_RETRY_TRACE_PATH: 'where that trace goes instead',
  CODEX_HELPER_SESSION_CWD_CACHE_TTL_SECS: 'how long a session\'s cwd lookup is cached (default 43200; 0 = no cache)',
  CODEX_HELPER_SESSION_CWD_CACHE_MAX_ENTRIES: 'cwd lookups cached (default 2000; 0 = no cache)',
  CODEX_HELPER_HEALTHCHECK_TIMEOUT_MS: 'timeout of one health probe (300–20000, default 2500)',
  CODEX_HELPER_TUI_HEALTHCHECK_TIMEOUT_MS: 'older name of the same',
  CODEX_HELPER_HEALTHCHECK_UPSTREAM_CONCURRENCY: 'probes at once per config (1–32, default 4)',
  CODEX_HELPER_HEALTHCHECK_MAX_INFLIGHT: 'configs probed at once (1–16, default 2)',
  CODEX_HELPER_HTTP_DEBUG: 'record request/response details of failures (http_debug)',
  CODEX_HELPER_HTTP_DEBUG_ALL: 'the same for every request',
  CODEX_HELPER_HTTP_DEBUG_BODY_MAX: 'bytes of body kept by http_debug (default 65536)',
  CODEX_HELPER_HTTP_DEBUG_SPLIT: 'put http_debug in requests_debug.jsonl (default on)',
  CODEX_HELPER_HTTP_WARN: 'short warning record for failures (default on)',
  CODEX_HELPER_HTTP_WARN_ALL: 'the same for every request',
  CODEX_HELPER_L10N_BUNDLE: 'VS Code only: a bundle file the UI uses whatever the display language (checking a translation)',
  CODEX_HELPER_HTTP_WARN_BODY_MAX: 'bytes of body kept by the warning (default 8192)',
  CODEX_HELPER_HTTP_LOG_REQUEST_BODY: 'include the request body in http_debug',
  CODEX_HELPER_MODELS_PASSTHROUGH: 'forward /v1/models to the first upstream unchanged',
  CODEX_HELPER_PRICE_INPUT_PER_1K_USD: 'catch-all input price (USD per 1000 tokens)',
  CODEX_HELPER_PRICE_OUTPUT_PER_1K_USD: 'catch-all output price (USD per 1000 tokens)',
};

/** The knobs the state, request log, session and replay code consume (the rest are parsed by their proxy module). */
export interface EnvOptions {
  recentFinishedMax?: number;
  sessionOverrideTtlSecs?: number;
  usageRollupKeepDays?: number;
  usageReplayOnStartup: boolean;
  usageReplayMaxBytes?: number;
  usageReplayMaxLines?: number;
  requestLogMaxBytes?: number;
  requestLogMaxFiles?: number;
  requestLogOnlyErrors: boolean;
  retryTrace: boolean;
  retryTracePath?: string;
  sessionCwdCacheTtlSecs?: number;
  sessionCwdCacheMaxEntries?: number;
}

/** A positive integer, or undefined when unset or invalid (the seed ignores bad values). */
export function positiveInt(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** `0` or a positive integer. */
function zeroOrPositive(raw: string | undefined): number | undefined {
  return raw?.trim() === '0' ? 0 : positiveInt(raw);
}

/** `1`, `true`, `yes`, `y`, `on` (any case). */
export function isOn(raw: string | undefined): boolean {
  return ['1', 'true', 'yes', 'y', 'on'].includes((raw ?? '').trim().toLowerCase());
}

/** Reads the knobs once from an environment snapshot. */
export function readEnvOptions(env: EnvSnapshot): EnvOptions {
  const replay = env['CODEX_HELPER_USAGE_REPLAY_ON_STARTUP']?.trim().toLowerCase();
  return {
    recentFinishedMax: positiveInt(env['CODEX_HELPER_RECENT_FINISHED_MAX']),
    sessionOverrideTtlSecs: positiveInt(env['CODEX_HELPER_SESSION_OVERRIDE_TTL_SECS']),
    usageRollupKeepDays: positiveInt(env['CODEX_HELPER_USAGE_ROLLUP_KEEP_DAYS']),
    // Unset or blank means on; only an explicit truthy word keeps it on once set.
    usageReplayOnStartup: replay === undefined || replay === '' || isOn(replay),
    usageReplayMaxBytes: positiveInt(env['CODEX_HELPER_USAGE_REPLAY_MAX_BYTES']),
    usageReplayMaxLines: positiveInt(env['CODEX_HELPER_USAGE_REPLAY_MAX_LINES']),
    requestLogMaxBytes: positiveInt(env['CODEX_HELPER_REQUEST_LOG_MAX_BYTES']),
    requestLogMaxFiles: positiveInt(env['CODEX_HELPER_REQUEST_LOG_MAX_FILES']),
    requestLogOnlyErrors: isOn(env['CODEX_HELPER_REQUEST_LOG_ONLY_ERRORS']),
    retryTrace: isOn(env['CODEX_HELPER_RETRY_TRACE']),
    retryTracePath: env['CODEX_HELPER_RETRY_TRACE_PATH']?.trim() || undefined,
    sessionCwdCacheTtlSecs: zeroOrPositive(env['CODEX_HELPER_SESSION_CWD_CACHE_TTL_SECS']),
    sessionCwdCacheMaxEntries: zeroOrPositive(env['CODEX_HELPER_SESSION_CWD_CACHE_MAX_ENTRIES']),
  };
}

/** What the VS Code extension takes from its environment: read once by extension.ts (io/hostEnv.ts), passed down. */
export interface HostEnv {
  /** The proxy's home when `codexHelper.proxy.configHome` is empty: CODEX_HELPER_HOME or ~/.codex-helper. */
  helperHome: string;
  /** CODEX_HOME or ~/.codex. */
  codexHome: string;
  /** CLAUDE_HOME or ~/.claude. */
  claudeHome: string;
  /** CODEX_HELPER_L10N_BUNDLE: a bundle file the UI uses whatever the display language. */
  l10nBundle: string | undefined;
  /** The snapshot the proxy worker and `config init` start from (they read their own knobs from it). */
  snapshot: EnvSnapshot;
}
