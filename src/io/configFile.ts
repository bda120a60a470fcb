// Finding and reading the proxy's config file; parsing and validation are src/core/config.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_VERSION, ConfigError, embeddedDefaultConfig, parseConfigText } from '../core/config';
import type { LoadedConfig } from '../core/config';
import type { EnvSnapshot } from '../core/envOptions';

/** The proxy's home: `CODEX_HELPER_HOME` when set and not blank, else `~/.codex-helper`. */
export function proxyHomeDir(env: EnvSnapshot, homedir: string = os.homedir()): string {
  const fromEnv = env['CODEX_HELPER_HOME']?.trim();
  if (fromEnv) return fromEnv;
  return path.join(homedir || '.', '.codex-helper');
}

/** `config.toml` if it exists, else `config.json` if it exists, else the (missing) `config.toml` path. */
export function configFilePath(home: string): string {
  const toml = path.join(home, 'config.toml');
  if (fs.existsSync(toml)) return toml;
  const json = path.join(home, 'config.json');
  if (fs.existsSync(json)) return json;
  return toml;
}

/** Reads `config.toml` (wins) or `config.json` under `home`; with neither, the embedded default. */
export function loadConfig(home: string): LoadedConfig {
  const candidates: Array<[string, 'toml' | 'json']> = [
    [path.join(home, 'config.toml'), 'toml'],
    [path.join(home, 'config.json'), 'json'],
  ];
  for (const [file, format] of candidates) {
    let text: string;
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(file).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ConfigError(`cannot read: ${(err as Error).message}`, file, undefined, undefined, { cause: err });
    }
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read: ${(err as Error).message}`, file, undefined, undefined, { cause: err });
    }
    const { config, warnings } = parseConfigText(text, file, format);
    if (config.version === undefined) config.version = CONFIG_VERSION;
    return { config, path: file, format, warnings, mtimeMs };
  }
  return { config: embeddedDefaultConfig(), path: path.join(home, 'config.toml'), format: 'embedded', warnings: [] };
}
