// `codex-helper switch on|off|status` and `codex-helper config init` (also behind the extension's first-run
// import). Homes come from `io.env` only, so the commands are testable against temporary directories and never
// depend on the calling process's environment.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ServiceConfigManager } from '../core/types';
import { ensurePrivateDir, writeFileAtomic } from './privateFiles';
import {
  ClientConfigError,
  DEFAULT_CLAUDE_PORT,
  DEFAULT_CODEX_PORT,
  claudeHomeDir,
  claudeSwitchOff,
  claudeSwitchOn,
  claudeSwitchStatus,
  codexHomeDir,
  codexSwitchOff,
  codexSwitchOn,
  codexSwitchStatus,
} from './clientSwitch';
import { isProxyListening } from './proxyProbe';
import type { SwitchStatus } from './clientSwitch';
import { BootstrapError, bootstrapClaudeConfigs, bootstrapCodexConfigs, configTemplate } from './bootstrap';

export interface CommandIo {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

const SWITCH_USAGE = 'usage: codex-helper switch on|off|status [--codex] [--claude] [--port N] [--host H]';
const CONFIG_USAGE = 'usage: codex-helper config init [--force] [--no-import]';

type Client = 'codex' | 'claude';

function homeOf(env: NodeJS.ProcessEnv): string {
  const h = env.HOME?.trim() || env.USERPROFILE?.trim();
  return h ? h : os.homedir();
}

/** `$CODEX_HELPER_HOME` (when not blank) or `~/.codex-helper`, resolved from `env`. */
export function helperHomeDir(env: NodeJS.ProcessEnv): string {
  const v = env.CODEX_HELPER_HOME?.trim();
  return v ? v : path.join(homeOf(env), '.codex-helper');
}

/** Run `switch on|off|status`; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runSwitchCommand(args: string[], io: CommandIo): Promise<number> {
  const rest = args[0] === 'switch' ? args.slice(1) : args;
  const action = rest[0];
  if (action !== 'on' && action !== 'off' && action !== 'status') {
    io.err(SWITCH_USAGE);
    return 2;
  }
  let wantCodex = false;
  let wantClaude = false;
  let port: number | undefined;
  let host = '127.0.0.1';
  for (let i = 1; i < rest.length; i++) {
    const a = rest[i] ?? '';
    if (a === '--codex') wantCodex = true;
    else if (a === '--claude') wantClaude = true;
    else if (a === '--port' || a.startsWith('--port=')) {
      const v = a === '--port' ? rest[++i] : a.slice('--port='.length);
      const n = Number(v);
      if (!v || !Number.isInteger(n) || n < 1 || n > 65535) {
        io.err(`invalid --port: ${String(v)}`);
        return 2;
      }
      port = n;
    } else if (a === '--host' || a.startsWith('--host=')) {
      const v = a === '--host' ? rest[++i] : a.slice('--host='.length);
      if (!v) {
        io.err('--host needs a value');
        return 2;
      }
      host = v;
    } else {
      io.err(`unknown option ${a}\n${SWITCH_USAGE}`);
      return 2;
    }
  }
  const clients: Client[] = wantCodex || wantClaude ? [] : ['codex', 'claude'];
  if (wantCodex) clients.push('codex');
  if (wantClaude) clients.push('claude');
  if (port !== undefined && clients.length > 1) {
    // Codex and Claude Code are served on different ports; one --port for both would point one of them wrong.
    io.err('--port applies to one client: add --codex or --claude');
    return 2;
  }

  const homeDir = homeOf(io.env);
  let code = 0;
  for (const client of clients) {
    const home = client === 'codex' ? codexHomeDir(io.env, homeDir) : claudeHomeDir(io.env, homeDir);
    const label = client === 'codex' ? 'codex' : 'claude';
    try {
      if (action === 'status') {
        const st = client === 'codex' ? codexSwitchStatus(home) : claudeSwitchStatus(home);
        io.out(`${label}: ${await describeStatus(st)}`);
        continue;
      }
      const st =
        action === 'on'
          ? client === 'codex'
            ? codexSwitchOn(home, port ?? DEFAULT_CODEX_PORT, host)
            : claudeSwitchOn(home, port ?? DEFAULT_CLAUDE_PORT, host)
          : client === 'codex'
            ? codexSwitchOff(home)
            : claudeSwitchOff(home);
      io.out(`${label}: ${st.message} (${st.file})`);
    } catch (err) {
      if (!(err instanceof ClientConfigError)) throw err;
      io.err(`${label}: ${err.message}`);
      code = 1;
    }
  }
  return code;
}

async function describeStatus(st: SwitchStatus): Promise<string> {
  if (!st.enabled) return `${st.message} (${st.file})`;
  const port = st.port ?? (st.client === 'codex' ? DEFAULT_CODEX_PORT : DEFAULT_CLAUDE_PORT);
  if (await isProxyListening(port)) return `${st.message}; proxy is running (${st.file})`;
  return `switched on but nothing listens on 127.0.0.1:${port} — run \`codex-helper switch off --${st.client}\` to repair (${st.file})`;
}

/** Run `config init [--force] [--no-import]`; returns the exit code. */
export async function runConfigCommand(args: string[], io: CommandIo): Promise<number> {
  const rest = args[0] === 'config' ? args.slice(1) : args;
  if (rest[0] !== 'init') {
    io.err(CONFIG_USAGE);
    return 2;
  }
  let force = false;
  let doImport = true;
  for (const a of rest.slice(1)) {
    if (a === '--force') force = true;
    else if (a === '--no-import') doImport = false;
    else {
      io.err(`unknown option ${a}\n${CONFIG_USAGE}`);
      return 2;
    }
  }
  const dir = helperHomeDir(io.env);
  const file = path.join(dir, 'config.toml');
  if (fs.existsSync(file) && !force) {
    io.err(`${file} already exists; use --force to overwrite it (the old file is kept as config.toml.bak)`);
    return 1;
  }

  const imported: { codex?: ServiceConfigManager; claude?: ServiceConfigManager } = {};
  if (doImport) {
    const homeDir = homeOf(io.env);
    const sources = [
      ['codex', () => bootstrapCodexConfigs(codexHomeDir(io.env, homeDir))],
      ['claude', () => bootstrapClaudeConfigs(claudeHomeDir(io.env, homeDir))],
    ] as const;
    for (const [service, load] of sources) {
      try {
        const r = load();
        imported[service] = r.manager;
        io.out(`imported ${Object.keys(r.manager.configs).length} ${service} config(s): ${Object.keys(r.manager.configs).join(', ')}`);
      } catch (err) {
        if (!(err instanceof BootstrapError)) throw err;
        io.out(`${service}: nothing imported (${err.message})`);
      }
    }
  }

  try {
    ensurePrivateDir(dir);
    if (fs.existsSync(file)) fs.copyFileSync(file, `${file}.bak`);
    writeFileAtomic(file, configTemplate(imported), { keepMode: false });
  } catch (err) {
    io.err(`cannot write ${file}: ${(err as Error).message}`);
    return 1;
  }
  io.out(`wrote ${file}`);
  return 0;
}
