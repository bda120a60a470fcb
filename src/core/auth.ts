// Upstream credentials, resolved per request: inline value → secret store → environment variable →
// the client's own credential file (Codex `auth.json`, Claude `settings.json` env) → the client's own header.
// Only the *source* of a credential is ever recorded; values never leave this module except as headers.
import type { ProxyConfig, ServiceName, UpstreamConfig } from './types';

/** Looks up a named secret (VS Code SecretStorage in the extension; absent headless). */
export type SecretLookup = (name: string) => string | undefined;

/** Every `auth_token_secret` / `api_key_secret` name in the config, sorted and unique. */
export function secretNamesOf(config: ProxyConfig): string[] {
  const names = new Set<string>();
  for (const mgr of [config.codex, config.claude]) {
    for (const cfg of Object.values(mgr.configs)) {
      for (const u of cfg.upstreams) {
        for (const n of [u.auth.auth_token_secret, u.auth.api_key_secret]) if (n && n.trim()) names.add(n.trim());
      }
    }
  }
  return [...names].sort();
}

/** The client's own credential file (src/io/credentialFile.ts): a non-blank string value by name, if it has one. */
export interface CredentialLookup {
  get(name: string): string | undefined;
}

export interface AuthResolution {
  /** Bearer token to send (overwrites the client's `authorization`), if resolved. */
  token?: string;
  /** Value to send as `x-api-key` (overwrites the client's), if resolved. */
  apiKey?: string;
  /** Where the bearer token comes from, e.g. `inline`, `env:OPENAI_API_KEY`, `client_passthrough`. */
  authorization: string;
  /** Where the x-api-key comes from. */
  x_api_key: string;
  /** Set when a resolved credential cannot be sent (a line break or NUL in it): why, naming the source only. */
  invalid?: string;
}

/** True for a value that must never be written into a header or a raw request line. */
export function hasLineBreakOrNul(value: string): boolean {
  return /[\r\n\0]/.test(value);
}

interface Ctx {
  env: NodeJS.ProcessEnv;
  file: CredentialLookup;
  secrets?: SecretLookup;
  filePrefix: string;
}

/** One credential as resolved: its value (none when the client's own passes, or none is set) and its source. */
interface Resolved {
  readonly value?: string;
  readonly source: string;
}

// The answers for an upstream with no credential of its own (the usual local relay): shared, never modified.
const PASSTHROUGH: Resolved = Object.freeze({ source: 'client_passthrough' });
const NONE: Resolved = Object.freeze({ source: 'none' });

function resolveOne(
  inline: string | undefined,
  secretName: string | undefined,
  envName: string | undefined,
  clientHas: boolean,
  ctx: Ctx,
): Resolved {
  if (inline && inline.trim() !== '') return { value: inline, source: 'inline' };
  if (secretName && secretName.trim() !== '') {
    const v = ctx.secrets?.(secretName);
    if (v && v.trim() !== '') return { value: v, source: `secret:${secretName}` };
  }
  if (envName && envName.trim() !== '') {
    const v = ctx.env[envName];
    if (v && v.trim() !== '') return { value: v, source: `env:${envName}` };
    const f = ctx.file.get(envName);
    if (f) return { value: f, source: `${ctx.filePrefix}:${envName}` };
    return { source: clientHas ? `client_passthrough (missing_env:${envName})` : `missing_env:${envName}` };
  }
  if (secretName && secretName.trim() !== '') {
    return { source: clientHas ? `client_passthrough (missing_secret:${secretName})` : `missing_secret:${secretName}` };
  }
  return clientHas ? PASSTHROUGH : NONE;
}

/** Resolves the credentials to send to `upstream` for one request. */
export function resolveUpstreamAuth(
  service: ServiceName,
  upstream: UpstreamConfig,
  client: { hasAuthorization: boolean; hasApiKey: boolean },
  env: NodeJS.ProcessEnv,
  file: CredentialLookup,
  secrets?: SecretLookup,
): AuthResolution {
  // The embedded default prefers whatever credential the client already sends (ChatGPT login, its own key)
  // and only falls back to the environment when the client sent none.
  if (upstream.tags['auth_prefer_client'] === 'true' && (client.hasAuthorization || client.hasApiKey)) {
    return {
      authorization: client.hasAuthorization ? 'client_passthrough' : 'none',
      x_api_key: client.hasApiKey ? 'client_passthrough' : 'none',
    };
  }
  const ctx: Ctx = { env, file, secrets, filePrefix: service === 'codex' ? 'codex_auth_json' : 'claude_settings_env' };
  const a = upstream.auth;
  const tok = resolveOne(a.auth_token, a.auth_token_secret, a.auth_token_env, client.hasAuthorization, ctx);
  const key = resolveOne(a.api_key, a.api_key_secret, a.api_key_env, client.hasApiKey, ctx);
  const out: AuthResolution = { token: tok.value, apiKey: key.value, authorization: tok.source, x_api_key: key.source };
  const badToken = tok.value !== undefined && hasLineBreakOrNul(tok.value);
  const badKey = key.value !== undefined && hasLineBreakOrNul(key.value);
  if (badToken || badKey) {
    const bad = badToken && badKey ? `${tok.source} and ${key.source}` : badToken ? tok.source : key.source;
    // Neither value is sent: a header injected through an environment variable or a secret must not reach anyone.
    out.token = undefined;
    out.apiKey = undefined;
    out.invalid = `the credential from ${bad} contains a line break or NUL character; fix it (nothing was sent)`;
  }
  return out;
}
