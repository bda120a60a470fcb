// Editing the Claude Code extension's `claudeCode.environmentVariables` setting (an array of { name, value }).

export interface EnvVarEntry {
  name: string;
  value: string;
}

/** Reads the setting leniently: entries that are not { name: string, value: string } are kept aside untouched. */
function split(list: unknown): { entries: EnvVarEntry[]; other: unknown[] } {
  const entries: EnvVarEntry[] = [];
  const other: unknown[] = [];
  for (const x of Array.isArray(list) ? list : []) {
    const o = x as Partial<EnvVarEntry> | null;
    if (o && typeof o === 'object' && typeof o.name === 'string' && typeof o.value === 'string') entries.push({ name: o.name, value: o.value });
    else other.push(x);
  }
  return { entries, other };
}

/** The list with `name` set to `value` (replacing any entry of that name), or removed when `value` is undefined. */
export function withEnvVar(list: unknown, name: string, value: string | undefined): unknown[] {
  const { entries, other } = split(list);
  const kept = entries.filter((e) => e.name !== name);
  const out: unknown[] = [...kept, ...other];
  if (value !== undefined) out.splice(kept.length, 0, { name, value });
  return out;
}

/** The value of `name` in the list, if set. */
export function envVarOf(list: unknown, name: string): string | undefined {
  return split(list).entries.find((e) => e.name === name)?.value;
}
