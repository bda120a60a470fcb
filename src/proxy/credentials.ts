// Credential injection shared by the HTTP pipeline and the WebSocket tunnel: resolve what to send for an upstream
// (src/core/auth.ts decides the source), then put it in the outgoing headers in place of the client's own.
import { resolveUpstreamAuth } from '../core/auth';
import type { AuthResolution, CredentialLookup, SecretLookup } from '../core/auth';
import type { ServiceName, UpstreamConfig } from '../core/types';

export interface CredentialDeps {
  service: ServiceName;
  env: NodeJS.ProcessEnv;
  credentials: CredentialLookup;
  secrets?: SecretLookup;
}

/** What to send to `up`, given the headers the client sent (node style, lower-case names). */
export function resolveCredentials(d: CredentialDeps, up: UpstreamConfig, clientHeaders: Record<string, unknown>): AuthResolution {
  const hasAuthorization = clientHeaders['authorization'] !== undefined;
  const hasApiKey = clientHeaders['x-api-key'] !== undefined;
  return resolveUpstreamAuth(d.service, up, { hasAuthorization, hasApiKey }, d.env, d.credentials, d.secrets);
}

/**
 * Replaces the client's `authorization` / `x-api-key` in a flat `[name, value, …]` list with the resolved ones;
 * a credential that did not resolve leaves the client's header as it was (pass-through).
 */
export function injectCredentials(headers: string[], auth: AuthResolution): void {
  if (auth.token === undefined && auth.apiKey === undefined) return;
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    if ((n === 'authorization' && auth.token !== undefined) || (n === 'x-api-key' && auth.apiKey !== undefined)) {
      headers.splice(i, 2);
      i -= 2;
    }
  }
  if (auth.token !== undefined) headers.push('authorization', `Bearer ${auth.token}`);
  if (auth.apiKey !== undefined) headers.push('x-api-key', auth.apiKey);
}
