// Environment knobs shared by the state, request log and session modules (the seed's `CODEX_HELPER_*` variables).

/** Reads a positive integer from the environment, or undefined when unset or invalid. */
export function envPositiveInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
