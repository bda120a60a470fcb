// The on-disk config model: parsing `~/.codex-helper/config.{toml,json}` text (src/io/configFile.ts finds and
// reads it) and validating it against the seed schema with errors that point at file:line and key (the lines come
// from configSource.ts). The retry profile table and its resolution live in retryProfiles.ts and are re-exported
// here. Validation is strict on types (a wrong type is an error, as serde would make it) but lenient on unknown
// keys (a warning), so newer files written by the Rust tool still load.

import { parse as parseToml, TomlError } from 'smol-toml';
import type {
  ProxyConfig, RetryConfig, RetryLayerConfig, TimeoutsConfig, RetryProfile, RetryStrategy, ServiceConfig, ServiceConfigManager,
  ServiceName, UpstreamAuth, UpstreamConfig,
} from './types';
import { keyLineMap, lineAtOffset, lineOfPath } from './configSource';
import type { KeySeg } from './configSource';
import { LAYER_FIELDS } from './retryProfiles';
import { parsePricing } from './pricingConfig';

/** A config file that cannot be used; `message` reads `file:line: key: detail`. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly detail: string;
  constructor(message: string, readonly file: string, readonly line?: number, readonly key?: string, options?: ErrorOptions) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${message}`, options);
    this.name = 'ConfigError';
    this.detail = message;
  }
}

export interface ConfigWarning {
  file: string;
  line?: number;
  key: string;
  message: string;
}

export interface LoadedConfig {
  config: ProxyConfig;
  path: string;
  format: 'toml' | 'json' | 'embedded';
  warnings: ConfigWarning[];
  mtimeMs?: number;
}

export { RETRY_PROFILES, resolveRetry } from './retryProfiles';

export const CONFIG_VERSION = 1;

/** Empty managers and the balanced retry profile (the seed's `ProxyConfig::default()`). */
export function defaultProxyConfig(): ProxyConfig {
  return { codex: { configs: {} }, claude: { configs: {} }, retry: { profile: 'balanced' } };
}

/** What runs when there is no config file: the official endpoints, keys from env or the client's own header. */
export function embeddedDefaultConfig(): ProxyConfig {
  const service = (alias: string, base_url: string, auth: UpstreamAuth, provider_id: string): ServiceConfigManager => ({
    active: 'default',
    configs: {
      default: {
        name: 'default', alias, enabled: true, level: 1,
        upstreams: [{
          base_url, auth,
          tags: { provider_id, source: 'embedded-default', auth_prefer_client: 'true' },
          supported_models: {}, model_mapping: {},
        }],
      },
    },
  });
  return {
    version: CONFIG_VERSION,
    codex: service('OpenAI (embedded default)', 'https://api.openai.com/v1', { auth_token_env: 'OPENAI_API_KEY' }, 'openai'),
    claude: service('Anthropic (embedded default)', 'https://api.anthropic.com/v1', { api_key_env: 'ANTHROPIC_API_KEY' }, 'anthropic'),
    retry: { profile: 'balanced' },
  };
}

/** `configs[active]` when present, else the config with the smallest key, else undefined. */
export function activeConfig(mgr: ServiceConfigManager): ServiceConfig | undefined {
  const configs = mgr.configs;
  if (mgr.active !== undefined && Object.prototype.hasOwnProperty.call(configs, mgr.active)) return configs[mgr.active];
  let best: string | undefined;
  for (const key in configs) {
    if (!Object.prototype.hasOwnProperty.call(configs, key)) continue;
    if (best === undefined || key < best) best = key;
  }
  return best === undefined ? undefined : configs[best];
}

/** Levels are stored as written; routing uses 1..=10. */
export function clampLevel(level: number): number {
  if (Number.isNaN(level)) return 1;
  return Math.min(10, Math.max(1, level));
}

// ---------------------------------------------------------------------------------------------------------------------
// Validation

type Table = Record<string, unknown>;

interface Ctx {
  file: string;
  format: 'toml' | 'json';
  text: string;
  warnings: ConfigWarning[];
  lines?: Map<string, number>;
}

function lineOf(ctx: Ctx, p: readonly KeySeg[]): number | undefined {
  // Built lazily: only files with a warning or an error pay for the second scan.
  ctx.lines ??= keyLineMap(ctx.text, ctx.format);
  return lineOfPath(ctx.lines, p);
}

/** Renders `codex.configs.main.upstreams[0].base_url`, quoting keys that are not bare TOML keys. */
export function formatKeyPath(p: readonly KeySeg[]): string {
  let s = '';
  for (const seg of p) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += (s === '' ? '' : '.') + (/^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg));
  }
  return s === '' ? '(root)' : s;
}

function fail(ctx: Ctx, p: readonly KeySeg[], detail: string): never {
  throw new ConfigError(detail, ctx.file, lineOf(ctx, p), formatKeyPath(p));
}

// Strings are never echoed: a misplaced API key must not end up in an error message or log.
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'a non-finite number';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return 'a string';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  return 'a table';
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  // Plain assignment of `__proto__` would replace the prototype instead of storing the key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function table(ctx: Ctx, v: unknown, p: KeySeg[]): Table {
  if (!isTable(v)) fail(ctx, p, `expected a table, got ${describe(v)}`);
  return v;
}

function str(ctx: Ctx, v: unknown, p: KeySeg[]): string {
  if (typeof v !== 'string') fail(ctx, p, `expected a string, got ${describe(v)}`);
  return v;
}

function bool(ctx: Ctx, v: unknown, p: KeySeg[]): boolean {
  if (typeof v !== 'boolean') fail(ctx, p, `expected a boolean, got ${describe(v)}`);
  return v;
}

function uint(ctx: Ctx, v: unknown, p: KeySeg[], max = Number.MAX_SAFE_INTEGER): number {
  // TOML is parsed with integers as bigint so that `level = 1.0` (a float) is rejected as serde would.
  const isInt = typeof v === 'bigint' || (ctx.format === 'json' && typeof v === 'number' && Number.isInteger(v));
  if (!isInt) fail(ctx, p, `expected a non-negative integer, got ${describe(v)}`);
  const n = Number(v);
  if (n < 0 || n > max) fail(ctx, p, `expected an integer in 0..=${max}, got ${describe(v)}`);
  return n;
}

function strArray(ctx: Ctx, v: unknown, p: KeySeg[]): string[] {
  if (!Array.isArray(v)) fail(ctx, p, `expected an array of strings, got ${describe(v)}`);
  return v.map((item, i) => str(ctx, item, [...p, i]));
}

function oneOf<T extends string>(ctx: Ctx, v: unknown, p: KeySeg[], allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    const got = typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : describe(v);
    fail(ctx, p, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${got}`);
  }
  return v as T;
}

function warnUnknown(ctx: Ctx, t: Table, p: KeySeg[], known: ReadonlySet<string>): void {
  for (const key of Object.keys(t)) {
    if (known.has(key)) continue;
    const kp = [...p, key];
    ctx.warnings.push({ file: ctx.file, line: lineOf(ctx, kp), key: formatKeyPath(kp), message: `unknown key "${key}" ignored` });
  }
}

// JSON `null` stands for an absent optional value, as serde's `Option` reads it.
function present(t: Table, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(t, key) && t[key] !== null && t[key] !== undefined;
}

function mapOf<T>(ctx: Ctx, v: unknown, p: KeySeg[], item: (v: unknown, p: KeySeg[]) => T): Record<string, T> {
  const t = table(ctx, v, p);
  const out: Record<string, T> = {};
  for (const [k, val] of Object.entries(t)) setOwn(out, k, item(val, [...p, k]));
  return out;
}

/** Converts parser artefacts (bigint, TOML dates, null-prototype tables) into plain JSON-safe values. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (isTable(v)) {
    const out: Table = {};
    for (const [k, val] of Object.entries(v)) setOwn(out, k, plain(val));
    return out;
  }
  return v;
}

const AUTH_KEYS = ['auth_token', 'auth_token_env', 'api_key', 'api_key_env', 'auth_token_secret', 'api_key_secret'] as const;
// A base_url the proxy cannot send to would pass a reload and then fail every request with a 502; one with
// `user:password@` would be silently dropped by the URL builder while showing the password everywhere.
function checkBaseUrl(ctx: Ctx, value: string, p: KeySeg[]): void {
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    fail(ctx, p, 'expected an absolute http(s) URL such as "https://api.openai.com/v1"');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(ctx, p, `expected an http or https URL, got scheme "${u.protocol.slice(0, 20)}"`);
  if (u.username || u.password) {
    fail(ctx, p, 'must not carry user:password@ (it would be shown in logs and never sent); put the credential in auth.* instead');
  }
}

// Credentials end up in raw request lines (WebSocket upgrades) and headers: a line break there injects a header.
function checkCredential(ctx: Ctx, value: string, p: KeySeg[]): string {
  if (/[\r\n\0]/.test(value)) fail(ctx, p, 'contains a line break or NUL character; remove it (credentials are sent as header values)');
  return value;
}

const UPSTREAM_KNOWN = new Set(['base_url', 'auth', 'tags', 'supported_models', 'supportedModels', 'model_mapping', 'modelMapping', 'timeouts']);
const TIMEOUT_KEYS = ['connect_ms', 'first_byte_ms', 'stream_first_byte_ms', 'idle_ms'] as const;
// A day: anything longer is a typo (seconds written as minutes…), not a timeout.
const TIMEOUT_MAX_MS = 86_400_000;

function parseTimeouts(ctx: Ctx, v: unknown, p: KeySeg[]): TimeoutsConfig {
  const t = table(ctx, v, p);
  warnUnknown(ctx, t, p, new Set(TIMEOUT_KEYS));
  const out: TimeoutsConfig = {};
  for (const k of TIMEOUT_KEYS) if (present(t, k)) out[k] = uint(ctx, t[k], [...p, k], TIMEOUT_MAX_MS);
  return out;
}

function aliased(ctx: Ctx, t: Table, p: KeySeg[], key: string, alias: string): [unknown, KeySeg[]] | undefined {
  const a = present(t, key);
  const b = present(t, alias);
  if (a && b) fail(ctx, [...p, alias], `duplicate field: both "${key}" and its alias "${alias}" are set`);
  if (a) return [t[key], [...p, key]];
  if (b) return [t[alias], [...p, alias]];
  return undefined;
}

function parseUpstream(ctx: Ctx, v: unknown, p: KeySeg[]): UpstreamConfig {
  const t = table(ctx, v, p);
  warnUnknown(ctx, t, p, UPSTREAM_KNOWN);
  if (!present(t, 'base_url')) fail(ctx, [...p, 'base_url'], 'missing required key');
  const base_url = str(ctx, t['base_url'], [...p, 'base_url']);
  checkBaseUrl(ctx, base_url, [...p, 'base_url']);
  const auth: UpstreamAuth = {};
  if (present(t, 'auth')) {
    const ap = [...p, 'auth'];
    const a = table(ctx, t['auth'], ap);
    warnUnknown(ctx, a, ap, new Set(AUTH_KEYS));
    for (const k of AUTH_KEYS) if (present(a, k)) auth[k] = checkCredential(ctx, str(ctx, a[k], [...ap, k]), [...ap, k]);
  }
  const tags = present(t, 'tags') ? mapOf(ctx, t['tags'], [...p, 'tags'], (x, xp) => str(ctx, x, xp)) : {};
  const sm = aliased(ctx, t, p, 'supported_models', 'supportedModels');
  const supported_models = sm ? mapOf(ctx, sm[0], sm[1], (x, xp) => bool(ctx, x, xp)) : {};
  const mm = aliased(ctx, t, p, 'model_mapping', 'modelMapping');
  const model_mapping = mm ? mapOf(ctx, mm[0], mm[1], (x, xp) => str(ctx, x, xp)) : {};
  const up: UpstreamConfig = { base_url, auth, tags, supported_models, model_mapping };
  if (present(t, 'timeouts')) up.timeouts = parseTimeouts(ctx, t['timeouts'], [...p, 'timeouts']);
  return up;
}

const SERVICE_KNOWN = new Set(['name', 'alias', 'enabled', 'level', 'upstreams']);

function parseService(ctx: Ctx, key: string, v: unknown, p: KeySeg[]): ServiceConfig {
  const t = table(ctx, v, p);
  warnUnknown(ctx, t, p, SERVICE_KNOWN);
  const name = present(t, 'name') ? str(ctx, t['name'], [...p, 'name']) : '';
  const out: ServiceConfig = {
    name: name.trim() === '' ? key : name,
    enabled: present(t, 'enabled') ? bool(ctx, t['enabled'], [...p, 'enabled']) : true,
    level: present(t, 'level') ? uint(ctx, t['level'], [...p, 'level'], 255) : 1,
    upstreams: [],
  };
  if (present(t, 'alias')) out.alias = str(ctx, t['alias'], [...p, 'alias']);
  if (present(t, 'upstreams')) {
    const up = t['upstreams'];
    const upPath = [...p, 'upstreams'];
    if (!Array.isArray(up)) fail(ctx, upPath, `expected an array of tables, got ${describe(up)}`);
    out.upstreams = up.map((u, i) => parseUpstream(ctx, u, [...upPath, i]));
  }
  return out;
}

function parseManager(ctx: Ctx, v: unknown, p: KeySeg[]): ServiceConfigManager {
  const t = table(ctx, v, p);
  warnUnknown(ctx, t, p, new Set(['active', 'configs']));
  const out: ServiceConfigManager = { configs: {} };
  if (present(t, 'active')) out.active = str(ctx, t['active'], [...p, 'active']);
  if (present(t, 'configs')) {
    const cp = [...p, 'configs'];
    const configs = table(ctx, t['configs'], cp);
    for (const [k, c] of Object.entries(configs)) setOwn(out.configs, k, parseService(ctx, k, c, [...cp, k]));
  }
  return out;
}

const PROFILES: readonly RetryProfile[] = ['balanced', 'same-upstream', 'aggressive-failover', 'cost-primary'];
const STRATEGIES: readonly RetryStrategy[] = ['failover', 'same_upstream'];
const RETRY_NUMBERS = [
  'cloudflare_challenge_cooldown_secs', 'cloudflare_timeout_cooldown_secs', 'transport_cooldown_secs',
  'cooldown_backoff_factor', 'cooldown_backoff_max_secs', 'max_wait_ms', 'hold_preamble_ms', 'hold_preamble_bytes',
] as const;
const RETRY_KNOWN = new Set<string>([
  ...LAYER_FIELDS, ...RETRY_NUMBERS, 'profile', 'upstream', 'provider', 'never_on_status', 'never_on_class',
]);

function parseLayerInto(ctx: Ctx, t: Table, p: KeySeg[], out: RetryLayerConfig): void {
  const at = (k: string): KeySeg[] => [...p, k];
  if (present(t, 'max_attempts')) out.max_attempts = uint(ctx, t['max_attempts'], at('max_attempts'));
  if (present(t, 'backoff_ms')) out.backoff_ms = uint(ctx, t['backoff_ms'], at('backoff_ms'));
  if (present(t, 'backoff_max_ms')) out.backoff_max_ms = uint(ctx, t['backoff_max_ms'], at('backoff_max_ms'));
  if (present(t, 'jitter_ms')) out.jitter_ms = uint(ctx, t['jitter_ms'], at('jitter_ms'));
  if (present(t, 'on_status')) out.on_status = str(ctx, t['on_status'], at('on_status'));
  if (present(t, 'on_class')) out.on_class = strArray(ctx, t['on_class'], at('on_class'));
  if (present(t, 'strategy')) out.strategy = oneOf(ctx, t['strategy'], at('strategy'), STRATEGIES);
}

function parseRetry(ctx: Ctx, v: unknown, p: KeySeg[]): RetryConfig {
  const t = table(ctx, v, p);
  warnUnknown(ctx, t, p, RETRY_KNOWN);
  const out: RetryConfig = {};
  if (present(t, 'profile')) out.profile = oneOf(ctx, t['profile'], [...p, 'profile'], PROFILES);
  parseLayerInto(ctx, t, p, out);
  for (const layer of ['upstream', 'provider'] as const) {
    if (!present(t, layer)) continue;
    const lp = [...p, layer];
    const lt = table(ctx, t[layer], lp);
    warnUnknown(ctx, lt, lp, new Set(LAYER_FIELDS));
    const parsed: RetryLayerConfig = {};
    parseLayerInto(ctx, lt, lp, parsed);
    out[layer] = parsed;
  }
  if (present(t, 'never_on_status')) out.never_on_status = str(ctx, t['never_on_status'], [...p, 'never_on_status']);
  if (present(t, 'never_on_class')) out.never_on_class = strArray(ctx, t['never_on_class'], [...p, 'never_on_class']);
  for (const k of RETRY_NUMBERS) if (present(t, k)) out[k] = uint(ctx, t[k], [...p, k]);
  return out;
}

const TOP_KNOWN = new Set(['version', 'codex', 'claude', 'retry', 'timeouts', 'notify', 'default_service', 'ui', 'pricing']);
const SERVICES: readonly ServiceName[] = ['codex', 'claude'];

function parseRoot(ctx: Ctx, raw: unknown): ProxyConfig {
  const t = table(ctx, raw, []);
  warnUnknown(ctx, t, [], TOP_KNOWN);
  const config: ProxyConfig = {
    codex: present(t, 'codex') ? parseManager(ctx, t['codex'], ['codex']) : { configs: {} },
    claude: present(t, 'claude') ? parseManager(ctx, t['claude'], ['claude']) : { configs: {} },
    // An absent [retry] is the seed's RetryConfig::default() (balanced); a present one is kept as written.
    retry: present(t, 'retry') ? parseRetry(ctx, t['retry'], ['retry']) : { profile: 'balanced' },
  };
  if (present(t, 'timeouts')) config.timeouts = parseTimeouts(ctx, t['timeouts'], ['timeouts']);
  if (present(t, 'version')) config.version = uint(ctx, t['version'], ['version'], 0xffffffff);
  if (present(t, 'pricing')) {
    config.pricing = parsePricing({ fail: (p, d) => fail(ctx, p, d), warnUnknown: (x, p, k) => warnUnknown(ctx, x, p, k) }, t['pricing']);
  }
  if (present(t, 'notify')) config.notify = plain(table(ctx, t['notify'], ['notify']));
  if (present(t, 'default_service')) config.default_service = oneOf(ctx, t['default_service'], ['default_service'], SERVICES);
  if (present(t, 'ui')) {
    const ui = table(ctx, t['ui'], ['ui']);
    warnUnknown(ctx, ui, ['ui'], new Set(['language']));
    config.ui = {};
    if (present(ui, 'language')) config.ui.language = str(ctx, ui['language'], ['ui', 'language']);
  }
  return config;
}

function syntaxError(ctx: Ctx, err: unknown): ConfigError {
  if (err instanceof TomlError) {
    const first = err.message.split('\n')[0] ?? 'invalid TOML';
    return new ConfigError(`TOML syntax error: ${first} (column ${err.column})`, ctx.file, err.line, undefined, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  const lc = /line (\d+) column (\d+)/.exec(msg);
  const pos = /position (\d+)/.exec(msg);
  const line = lc ? Number(lc[1]) : pos ? lineAtOffset(ctx.text, Number(pos[1])) : undefined;
  // V8 quotes a slice of the source in some messages; keep only the part before it so no value leaks.
  const clean = msg.replace(/,? ".*" is not valid JSON$/s, '');
  return new ConfigError(`JSON syntax error: ${clean}`, ctx.file, line, undefined, { cause: err });
}

/** Parses and validates config text; throws `ConfigError` on syntax or type errors, warns on unknown keys. */
export function parseConfigText(
  text: string,
  file: string,
  format: 'toml' | 'json',
): { config: ProxyConfig; warnings: ConfigWarning[] } {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const ctx: Ctx = { file, format, text: src, warnings: [] };
  let raw: unknown;
  try {
    raw = format === 'toml' ? parseToml(src, { integersAsBigInt: true }) : JSON.parse(src);
  } catch (err) {
    throw syntaxError(ctx, err);
  }
  return { config: parseRoot(ctx, raw), warnings: ctx.warnings };
}

