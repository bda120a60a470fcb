// Which configs serve a request, in order: a pin (session, then global) selects exactly one config;
// otherwise enabled configs are ordered by level (lower first), the active config first within a level.
import { activeConfig, clampLevel } from './config';
import type { ServiceConfig, ServiceConfigManager } from './types';

export interface ConfigMetaOverride {
  enabled?: boolean;
  level?: number;
}

export type RoutingMode =
  | 'pinned'
  | 'single_level_multi'
  | 'single_level_fallback_active_config'
  | 'multi_level'
  | 'multi_level_fallback_active_config'
  | 'empty';

export interface ConfigChoice {
  configs: ServiceConfig[];
  mode: RoutingMode;
  pinned?: { name: string; source: 'session' | 'global'; found: boolean };
}

/** Effective level of a config after runtime overrides, clamped to 1..=10. */
export function effectiveLevel(cfg: ServiceConfig, meta?: ConfigMetaOverride): number {
  return clampLevel(meta?.level ?? cfg.level);
}

/** Effective enabled flag of a config after runtime overrides. */
export function effectiveEnabled(cfg: ServiceConfig, meta?: ConfigMetaOverride): boolean {
  return meta?.enabled ?? cfg.enabled;
}

/** Orders the configs that may serve a request (the seed's `lbs_for_request`). */
export function chooseConfigs(
  mgr: ServiceConfigManager,
  pinned: { name: string; source: 'session' | 'global' } | undefined,
  meta: Readonly<Record<string, ConfigMetaOverride>> = {},
): ConfigChoice {
  if (pinned) {
    // Own keys only: a pin named `constructor` must not find Object itself.
    const hit = Object.hasOwn(mgr.configs, pinned.name) ? mgr.configs[pinned.name] : undefined;
    const cfg = hit ?? activeConfig(mgr);
    return { configs: cfg ? [cfg] : [], mode: cfg ? 'pinned' : 'empty', pinned: { ...pinned, found: !!hit } };
  }
  const active = mgr.active;
  const candidates = Object.values(mgr.configs).filter(
    (c) => c.upstreams.length > 0 && (effectiveEnabled(c, meta[c.name]) || c.name === active),
  );
  const levels = new Set(candidates.map((c) => effectiveLevel(c, meta[c.name])));
  if (candidates.length === 0) {
    const fallback = activeConfig(mgr);
    if (!fallback) return { configs: [], mode: 'empty' };
    return {
      configs: [fallback],
      mode: levels.size < 2 ? 'single_level_fallback_active_config' : 'multi_level_fallback_active_config',
    };
  }
  const byName = (a: ServiceConfig, b: ServiceConfig) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const activeFirst = (a: ServiceConfig, b: ServiceConfig) =>
    (a.name === active ? 0 : 1) - (b.name === active ? 0 : 1);
  if (levels.size < 2) {
    return { configs: [...candidates].sort((a, b) => activeFirst(a, b) || byName(a, b)), mode: 'single_level_multi' };
  }
  const sorted = [...candidates].sort(
    (a, b) =>
      effectiveLevel(a, meta[a.name]) - effectiveLevel(b, meta[b.name]) || activeFirst(a, b) || byName(a, b),
  );
  return { configs: sorted, mode: 'multi_level' };
}
