// Reads what the VS Code extension needs of its environment, once, at activation (the entry point hands the
// result down; no host module reads process.env).
import * as os from 'node:os';
import type { EnvSnapshot, HostEnv } from '../core/envOptions';
import { claudeHomeDir, codexHomeDir } from './clientSwitch';
import { proxyHomeDir } from './configFile';

/** `HostEnv` of an environment snapshot (process.env at activation, a literal in tests). */
export function readHostEnv(env: EnvSnapshot, homedir: string = os.homedir()): HostEnv {
  return {
    helperHome: proxyHomeDir(env, homedir),
    codexHome: codexHomeDir(env, homedir),
    claudeHome: claudeHomeDir(env, homedir),
    l10nBundle: env['CODEX_HELPER_L10N_BUNDLE']?.trim() || undefined,
    snapshot: { ...env },
  };
}
