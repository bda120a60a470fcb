// `GET /v1/models` (and `/models`, `/v1/models/{id}`) answered by the proxy itself: the union of what the routable
// upstreams serve, in the list shape of the service's client (OpenAI for Codex, Anthropic for Claude Code).
// Upstream lists are fetched with the same credentials as real traffic, cached per base URL (also on disk, so a
// restart with every upstream down still answers), and refreshed in the background once stale. Only a cold cache
// waits, and at most one fetch timeout. CODEX_HELPER_MODELS_PASSTHROUGH=1 forwards these requests unchanged instead.
import { readOwnFile, writeOwnFile } from '../io/ownFiles';
import type { ModelUpstreamStatus } from '../core/adminContract';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { resolveUpstreamAuth } from '../core/auth';
import { anthropicModel, anthropicModelList, openAiModel, openAiModelList, parseModelList, unionModels } from '../core/modelUnion';
import type { UnionModel, UpstreamModelList } from '../core/modelUnion';
import type { UpstreamConfig } from '../core/types';
import { probeUrl } from './healthcheck';
import type { Logger } from './logger';
import type { ProxyService } from './proxyService';
import { describeTransportError } from './upstream';
import { simpleRequest } from './upstreamCall';

const FRESH_MS = 10 * 60_000;
const RETRY_FAILED_MS = 60_000;
const MAX_LIST_BYTES = 4 * 1024 * 1024;

interface CacheEntry {
  list: UpstreamModelList;
  fetched_at_ms: number;
}

type UpstreamStatus = ModelUpstreamStatus;

export interface ModelCatalogOptions {
  home: string;
  log: Logger;
  now?: () => number;
  timeoutMs?: number;
}

/** The client's credentials (for upstreams that pass them through) and Codex's `client_version`, for one refresh. */
type ClientAuth = { authorization?: string; apiKey?: string; clientVersion?: string };

/** The model list of one service. */
export class ModelCatalog {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly failures = new Map<string, { at: number; error: string }>();
  private refreshing: Promise<void> | undefined;
  private loaded = false;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly file: string;
  readonly passthrough: boolean;

  constructor(private readonly svc: ProxyService, private readonly opts: ModelCatalogOptions) {
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.file = join(opts.home, `models-cache.${svc.service}.json`);
    const flag = svc.deps.env['CODEX_HELPER_MODELS_PASSTHROUGH']?.trim().toLowerCase();
    this.passthrough = ['1', 'true', 'yes', 'on'].includes(flag ?? '');
  }

  /** `list` for `/v1/models` or `/models`, the model id for `/v1/models/{id}`, else undefined. */
  static route(method: string | undefined, url: string | undefined): { kind: 'list' } | { kind: 'one'; id: string } | undefined {
    if (method !== 'GET') return undefined;
    const path = (url ?? '').split('?')[0]!.replace(/\/+$/, '');
    if (path === '/v1/models' || path === '/models') return { kind: 'list' };
    const m = /^\/(?:v1\/)?models\/([^/]+)$/.exec(path);
    if (!m) return undefined;
    try {
      return { kind: 'one', id: decodeURIComponent(m[1]!) };
    } catch {
      return undefined;
    }
  }

  /** Whether this request is answered here rather than forwarded. */
  matches(req: IncomingMessage): boolean {
    return !this.passthrough && ModelCatalog.route(req.method, req.url) !== undefined;
  }

  /** The union as it stands (no fetching). */
  models(): UnionModel[] {
    this.loadDisk();
    return unionModels(this.svc.manager, this.svc.state.getConfigMeta(), (_c, _i, u) => this.cache.get(u.base_url)?.list);
  }

  /** For the admin API: the union plus each upstream's fetch status. */
  async view(): Promise<{ models: UnionModel[]; upstreams: UpstreamStatus[] }> {
    await this.ensure({});
    const upstreams: UpstreamStatus[] = [];
    for (const [config, u, index] of this.upstreams()) {
      const c = this.cache.get(u.base_url);
      const f = this.failures.get(u.base_url);
      const s: UpstreamStatus = { config, index, base_url: u.base_url, ok: !!c && (!f || f.at < c.fetched_at_ms) };
      if (c) {
        s.models = c.list.models.length;
        s.fetched_at_ms = c.fetched_at_ms;
      }
      if (f && (!c || f.at >= c.fetched_at_ms)) s.error = f.error;
      upstreams.push(s);
    }
    return { models: this.models(), upstreams };
  }

  /** Answers a models request in the service's shape. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const route = ModelCatalog.route(req.method, req.url);
    try {
      await this.ensure(clientAuthOf(req));
    } catch (e) {
      this.opts.log.warn(`${this.svc.service} models: ${(e as Error).message}`);
    }
    const models = this.models();
    const claude = this.svc.service === 'claude';
    if (route?.kind === 'one') {
      const m = models.find((x) => x.id === route.id);
      if (!m) return send(res, 404, notFound(claude, route.id));
      return send(res, 200, claude ? anthropicModel(m) : openAiModel(m));
    }
    if (!claude) return send(res, 200, openAiModelList(models));
    const p = page(models, new URL(req.url ?? '/', 'http://x').searchParams);
    return send(res, 200, anthropicModelList(p.list, p.hasMore));
  }

  /** Waits for the first fetch of upstreams never fetched; refreshes stale ones in the background. */
  private async ensure(auth: ClientAuth): Promise<void> {
    this.loadDisk();
    const now = this.now();
    let cold = false;
    let stale = false;
    for (const [, u] of this.upstreams()) {
      const c = this.cache.get(u.base_url);
      const f = this.failures.get(u.base_url);
      if (!c && !f) cold = true;
      else if (c ? now - c.fetched_at_ms > FRESH_MS && (!f || now - f.at > RETRY_FAILED_MS) : now - f!.at > RETRY_FAILED_MS) stale = true;
    }
    if (!cold && !stale) return;
    const p = this.refresh(auth);
    if (cold) await p;
  }

  private *upstreams(): Generator<[string, UpstreamConfig, number]> {
    const meta = this.svc.state.getConfigMeta();
    for (const [name, c] of Object.entries(this.svc.manager.configs)) {
      if (!(meta[name]?.enabled ?? c.enabled)) continue;
      for (let i = 0; i < c.upstreams.length; i++) yield [name, c.upstreams[i]!, i];
    }
  }

  /** Fetches every routable upstream's list once (concurrent callers share the run). */
  refresh(auth: ClientAuth = {}): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const seen = new Set<string>();
        const jobs: Array<Promise<void>> = [];
        for (const [, u] of this.upstreams()) {
          if (seen.has(u.base_url)) continue;
          seen.add(u.base_url);
          jobs.push(this.fetchOne(u, auth));
        }
        await Promise.all(jobs);
        this.saveDisk();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async fetchOne(u: UpstreamConfig, client: ClientAuth): Promise<void> {
    const svc = this.svc;
    try {
      const a = resolveUpstreamAuth(svc.service, u, { hasAuthorization: !!client.authorization, hasApiKey: !!client.apiKey },
        svc.deps.env, svc.credentials, svc.deps.secrets);
      const headers: Record<string, string> = { accept: 'application/json' };
      const bearer = a.token !== undefined ? `Bearer ${a.token}` : a.authorization.startsWith('client_passthrough') ? client.authorization : undefined;
      const key = a.apiKey ?? (a.x_api_key.startsWith('client_passthrough') ? client.apiKey : undefined);
      if (bearer) headers['authorization'] = bearer;
      if (key) headers['x-api-key'] = key;
      if (svc.service === 'claude') headers['anthropic-version'] = '2023-06-01';
      const url = new URL(probeUrl(u.base_url));
      if (svc.service === 'claude') url.searchParams.set('limit', '1000');
      // The ChatGPT backend lists models per Codex version.
      else if (client.clientVersion) url.searchParams.set('client_version', client.clientVersion);
      const res = await simpleRequest(url.toString(), { headers, dispatcher: svc.deps.agent, timeoutMs: this.timeoutMs, maxBytes: MAX_LIST_BYTES });
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
      let body: unknown;
      try {
        body = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw new Error('the answer is not JSON');
      }
      const list = parseModelList(body);
      if (!list) throw new Error('the answer has no data or models list');
      this.cache.set(u.base_url, { list, fetched_at_ms: this.now() });
      this.failures.delete(u.base_url);
    } catch (e) {
      const msg = e instanceof Error && /^HTTP \d+$|^the answer/.test(e.message) ? e.message : describeTransportError(e);
      this.failures.set(u.base_url, { at: this.now(), error: msg.slice(0, 200) });
      this.opts.log.debug(`${svc.service} models: ${u.base_url}: ${msg}`);
    }
  }

  private loadDisk(): void {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const data = JSON.parse(readOwnFile(this.file)) as Record<string, unknown>;
      for (const [base, v] of Object.entries(data['upstreams'] ?? {})) {
        const e = v as Partial<CacheEntry>;
        const list = parseModelList({ data: e.list?.models?.map((m) => m.codex_info ?? m) });
        if (list && typeof e.fetched_at_ms === 'number') this.cache.set(base, { list, fetched_at_ms: e.fetched_at_ms });
      }
    } catch {
      // No file yet, or an unreadable one: the next successful fetch writes a fresh one.
    }
  }

  private saveDisk(): void {
    const upstreams: Record<string, CacheEntry> = {};
    for (const [k, v] of this.cache) upstreams[k] = v;
    try {
      writeOwnFile(this.file, JSON.stringify({ version: 1, upstreams }) + '\n');
    } catch (e) {
      this.opts.log.debug(`models cache not saved: ${(e as Error).message}`);
    }
  }
}

function clientAuthOf(req: IncomingMessage): ClientAuth {
  const a = req.headers['authorization'];
  const k = req.headers['x-api-key'];
  const out: ClientAuth = {};
  if (typeof a === 'string' && a.trim()) out.authorization = a;
  if (typeof k === 'string' && k.trim()) out.apiKey = k;
  const v = new URL(req.url ?? '/', 'http://x').searchParams.get('client_version');
  if (v && /^[0-9A-Za-z.+-]{1,40}$/.test(v)) out.clientVersion = v;
  return out;
}

/** Anthropic pagination: `limit` (1..1000, default 1000 here: the full list), `after_id`, `before_id`. */
function page(models: UnionModel[], q: URLSearchParams): { list: UnionModel[]; hasMore: boolean } {
  let list = models;
  const after = q.get('after_id');
  const before = q.get('before_id');
  if (after) {
    const i = list.findIndex((m) => m.id === after);
    list = i >= 0 ? list.slice(i + 1) : [];
  } else if (before) {
    const i = list.findIndex((m) => m.id === before);
    list = i >= 0 ? list.slice(0, i) : [];
  }
  const raw = Number(q.get('limit') ?? '');
  const limit = Number.isInteger(raw) && raw >= 1 ? Math.min(1000, raw) : 1000;
  return { list: list.slice(0, limit), hasMore: list.length > limit };
}

function notFound(claude: boolean, id: string): unknown {
  const message = `model '${id.slice(0, 200)}' is not served by any enabled config of this proxy`;
  return claude
    ? { type: 'error', error: { type: 'not_found_error', message } }
    : { error: { message, type: 'invalid_request_error', code: 'model_not_found' } };
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
