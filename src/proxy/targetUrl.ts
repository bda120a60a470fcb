// Builds the upstream URL: base_url + client path (+ query). A client path that already starts with the base
// path (`/v1/responses` against `https://h/v1`) is not doubled. A query in base_url (Azure's `api-version`) is kept
// and goes before the client's own.
import { displayUrl } from '../core/urlMask';

export class TargetUrlError extends Error {
  readonly code = 'TARGET_URL_INVALID';
}

interface ParsedBase {
  origin: string;
  base: string;
  basePath: string;
  /** Trailing version segment of the base path (`/v1` of `/api/v1`), if any. */
  version: string | undefined;
  /** The base_url's own query, without `?` ('' when none). */
  query: string;
}

const cache = new Map<string, ParsedBase>();

function parseBase(baseUrl: string): ParsedBase {
  let hit = cache.get(baseUrl);
  if (hit) return hit;
  const trimmed = baseUrl.trim().replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    throw new TargetUrlError(`invalid base_url '${displayUrl(baseUrl)}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TargetUrlError(`base_url '${displayUrl(baseUrl)}' must be http or https`);
  }
  const basePath = u.pathname.replace(/\/+$/, '');
  if (u.username || u.password) throw new TargetUrlError('base_url must not carry user:password@; use auth.* for credentials');
  const query = u.search.slice(1);
  hit = { origin: u.origin, base: u.origin + basePath, basePath, version: /\/v\d+$/.exec(basePath)?.[0], query };
  if (cache.size > 1000) cache.clear();
  cache.set(baseUrl, hit);
  return hit;
}

/** Origin (scheme://host:port) of a base_url, used to pick the connection pool. */
export function baseOrigin(baseUrl: string): string {
  return parseBase(baseUrl).origin;
}

/** Returns the path+query to request on the upstream origin for client path `path` and raw query `query`. */
export function upstreamPath(baseUrl: string, path: string, query: string): string {
  const { basePath, version, query: baseQuery } = parseBase(baseUrl);
  let rest = path;
  if (basePath !== '' && basePath !== '/') {
    if (path === basePath) rest = '/';
    else if (path.startsWith(basePath + '/')) rest = path.slice(basePath.length);
    // A client pointed at `http://proxy/v1` (or Claude Code, which always says /v1/messages) must not get the
    // version twice on an upstream whose base already ends in it (`https://openrouter.ai/api/v1`).
    else if (version !== undefined && (path === version || path.startsWith(version + '/'))) rest = path.slice(version.length) || '/';
  }
  if (!rest.startsWith('/')) rest = '/' + rest;
  const full = basePath + rest;
  const q = baseQuery && query ? `${baseQuery}&${query}` : baseQuery || query;
  return q ? `${full}?${q}` : full;
}

/** Full target URL (for logs and debug). */
export function targetUrl(baseUrl: string, path: string, query: string): string {
  return parseBase(baseUrl).origin + upstreamPath(baseUrl, path, query);
}
