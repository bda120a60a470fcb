// The `codexHelper.<service>.pinnedConfig` setting drives the proxy's global pin, but that pin is also the user's
// own (status bar, admin API) and persists in runtime-state.json. The setting may only set it, and may only clear
// what it set itself: the name it applied is remembered (workspaceState) and cleared only while it is still in force.
// No `vscode` here.
import type { AdminClient } from '../proxy/adminClient';

export type PinAction = { kind: 'keep' } | { kind: 'set'; name: string } | { kind: 'clear' };

export interface PinStep {
  action: PinAction;
  /** What to remember as "applied by the setting" afterwards. */
  remember: string | undefined;
}

/** Where the name the setting applied is kept (a vscode.Memento fits). */
export interface PinMemory {
  get(key: string): unknown;
  update(key: string, value: unknown): PromiseLike<void>;
}

/**
 * What the setting does to the global pin. `atStart`: a listener just (re)started, where a missing setting never
 * clears anything; otherwise the setting itself changed. `current` is the proxy's pin, if known.
 */
export function workspacePinStep(o: { setting?: string; applied?: string; current?: string; atStart: boolean }): PinStep {
  if (o.setting !== undefined) return { action: { kind: 'set', name: o.setting }, remember: o.setting };
  if (o.atStart) return { action: { kind: 'keep' }, remember: o.applied };
  if (o.applied !== undefined && o.current === o.applied) return { action: { kind: 'clear' }, remember: undefined };
  // Pinned by hand since (or never ours): the user's choice stays, and is no longer ours to clear.
  return { action: { kind: 'keep' }, remember: undefined };
}

/** Applies the setting to a running proxy through its admin API; returns what was done. Throws on admin errors. */
export async function syncWorkspacePin(o: {
  client: AdminClient;
  setting: string | undefined;
  memory: PinMemory;
  key: string;
  atStart: boolean;
}): Promise<PinAction> {
  const stored = o.memory.get(o.key);
  const applied = typeof stored === 'string' ? stored : undefined;
  const needCurrent = o.setting === undefined && applied !== undefined && !o.atStart;
  const current = needCurrent ? (await o.client.configsDetail()).global_override ?? undefined : undefined;
  const step = workspacePinStep({ setting: o.setting, applied, current, atStart: o.atStart });
  if (step.action.kind === 'set') await o.client.setGlobalConfig(step.action.name);
  else if (step.action.kind === 'clear') await o.client.setGlobalConfig(undefined);
  if (step.remember !== applied) await o.memory.update(o.key, step.remember);
  return step.action;
}
