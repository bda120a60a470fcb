// Items of the config and effort quick picks, decided on plain data: the current choice is marked and every config
// carries the same health text the tree and the status bar show (upstreamHealth.ts). No `vscode` here.
import type { ConfigsDetail } from '../proxy/adminClient';
import { EFFORTS } from './constants';
import type { ServiceData } from './treeModel';
import { priorityText, statesOf } from './treeModel';
import { configHealthSummary } from './upstreamHealth';

export interface PickItem<T> {
  label: string;
  description: string;
  detail?: string;
  value: T;
  /** The choice in force now (VS Code shows it first-selected through `activeItems`). */
  current?: boolean;
}

const CURRENT = '$(check) ';

/** One item per config (plus `extra` items first): `$(check)` on the current one, health and priority in the description. */
export function configPickItems(d: ServiceData, detail: ConfigsDetail, nowMs: number, current: string | null | undefined,
  extra: ReadonlyArray<{ label: string; value: string | null }>): Array<PickItem<string | null>> {
  const items: Array<PickItem<string | null>> = extra.map((e) => {
    const on = e.value === (current ?? null);
    return { label: `${on ? CURRENT : ''}${e.label}`, description: on ? 'current' : '', value: e.value, ...(on ? { current: true } : {}) };
  });
  const data: ServiceData = { ...d, detail };
  for (const c of detail.configs) {
    const on = c.name === current;
    const health = configHealthSummary(statesOf(data, c, nowMs));
    items.push({
      label: `${on ? CURRENT : ''}${c.alias ?? c.name}`,
      description: [on ? 'current' : undefined, health.text, priorityText(c.effective_level), c.effective_enabled ? undefined : 'disabled',
        c.active ? 'active' : undefined].filter(Boolean).join(' · '),
      detail: [c.alias ? c.name : undefined, ...c.upstreams.map((u) => u.base_url)].filter(Boolean).join(' · '),
      value: c.name,
      ...(on ? { current: true } : {}),
    });
  }
  return items;
}

/** Effort levels plus "clear", the session's current override marked. */
export function effortPickItems(current: string | undefined): Array<PickItem<string | null>> {
  const items: Array<PickItem<string | null>> = EFFORTS.map((e) => ({
    label: `${e === current ? CURRENT : ''}${e}`, description: e === current ? 'current override' : '', value: e,
    ...(e === current ? { current: true } : {}),
  }));
  items.push({ label: `${current === undefined ? CURRENT : ''}$(close) No override`, description: current === undefined ? 'current: the client decides' : 'the client decides', value: null,
    ...(current === undefined ? { current: true } : {}) });
  return items;
}
