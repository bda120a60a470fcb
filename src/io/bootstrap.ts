// First-run import of upstreams from the clients' own configs (routing reference 1.5), plus the commented
// `config.toml` template written by `config init`. Only env-var *names* are ever stored: secret values in auth.json
// or settings.json stay where they are and are resolved at request time.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServiceConfig, ServiceConfigManager, UpstreamConfig } from '../core/types';
import {
  BACKUP_SUFFIX,
  CLAUDE_BACKUP_SENTINEL,
  CODEX_BACKUP_SENTINEL,
  CODEX_PROXY_PROVIDER_ID,
  claudeSettingsFile,
  isLoopbackUrl,
} from './clientSwitch';
import { TomlEditError, formatTomlKey, formatTomlValue, parseTomlText } from '../core/tomlEdit';
import { checkSize } from './privateFiles';

export type BootstrapErrorCode =
  | 'BOOTSTRAP_NO_SOURCE'
  | 'BOOTSTRAP_INVALID_SOURCE'
  | 'BOOTSTRAP_CURRENT_PROVIDER_UNUSABLE'
  | 'BOOTSTRAP_POINTS_AT_PROXY'
  | 'BOOTSTRAP_NOTHING_IMPORTED';

/** Why nothing usable could be imported from a client config. */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
  constructor(
    readonly code: BootstrapErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BootstrapResult {
  manager: ServiceConfigManager;
  notes: string[];
}

/** Import `[model_providers.*]` from Codex's config.toml (or its pre-switch backup) as one config per provider. */
export function bootstrapCodexConfigs(codexHome: string): BootstrapResult {
  const file = path.join(codexHome, 'config.toml');
  const backup = file + BACKUP_SUFFIX;
  const backupText = readOptional(backup);
  const fromBackup = backupText !== undefined && backupText.trim() !== CODEX_BACKUP_SENTINEL;
  const source = fromBackup ? backup : file;
  const text = fromBackup ? backupText : readOptional(file);
  if (text === undefined) throw new BootstrapError('BOOTSTRAP_NO_SOURCE', `${file} does not exist`);

  let doc: Record<string, unknown>;
  try {
    doc = parseTomlText(text);
  } catch (err) {
    const msg = err instanceof TomlEditError ? err.message : String(err);
    throw new BootstrapError('BOOTSTRAP_INVALID_SOURCE', `${source} is not valid TOML: ${msg}`, { cause: err });
  }
  const notes: string[] = [`read ${source}`];
  const current = typeof doc.model_provider === 'string' ? doc.model_provider : 'openai';
  const inferredKey = inferApiKeyName(path.join(codexHome, 'auth.json'));
  const providers = isTable(doc.model_providers) ? doc.model_providers : {};
  const configs: Record<string, ServiceConfig> = {};

  for (const [id, raw] of Object.entries(providers)) {
    if (!isTable(raw)) continue;
    const baseUrl = typeof raw.base_url === 'string' ? raw.base_url.trim() : '';
    const isCurrent = id === current;
    if (id === CODEX_PROXY_PROVIDER_ID && isLoopbackUrl(baseUrl)) {
      if (isCurrent && !fromBackup) {
        throw new BootstrapError(
          'BOOTSTRAP_POINTS_AT_PROXY',
          `${file} points at codex-helper itself and no backup exists; run \`codex-helper switch off --codex\` or add upstreams to the codex-helper config by hand`,
        );
      }
      notes.push(`skipped provider '${id}' (it is codex-helper itself)`);
      continue;
    }
    if (!baseUrl) {
      if (isCurrent) {
        throw new BootstrapError('BOOTSTRAP_CURRENT_PROVIDER_UNUSABLE', `current provider '${id}' has no base_url`);
      }
      notes.push(`skipped provider '${id}' (no base_url)`);
      continue;
    }
    const requiresOpenaiAuth = typeof raw.requires_openai_auth === 'boolean' ? raw.requires_openai_auth : id === 'openai';
    const envKey = typeof raw.env_key === 'string' && raw.env_key.trim() ? raw.env_key.trim() : inferredKey;
    const upstream: UpstreamConfig = {
      base_url: baseUrl,
      auth: {},
      tags: { source: 'codex-config', provider_id: id, requires_openai_auth: String(requiresOpenaiAuth) },
      supported_models: {},
      model_mapping: {},
    };
    if (!requiresOpenaiAuth) {
      if (!envKey) {
        if (isCurrent) {
          throw new BootstrapError(
            'BOOTSTRAP_CURRENT_PROVIDER_UNUSABLE',
            `current provider '${id}' has no env_key and no single *_API_KEY entry in auth.json to infer one from`,
          );
        }
        notes.push(`skipped provider '${id}' (no env_key)`);
        continue;
      }
      upstream.auth.auth_token_env = envKey;
      if (envKey === inferredKey && raw.env_key === undefined) notes.push(`provider '${id}': using ${envKey} from auth.json`);
    }
    const cfg: ServiceConfig = { name: id, enabled: true, level: 1, upstreams: [upstream] };
    if (typeof raw.name === 'string' && raw.name !== id) cfg.alias = raw.name;
    configs[id] = cfg;
  }

  const ids = Object.keys(configs);
  if (ids.length === 0) {
    throw new BootstrapError(
      'BOOTSTRAP_NOTHING_IMPORTED',
      `no usable [model_providers.*] in ${source} (current provider '${current}' is built into Codex; add it to the codex-helper config by hand)`,
    );
  }
  const active = configs[current] ? current : [...ids].sort()[0];
  if (!configs[current]) notes.push(`current provider '${current}' was not imported; active = '${String(active)}'`);
  return { manager: { ...(active !== undefined ? { active } : {}), configs }, notes };
}

/** Import Claude Code's upstream (env.ANTHROPIC_BASE_URL + the name of its token variable) as config `default`. */
export function bootstrapClaudeConfigs(claudeHome: string): BootstrapResult {
  const file = claudeSettingsFile(claudeHome);
  const backup = file + BACKUP_SUFFIX;
  const backupText = readOptional(backup);
  const fromBackup = backupText !== undefined && backupText.trim() !== CLAUDE_BACKUP_SENTINEL;
  const source = fromBackup ? backup : file;
  const text = fromBackup ? backupText : readOptional(file);
  if (text === undefined) throw new BootstrapError('BOOTSTRAP_NO_SOURCE', `${file} does not exist`);

  let root: unknown;
  try {
    root = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // No V8 message here: it quotes part of the file, which may hold a token.
    throw new BootstrapError('BOOTSTRAP_INVALID_SOURCE', `${source} is not valid JSON`, {
      cause: err,
    });
  }
  const env = isTable(root) ? root.env : undefined;
  if (!isTable(env)) throw new BootstrapError('BOOTSTRAP_INVALID_SOURCE', `${source} has no "env" object`);

  // ANTHROPIC_AUTH_TOKEN is what Claude Code sends as `Authorization: Bearer`; ANTHROPIC_API_KEY goes in x-api-key.
  // The seed stored both as api_key_env, which sent bearer tokens as x-api-key; keep each on its own header.
  const auth: UpstreamConfig['auth'] = {};
  if (typeof env.ANTHROPIC_AUTH_TOKEN === 'string') auth.auth_token_env = 'ANTHROPIC_AUTH_TOKEN';
  else if (env.ANTHROPIC_API_KEY !== undefined) auth.api_key_env = 'ANTHROPIC_API_KEY';
  else {
    throw new BootstrapError(
      'BOOTSTRAP_INVALID_SOURCE',
      `${source}: env has neither ANTHROPIC_AUTH_TOKEN nor ANTHROPIC_API_KEY`,
    );
  }
  const rawUrl = typeof env.ANTHROPIC_BASE_URL === 'string' ? env.ANTHROPIC_BASE_URL.trim() : '';
  const baseUrl = rawUrl || 'https://api.anthropic.com/v1';
  if (isLoopbackUrl(baseUrl) && !fromBackup) {
    throw new BootstrapError(
      'BOOTSTRAP_POINTS_AT_PROXY',
      `${file} points ANTHROPIC_BASE_URL at ${baseUrl} and no backup exists; run \`codex-helper switch off --claude\` first`,
    );
  }
  const cfg: ServiceConfig = {
    name: 'default',
    alias: 'Claude default',
    enabled: true,
    level: 1,
    upstreams: [
      {
        base_url: baseUrl,
        auth,
        tags: { source: 'claude-settings', provider_id: 'anthropic' },
        supported_models: {},
        model_mapping: {},
      },
    ],
  };
  return { manager: { active: 'default', configs: { default: cfg } }, notes: [`read ${source}`] };
}

/** A complete, commented `~/.codex-helper/config.toml`, with imported services rendered as real tables. */
export function configTemplate(imported?: { codex?: ServiceConfigManager; claude?: ServiceConfigManager }): string {
  const parts: string[] = [
    '# codex-helper configuration.',
    '# Upstreams are grouped into configs; each config has one or more upstreams tried in order.',
    '# Credentials: prefer *_env fields (the name of an environment variable) over inline secrets.',
    '# When a service has no configs, codex-helper imports them from ~/.codex/config.toml',
    '# (or ~/.claude/settings.json) at startup.',
    '',
    'version = 1',
    '',
  ];
  parts.push(
    imported?.codex && Object.keys(imported.codex.configs).length > 0
      ? renderService('codex', imported.codex, 'auto-imported from ~/.codex/config.toml + auth.json')
      : CODEX_EXAMPLE,
  );
  parts.push(
    imported?.claude && Object.keys(imported.claude.configs).length > 0
      ? renderService('claude', imported.claude, 'auto-imported from ~/.claude/settings.json')
      : CLAUDE_EXAMPLE,
  );
  parts.push(RETRY);
  return parts.join('\n');
}

function renderService(service: string, mgr: ServiceConfigManager, origin: string): string {
  const out: string[] = [`# --- ${origin} ---`, `[${service}]`];
  if (mgr.active !== undefined) out.push(`active = ${formatTomlValue(mgr.active)}`);
  out.push('');
  for (const [key, cfg] of Object.entries(mgr.configs)) {
    const t = `${service}.configs.${formatTomlKey(key)}`;
    out.push(`[${t}]`, `name = ${formatTomlValue(cfg.name || key)}`);
    if (cfg.alias !== undefined) out.push(`alias = ${formatTomlValue(cfg.alias)}`);
    out.push(`enabled = ${formatTomlValue(cfg.enabled)}`, `level = ${formatTomlValue(cfg.level)}`, '');
    for (const up of cfg.upstreams) {
      out.push(`[[${t}.upstreams]]`, `base_url = ${formatTomlValue(up.base_url)}`);
      renderMap(out, `${t}.upstreams.auth`, up.auth as Record<string, string | undefined>);
      renderMap(out, `${t}.upstreams.tags`, up.tags);
      renderMap(out, `${t}.upstreams.supported_models`, up.supported_models);
      renderMap(out, `${t}.upstreams.model_mapping`, up.model_mapping);
      out.push('');
    }
  }
  return out.join('\n');
}

function renderMap(out: string[], table: string, map: Record<string, string | boolean | undefined>): void {
  const entries = Object.entries(map).filter((e): e is [string, string | boolean] => e[1] !== undefined);
  if (entries.length === 0) return;
  out.push(`[${table}]`);
  for (const [k, v] of entries) out.push(`${formatTomlKey(k)} = ${formatTomlValue(v)}`);
}

const CODEX_EXAMPLE = `# [codex]
# active = "codex-main"
#
# [codex.configs.codex-main]
# name = "codex-main"          # optional; defaults to the key
# alias = "primary+backup"
# enabled = true               # default true
# level = 1                    # 1..=10, lower = higher priority
#
# [[codex.configs.codex-main.upstreams]]
# base_url = "https://api.openai.com/v1"
# [codex.configs.codex-main.upstreams.auth]
# auth_token_env = "OPENAI_API_KEY"        # or api_key_env / auth_token / api_key
# [codex.configs.codex-main.upstreams.tags]
# provider_id = "openai"
#
# [[codex.configs.codex-main.upstreams]]
# base_url = "https://your-backup-provider.example/v1"
# [codex.configs.codex-main.upstreams.auth]
# auth_token_env = "BACKUP_API_KEY"
# [codex.configs.codex-main.upstreams.tags]
# provider_id = "backup"
# optional per upstream:
# [codex.configs.codex-main.upstreams.supported_models]
# "gpt-*" = true
# "gpt-4" = false                          # false excludes
# [codex.configs.codex-main.upstreams.model_mapping]
# "claude-*" = "anthropic/claude-*"
`;

const CLAUDE_EXAMPLE = `# [claude]
# active = "default"
#
# [claude.configs.default]
# alias = "Claude default"
# level = 1
#
# [[claude.configs.default.upstreams]]
# base_url = "https://api.anthropic.com/v1"
# [claude.configs.default.upstreams.auth]
# api_key_env = "ANTHROPIC_API_KEY"        # or auth_token_env = "ANTHROPIC_AUTH_TOKEN"
# [claude.configs.default.upstreams.tags]
# provider_id = "anthropic"
`;

// Only keys the proxy reads: codex-helper's [notify] and default_service are accepted in an existing file but have
// no effect here, so a new file does not suggest otherwise.
const RETRY = `[retry]
# balanced | same-upstream | aggressive-failover | cost-primary
profile = "balanced"
# Fine-tuning (each key overrides the profile):
# [retry.upstream]  max_attempts = 2, strategy = "same_upstream" (or "failover"), backoff_ms = 200,
#                   backoff_max_ms = 2000, jitter_ms = 100, on_status = "429,500-599,524",
#                   on_class = ["upstream_transport_error", "cloudflare_timeout", "cloudflare_challenge"]
# [retry.provider]  max_attempts = 2, strategy = "failover",
#                   on_status = "401,403,404,408,429,500-599,524", on_class = ["upstream_transport_error"]
# never_on_status = "413,415,422"
# never_on_class = ["client_error_non_retryable"]
# cloudflare_challenge_cooldown_secs = 300
# cloudflare_timeout_cooldown_secs = 60
# transport_cooldown_secs = 30
# cooldown_backoff_factor = 2
# cooldown_backoff_max_secs = 600          # effective cooldown = min(base * factor^streak, max)

# Prices for the cost estimates (per million tokens; no built-in list, so write what you pay and when you looked).
# The most specific model glob wins. Optional: cached_input, reasoning, cache_write, currency (default USD).
# [pricing."gpt-5*"]
# input = 1.25
# cached_input = 0.125
# output = 10
# as_of = "2025-08-07"
# source = "openai.com/api/pricing"
`;

function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function readOptional(file: string): string | undefined {
  try {
    checkSize(file);
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BootstrapError('BOOTSTRAP_NO_SOURCE', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The single top-level `*_API_KEY` name with a non-blank string value in auth.json (value never read out). */
function inferApiKeyName(authFile: string): string | undefined {
  const text = readOptional(authFile);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isTable(doc)) return undefined;
  const names = Object.entries(doc)
    .filter(([k, v]) => k.endsWith('_API_KEY') && typeof v === 'string' && v.trim() !== '')
    .map(([k]) => k);
  return names.length === 1 ? names[0] : undefined;
}
