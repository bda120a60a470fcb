// Which models the proxy can serve for one service: the union, over the configs routing may use, of each upstream's
// own `/models` answer (filtered by its supported_models), its supported_models names and its model_mapping names.
// Pure: the fetching and caching live in proxy/modelCatalog.ts.
import { isModelSupported } from './modelRouting';
import { effectiveEnabled } from './routing';
import type { ConfigMetaOverride } from './routing';
import type { ServiceConfigManager, UpstreamConfig } from './types';

export type ModelSource = 'upstream' | 'supported_models' | 'model_mapping';

export interface UnionModel {
  id: string;
  /** Configs that can serve it, in file order. */
  configs: string[];
  sources: ModelSource[];
  /** Display name and creation time from an upstream that reported them. */
  display_name?: string;
  created?: number;
  owned_by?: string;
  /** Codex's own model description (`{models: [{slug, …}]}` answers), passed on verbatim to Codex. */
  codex_info?: Record<string, unknown>;
}

/** What an upstream's `/models` answered (ids and optional metadata); undefined when it never answered. */
export interface UpstreamModelList {
  models: Array<{ id: string; display_name?: string; created?: number; owned_by?: string; codex_info?: Record<string, unknown> }>;
}

/** Whether `name` is enabled (after runtime overrides) and has upstreams. */
function routable(mgr: ServiceConfigManager, name: string, meta: Readonly<Record<string, ConfigMetaOverride>>): boolean {
  const c = mgr.configs[name];
  if (!c || c.upstreams.length === 0) return false;
  return effectiveEnabled(c, meta[name]);
}

const literal = (name: string) => name !== '' && !name.includes('*');

/** The models every routable config can serve, each once, sorted by id. */
export function unionModels(
  mgr: ServiceConfigManager,
  meta: Readonly<Record<string, ConfigMetaOverride>>,
  fetched: (config: string, index: number, upstream: UpstreamConfig) => UpstreamModelList | undefined,
): UnionModel[] {
  const out = new Map<string, UnionModel>();
  const add = (id: string, config: string, source: ModelSource, extra?: UpstreamModelList['models'][number]) => {
    let m = out.get(id);
    if (!m) out.set(id, (m = { id, configs: [], sources: [] }));
    if (!m.configs.includes(config)) m.configs.push(config);
    if (!m.sources.includes(source)) m.sources.push(source);
    if (extra) {
      if (m.display_name === undefined && extra.display_name) m.display_name = extra.display_name;
      if (m.created === undefined && extra.created !== undefined) m.created = extra.created;
      if (m.owned_by === undefined && extra.owned_by) m.owned_by = extra.owned_by;
      if (m.codex_info === undefined && extra.codex_info) m.codex_info = extra.codex_info;
    }
  };
  for (const name of Object.keys(mgr.configs)) {
    if (!routable(mgr, name, meta)) continue;
    const cfg = mgr.configs[name]!;
    cfg.upstreams.forEach((u, i) => {
      for (const m of fetched(name, i, u)?.models ?? []) {
        if (isModelSupported(u.supported_models, u.model_mapping, m.id)) add(m.id, name, 'upstream', m);
      }
      for (const [k, v] of Object.entries(u.supported_models)) if (v !== false && literal(k)) add(k, name, 'supported_models');
      for (const k of Object.keys(u.model_mapping)) if (literal(k) && isModelSupported(u.supported_models, u.model_mapping, k)) add(k, name, 'model_mapping');
    });
  }
  return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Reads an upstream `/models` body: the OpenAI/Anthropic `{data: [{id}]}` list, or Codex's `{models: [{slug}]}`.
 * Undefined when neither shape is there.
 */
export function parseModelList(body: unknown): UpstreamModelList | undefined {
  const root = obj(body);
  if (!root) return undefined;
  const items = Array.isArray(root['data']) ? root['data'] : Array.isArray(root['models']) ? root['models'] : undefined;
  if (!items) return undefined;
  const models: UpstreamModelList['models'] = [];
  const seen = new Set<string>();
  for (const it of items.slice(0, 5000)) {
    const o = obj(it);
    const id = typeof it === 'string' ? it : typeof o?.['id'] === 'string' ? o['id'] : typeof o?.['slug'] === 'string' ? o['slug'] : undefined;
    if (!id || id.length > 200 || seen.has(id) || /[\u0000-\u001f]/.test(id)) continue;
    seen.add(id);
    const m: UpstreamModelList['models'][number] = { id };
    const dn = o?.['display_name'];
    if (typeof dn === 'string' && dn.length <= 200) m.display_name = dn;
    const created = o?.['created'];
    if (typeof created === 'number' && Number.isFinite(created)) m.created = created;
    else if (typeof o?.['created_at'] === 'string') {
      const t = Date.parse(o['created_at']);
      if (Number.isFinite(t)) m.created = Math.floor(t / 1000);
    }
    const ob = o?.['owned_by'];
    if (typeof ob === 'string' && ob.length <= 200) m.owned_by = ob;
    if (o && typeof o['slug'] === 'string') m.codex_info = o;
    models.push(m);
  }
  return { models };
}

/** One model in the OpenAI shape; `configs` names which configs can serve it (an addition). */
export function openAiModel(m: UnionModel): unknown {
  return { id: m.id, object: 'model', created: m.created ?? 0, owned_by: m.owned_by ?? m.configs[0] ?? 'codex-helper', configs: m.configs };
}

/**
 * The OpenAI list shape. When upstreams answered in Codex's own `{models: [{slug, …}]}` shape (the ChatGPT backend),
 * those entries are passed on under `models` too, so Codex's model picker keeps its full descriptions; the key is
 * left out otherwise, since Codex cannot read partial entries.
 */
export function openAiModelList(models: readonly UnionModel[]): unknown {
  const out: Record<string, unknown> = { object: 'list', data: models.map(openAiModel) };
  const codex = models.filter((m) => m.codex_info).map((m) => m.codex_info);
  if (codex.length) out['models'] = codex;
  return out;
}

/** The Anthropic list shape Claude Code reads. */
export function anthropicModelList(models: readonly UnionModel[], hasMore = false): unknown {
  return {
    data: models.map((m) => anthropicModel(m)),
    has_more: hasMore,
    first_id: models[0]?.id ?? null,
    last_id: models[models.length - 1]?.id ?? null,
  };
}

/** One model in the Anthropic shape. */
export function anthropicModel(m: UnionModel): unknown {
  return {
    type: 'model',
    id: m.id,
    display_name: m.display_name ?? m.id,
    created_at: new Date((m.created ?? 0) * 1000).toISOString(),
    configs: m.configs,
  };
}
