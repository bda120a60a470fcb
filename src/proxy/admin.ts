// The admin API under /__codex_helper/, same paths and JSON shapes as codex-helper so its TUI/GUI clients and
// scripts keep working. Every route is in one table; capabilities lists exactly that table.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveUpstreamAuth } from '../core/auth';
import { clampLevel, resolveRetry } from '../core/config';
import { effectiveEnabled, effectiveLevel } from '../core/routing';
import { buildDashboardSnapshot } from '../core/dashboard';
import { displayUrl } from '../core/urlMask';
import { buildStatsReport, parseStatsRange } from '../core/statsReport';
import type { PriceTable } from '../core/pricing';
import { ADMIN_PATHS, ADMIN_PREFIX } from '../core/adminContract';
import type {
  AdminGet, AdminPath, AdminPost, ConfigOption, ConfigsDetail, HealthCheckActionResult, LbResetAnswer, ModelsView, PricingView, ReloadAnswer, RuntimeView,
} from '../core/adminContract';
import type { ProxyService } from './proxyService';
import type { RuntimeConfig } from './runtimeConfig';

export { ADMIN_PREFIX } from '../core/adminContract';
const MAX_ADMIN_BODY = 64 * 1024;

/** What the admin handlers can reach besides the service itself. */
export interface AdminContext {
  svc: ProxyService;
  runtime: RuntimeConfig;
  /** Persists runtime controls (global pin, config meta) so they survive restarts. */
  persist?: () => void;
  healthChecks?: {
    start(svc: ProxyService, names: string[]): Pick<HealthCheckActionResult, 'started' | 'already_running' | 'missing'>;
  };
  /** The price rules in force (config, then environment). */
  prices?: () => PriceTable;
  /** The models this service can serve, for `api/v1/models`. */
  models?: () => Promise<ModelsView>;
}

class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface NoContentMarker {
  readonly answer: 'no-content';
}
/** Answered as 204 (compared by identity). */
const NO_CONTENT: NoContentMarker = Object.freeze({ answer: 'no-content' });

/** A handler answering `T` (a 204 where the contract says NoContent). The body is checked at run time. */
type Handler<T> = (ctx: AdminContext, q: URLSearchParams, body: () => Promise<unknown>) => Answer<T> | Promise<Answer<T>>;
type Answer<T> = [T] extends [void] ? NoContentMarker : T;
type Handler_ = Handler<unknown>;
/** The route of path P: a GET handler exactly when the contract has one, a POST handler likewise. */
type RouteOf<P extends AdminPath> = (P extends keyof AdminGet ? { get: Handler<AdminGet[P]> } : { get?: never }) &
  (P extends keyof AdminPost ? { post: Handler<AdminPost[P]['res']> } : { post?: never });
interface Route {
  get?: Handler_;
  post?: Handler_;
}

function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new AdminError(400, `${name} must be a number`);
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

function asObject(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AdminError(400, 'expected a JSON object');
  return v as Record<string, unknown>;
}

/** A required non-blank string field. */
function sessionIdOf(o: Record<string, unknown>): string {
  const v = o['session_id'];
  if (v !== undefined && v !== null && typeof v !== 'string') throw new AdminError(400, 'session_id must be a string');
  if (typeof v !== 'string' || v.trim() === '') throw new AdminError(400, 'session_id is required');
  return v.trim();
}

/** An optional string field: undefined/null clears; blank is an error. */
function optionalName(o: Record<string, unknown>, field: string): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AdminError(400, `${field} must be a string or null`);
  if (v.trim() === '') throw new AdminError(400, `${field} is empty`);
  return v.trim();
}

function knownConfig(ctx: AdminContext, name: string): string {
  const configs = ctx.svc.manager.configs;
  if (!Object.hasOwn(configs, name)) {
    const known = Object.keys(configs);
    throw new AdminError(400, `unknown config '${name}' (known: ${known.length ? known.join(', ') : 'none'})`);
  }
  return name;
}

function configOptions(ctx: AdminContext): ConfigOption[] {
  const out = Object.entries(ctx.svc.manager.configs).map(([name, c]) => ({
    name,
    alias: c.alias,
    enabled: c.enabled,
    level: clampLevel(c.level),
  }));
  out.sort((a, b) => a.level - b.level || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** Routing view of every config with upstreams and credential *sources* (never values). */
function configsDetail(ctx: AdminContext): ConfigsDetail {
  const svc = ctx.svc;
  const mgr = svc.manager;
  const meta = svc.state.getConfigMeta();
  const configs = configOptions(ctx).map((o) => {
    const c = mgr.configs[o.name]!;
    return {
      ...o,
      effective_enabled: effectiveEnabled(c, meta[o.name]),
      effective_level: effectiveLevel(c, meta[o.name]),
      active: mgr.active === o.name,
      upstreams: c.upstreams.map((u, index) => {
        const a = resolveUpstreamAuth(svc.service, u, { hasAuthorization: false, hasApiKey: false }, svc.deps.env, svc.credentials, svc.deps.secrets);
        const sources = [a.authorization, a.x_api_key].filter((x) => x !== 'none');
        // The embedded default sends the client's own credential first; its env fallback being unset is normal.
        const prefer = u.tags['auth_prefer_client'] === 'true';
        const usable = sources.filter((x) => !x.startsWith('missing_'));
        const auth_source = prefer
          ? (usable.length ? `client_passthrough, else ${usable.join(', ')}` : 'client_passthrough')
          : sources.length ? sources.join(', ') : 'none';
        return {
          config: o.name,
          index,
          base_url: displayUrl(u.base_url),
          provider_id: u.tags['provider_id'],
          auth_source,
          supported_models: u.supported_models,
          model_mapping: u.model_mapping,
        };
      }),
    };
  });
  return {
    active: mgr.active,
    global_override: svc.state.getGlobalConfig(),
    config_path: ctx.runtime.status.config_path,
    config_error: ctx.runtime.lastError?.message,
    configs,
  };
}

function runtimeStatus(ctx: AdminContext): RuntimeView {
  return { ...ctx.runtime.status, retry: resolveRetry(ctx.runtime.loaded.config.retry) };
}

function reload(ctx: AdminContext): ReloadAnswer {
  const r = ctx.runtime.forceReload();
  if (r.error) {
    const e = r.error;
    // The request was fine; the file cannot be served (syntax, type, base_url, a service emptied): 422 with the reason.
    throw new AdminError(422, `config reload failed (the last good config stays active): ${e.message}`);
  }
  return { reloaded: r.reloaded, status: runtimeStatus(ctx) };
}

function targets(ctx: AdminContext, o: Record<string, unknown>): string[] {
  const all = o['all'] === true;
  const namesRaw = o['config_names'] ?? [];
  if (!Array.isArray(namesRaw) || namesRaw.some((n) => typeof n !== 'string')) {
    throw new AdminError(400, 'config_names must be an array of strings');
  }
  let names = all ? Object.keys(ctx.svc.manager.configs) : (namesRaw as string[]);
  names = [...new Set(names.map((n) => n.trim()).filter((n) => n !== ''))].sort();
  if (names.length === 0) throw new AdminError(400, 'expected { all: true } or non-empty config_names');
  return names;
}

/** `{config_name, upstream_index?}`: forgets the failures and cooldown of one upstream, or of the whole config. */
function resetCooldown(ctx: AdminContext, o: Record<string, unknown>): LbResetAnswer {
  const given = optionalName(o, 'config_name');
  if (given === undefined) throw new AdminError(400, 'config_name is required');
  const name = knownConfig(ctx, given);
  const raw = o['upstream_index'];
  const count = ctx.svc.manager.configs[name]!.upstreams.length;
  let index: number | undefined;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'number' || !Number.isInteger(raw)) throw new AdminError(400, 'upstream_index must be an integer or null');
    if (raw < 0 || raw >= count) throw new AdminError(400, `upstream_index ${raw} is out of range (config '${name}' has ${count} upstream${count === 1 ? '' : 's'})`);
    index = raw;
  }
  const cleared = ctx.svc.lbStore.reset(name, index);
  return { config_name: name, upstream_index: index ?? null, cleared };
}

const setEffort: Handler<void> = async (ctx, _q, body) => {
  const o = asObject(await body());
  const sid = sessionIdOf(o);
  ctx.svc.state.setSessionEffort(sid, optionalName(o, 'effort'));
  return NO_CONTENT;
};

/** `GET api/v1/stats`: the Stats report (`range`, `tz_offset_min`), or with `raw=1` the mergeable cells (`days`). */
const stats: Handler<AdminGet['api/v1/stats']> = (ctx, q) => {
  const days = intParam(q, 'days', 30, 1, 366);
  if (q.get('raw') === '1') return ctx.svc.state.statsData(days);
  const rangeRaw = q.get('range') ?? '24h';
  const range = parseStatsRange(rangeRaw);
  if (!range) throw new AdminError(400, 'range must be one of 1h, 24h, 7d, 30d');
  return buildStatsReport([ctx.svc.state.statsData(30)], {
    nowMs: Date.now(),
    range,
    tzOffsetMin: intParam(q, 'tz_offset_min', 0, -14 * 60, 14 * 60),
  });
};

function pricingView(ctx: AdminContext): PricingView {
  const rules = ctx.prices?.().rules ?? [];
  return { estimate: true, rules: rules.map((r) => ({ pattern: r.pattern, origin: r.origin, ...r.price })) };
}

const ROUTES: { [P in AdminPath]: RouteOf<P> } = {
  'api/v1/capabilities': { get: (ctx) => ({ api_version: 1, service_name: ctx.svc.service, endpoints: ENDPOINTS }) },
  'api/v1/snapshot': {
    get: (ctx, q) => ({
      api_version: 1,
      service_name: ctx.svc.service,
      runtime_loaded_at_ms: ctx.runtime.status.loaded_at_ms,
      runtime_source_mtime_ms: ctx.runtime.status.source_mtime_ms,
      configs: configOptions(ctx),
      pricing_rules: ctx.prices?.().rules.length ?? 0,
      snapshot: buildDashboardSnapshot(ctx.svc.state, ctx.svc.lbStore.view(), {
        recentLimit: intParam(q, 'recent_limit', 200, 1, 2000),
        statsDays: intParam(q, 'stats_days', 21, 1, 365),
        nowMs: Date.now(),
        failover: ctx.svc.routes.failover,
      }),
    }),
  },
  'api/v1/status/active': { get: (ctx) => ctx.svc.state.listActive() },
  'api/v1/status/recent': { get: (ctx, q) => ctx.svc.state.listRecent(intParam(q, 'limit', 50, 1, 200)) },
  'api/v1/status/session-stats': { get: (ctx) => ctx.svc.state.sessionStats() },
  'api/v1/status/recent/clear': { post: (ctx) => ({ cleared: ctx.svc.state.clearRecent() }) },
  'api/v1/stats': { get: stats },
  'api/v1/pricing': { get: pricingView },
  'api/v1/models': {
    get: (ctx) => {
      if (!ctx.models) throw new AdminError(503, 'model discovery is not available in this process');
      return ctx.models();
    },
  },
  'api/v1/status/health-checks': { get: (ctx) => ctx.svc.state.healthChecks() },
  'api/v1/status/config-health': { get: (ctx) => ctx.svc.state.configHealth() },
  'api/v1/status/lb': { get: (ctx) => ctx.svc.lbStore.view() },
  'api/v1/status/failover': { get: (ctx) => ctx.svc.routes.failover ?? null },
  'api/v1/config/runtime': { get: runtimeStatus },
  'api/v1/config/reload': { get: runtimeStatus, post: reload },
  'api/v1/configs': { get: configOptions },
  'api/v1/configs/detail': { get: configsDetail },
  'api/v1/overrides/session/effort': { get: (ctx) => ctx.svc.state.listSessionEfforts(), post: setEffort },
  'api/v1/overrides/session/config': {
    get: (ctx) => ctx.svc.state.listSessionConfigs(),
    post: async (ctx, _q, body) => {
      const o = asObject(await body());
      const sid = sessionIdOf(o);
      const name = optionalName(o, 'config_name');
      ctx.svc.state.setSessionConfig(sid, name === undefined ? undefined : knownConfig(ctx, name));
      return NO_CONTENT;
    },
  },
  'api/v1/overrides/global-config': {
    get: (ctx) => ctx.svc.state.getGlobalConfig() ?? null,
    post: async (ctx, _q, body) => {
      const o = asObject(await body());
      const name = optionalName(o, 'config_name');
      ctx.svc.state.setGlobalConfig(name === undefined ? undefined : knownConfig(ctx, name));
      ctx.persist?.();
      return NO_CONTENT;
    },
  },
  'api/v1/overrides/config-meta': {
    get: (ctx) => ctx.svc.state.getConfigMeta(),
    post: async (ctx, _q, body) => {
      const o = asObject(await body());
      const name = knownConfig(ctx, optionalName(o, 'config_name') ?? '');
      // Validate everything before changing anything: a 400 leaves the state as it was.
      const enabled = o['enabled'];
      const level = o['level'];
      if (!('enabled' in o) && !('level' in o)) throw new AdminError(400, 'expected enabled and/or level');
      if ('enabled' in o && enabled !== null && typeof enabled !== 'boolean') throw new AdminError(400, 'enabled must be true, false or null');
      if ('level' in o && level !== null && (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 10)) {
        throw new AdminError(400, 'level must be an integer 1..10 or null');
      }
      if ('enabled' in o) ctx.svc.state.setConfigEnabled(name, (enabled as boolean | null) ?? undefined);
      if ('level' in o) ctx.svc.state.setConfigLevel(name, (level as number | null) ?? undefined);
      ctx.persist?.();
      return NO_CONTENT;
    },
  },
  'api/v1/healthcheck/start': {
    post: async (ctx, _q, body) => {
      const names = targets(ctx, asObject(await body()));
      if (!ctx.healthChecks) throw new AdminError(503, 'health checks are not available in this process');
      return { ...ctx.healthChecks.start(ctx.svc, names), cancel_requested: [], not_running: [] };
    },
  },
  'api/v1/healthcheck/cancel': {
    post: async (ctx, _q, body) => {
      const names = targets(ctx, asObject(await body()));
      const out = { started: [] as string[], already_running: [] as string[], missing: [] as string[],
        cancel_requested: [] as string[], not_running: [] as string[] };
      for (const n of names) {
        if (!Object.hasOwn(ctx.svc.manager.configs, n)) out.missing.push(n);
        else if (ctx.svc.state.requestCancelHealthCheck(n)) out.cancel_requested.push(n);
        else out.not_running.push(n);
      }
      return out;
    },
  },
  'api/v1/lb/reset': { post: async (ctx, _q, body) => resetCooldown(ctx, asObject(await body())) },
  // Legacy routes of earlier codex-helper versions.
  'override/session': { get: (ctx) => ctx.svc.state.listSessionEfforts(), post: setEffort },
  'config/runtime': { get: runtimeStatus },
  'config/reload': { get: runtimeStatus, post: reload },
  'status/active': { get: (ctx) => ctx.svc.state.listActive() },
  'status/recent': { get: (ctx, q) => ctx.svc.state.listRecent(intParam(q, 'limit', 50, 1, 200)) },
};

const BY_PATH = new Map<string, Route>(ADMIN_PATHS.map((p) => [ADMIN_PREFIX + p, ROUTES[p] as Route]));
/** Every admin path served (capabilities lists these). */
export const ENDPOINTS = ADMIN_PATHS.map((p) => ADMIN_PREFIX + p);

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ADMIN_BODY) reject(new AdminError(413, `admin request body over ${MAX_ADMIN_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new AdminError(400, `malformed JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, value: unknown): void {
  if (value === NO_CONTENT) {
    res.writeHead(204);
    res.end();
    return;
  }
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const text = message.replace(/[\r\n]+/g, ' ');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers one admin request. */
export async function handleAdmin(ctx: AdminContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = BY_PATH.get(url.pathname.replace(/\/+$/, ''));
  if (!route) return sendError(res, 404, `unknown admin endpoint ${url.pathname}; see ${ADMIN_PREFIX}api/v1/capabilities`);
  const method = req.method ?? 'GET';
  const handler = method === 'GET' || method === 'HEAD' ? route.get : method === 'POST' ? route.post : undefined;
  if (!handler) {
    res.setHeader('allow', [route.get ? 'GET' : '', route.post ? 'POST' : ''].filter(Boolean).join(', '));
    return sendError(res, 405, `${method} is not allowed on ${url.pathname}`);
  }
  try {
    const value = await handler(ctx, url.searchParams, () => readJson(req));
    send(res, 200, value);
  } catch (e) {
    if (e instanceof AdminError) return sendError(res, e.status, e.message);
    sendError(res, 500, `internal error: ${(e as Error).message}`);
  }
}
