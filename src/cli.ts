// Headless entry: `codex-helper serve | switch | config`. The same core as the extension, without VS Code.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './core/config';
import { readEnvOptions } from './core/envOptions';
import { proxyHomeDir } from './io/configFile';
import type { ServiceName } from './core/types';
import { runConfigCommand, runSwitchCommand } from './io/configCommands';
import { lineLogger } from './proxy/logger';
import type { LogLevel } from './proxy/logger';
import { ListenError, ProxyHost } from './proxy/proxyHost';
import { HealthChecker } from './proxy/healthcheck';
import { runStatsCommand, StatsUsageError } from './cliStats';

declare const CODEX_HELPER_VERSION: string | undefined;

/** The version of this build (set by the bundler; `dev` when run from unbundled sources). */
export const VERSION: string = typeof CODEX_HELPER_VERSION === 'string' ? CODEX_HELPER_VERSION : 'dev';

const SERVE_USAGE = `usage: codex-helper serve [options]

Runs the proxy until SIGINT/SIGTERM (in-flight requests get up to 5 s to finish).

options:
  --service S         codex | claude | all (default all: codex on 3211, claude on 3210)
  --codex, --claude   same as --service codex / --service claude
  --port N            listen port (only with a single service)
  --host H            bind address (default 127.0.0.1; a non-loopback host needs --allow-remote)
  --allow-remote      allow binding a non-loopback address (prints a warning)
  --log-level L       debug | info | warn | error (default info)
  -h, --help          this help

reads   $CODEX_HELPER_HOME/config.toml (default ~/.codex-helper; without it: ~/.codex and ~/.claude, else the
        embedded default), filter.json, usage_providers.json
writes  $CODEX_HELPER_HOME/runtime-state.json (pins, config meta) and logs/requests.jsonl (one line per request,
        rotated at CODEX_HELPER_REQUEST_LOG_MAX_BYTES)
`;

const USAGE = `usage: codex-helper <command> [options]

commands:
  serve                 run the proxy (default command; \`codex-helper serve --help\` for its options)
    --service S         codex | claude | all (default all: codex on 3211, claude on 3210); or --codex / --claude
    --port N            listen port (only with a single service)
    --host H            bind address (default 127.0.0.1; a non-loopback host needs --allow-remote)
    --allow-remote      allow binding a non-loopback address; needs CODEX_HELPER_PROXY_TOKEN
    --log-level L       debug | info | warn | error (default info)
  switch on|off|status  point Codex / Claude Code at the proxy and back  [--codex] [--claude] [--port N]
  config init           write a commented config.toml template  [--force] [--no-import]
  help, -h, --help      this help
  version, --version    print the version
  stats                 requests, tokens, cost (estimate), latency and errors from the request logs
    --days N            period for the per-model / per-config / per-day tables (default 7)
    --service S         codex | claude | all (default all)
    --json              the full report as JSON

environment:
  CODEX_HELPER_HOME     config, state and logs (default ~/.codex-helper)
  CODEX_HOME            Codex home (default ~/.codex)
  CLAUDE_HOME           Claude home (default ~/.claude)
  CODEX_HELPER_PROXY_TOKEN    remote mode: peers send it as x-codex-helper-token (16+ characters)
  CODEX_HELPER_ALLOWED_HOSTS  remote mode: extra names accepted in Host (comma-separated)
`;

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export interface ServeArgs {
  services: ServiceName[];
  port?: number;
  host: string;
  allowRemote: boolean;
  logLevel: LogLevel;
}

/** Parses `serve` options. */
export function parseServeArgs(args: string[]): ServeArgs {
  let service = 'all';
  let port: number | undefined;
  let host = '127.0.0.1';
  let allowRemote = false;
  let logLevel: LogLevel = 'info';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--service':
        service = value();
        if (!['codex', 'claude', 'all'].includes(service)) throw new UsageError(`--service must be codex, claude or all (got '${service}')`);
        break;
      case '--codex':
      case '--claude':
        service = flag.slice(2);
        break;
      case '--port': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be 0..65535 (got '${v}')`);
        port = n;
        break;
      }
      case '--host':
        host = value();
        break;
      case '--allow-remote':
        allowRemote = true;
        break;
      case '--log-level': {
        const v = value();
        if (!['debug', 'info', 'warn', 'error'].includes(v)) throw new UsageError(`--log-level must be debug, info, warn or error`);
        logLevel = v as LogLevel;
        break;
      }
      default:
        throw new UsageError(`unknown option '${a}'`);
    }
  }
  const services: ServiceName[] = service === 'all' ? ['codex', 'claude'] : [service as ServiceName];
  if (port !== undefined && services.length > 1) throw new UsageError('--port needs a single --service (codex or claude)');
  return { services, port, host, allowRemote, logLevel };
}

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const a = parseServeArgs(args);
  const log = lineLogger((l) => process.stderr.write(l + '\n'), a.logLevel);
  const home = proxyHomeDir(env);
  const codexHome = env['CODEX_HOME']?.trim() || join(homedir(), '.codex');
  const claudeHome = env['CLAUDE_HOME']?.trim() || join(homedir(), '.claude');
  let host: ProxyHost;
  try {
    host = new ProxyHost({ home, codexHome, claudeHome, env, envOptions: readEnvOptions(env), log, healthChecks: new HealthChecker(env, log) });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`codex-helper: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const loaded = host.runtime.loaded;
  for (const note of host.runtime.importNotes) process.stderr.write(`codex-helper: ${note}\n`);
  if (loaded.format === 'embedded') {
    process.stderr.write(
      `codex-helper: no config file at ${loaded.path}; serving the embedded default ` +
        `(codex → https://api.openai.com/v1, claude → https://api.anthropic.com/v1, the client's own credentials ` +
        `or OPENAI_API_KEY / ANTHROPIC_API_KEY). Run \`codex-helper config init\` to create one.\n`,
    );
  }
  for (const s of a.services) host.services[s].replayUsage();
  process.stderr.write(`codex-helper: state in ${join(home, 'runtime-state.json')}, request log in ${join(home, 'logs', 'requests.jsonl')}\n`);
  // Signal handlers first: a SIGTERM that arrives while a listener is still binding must not kill the process
  // before in-flight work is drained.
  let stopping = false;
  let release: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => (release = resolve));
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: finishing in-flight requests (at most 5 s)`);
    void host.dispose(5000).then(() => release(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    for (const s of a.services) {
      const l = await host.listen(s, { host: a.host, port: a.port, allowRemote: a.allowRemote });
      process.stdout.write(`${s} proxy listening on ${l.url}\n`);
    }
  } catch (e) {
    if (stopping) return stopped;
    process.stderr.write(`codex-helper: ${(e as Error).message}\n`);
    await host.dispose(0);
    return 1;
  }
  return stopped;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [cmd, ...rest] = argv;
  const io = { env, out: (s: string) => process.stdout.write(s + '\n'), err: (s: string) => process.stderr.write(s + '\n') };
  try {
    switch (cmd) {
      case undefined:
      case 'serve':
        return await serve(rest, env);
      case 'switch':
        return await runSwitchCommand(rest, io);
      case 'config':
        return await runConfigCommand(rest, io);
      case 'stats':
        try {
          return await runStatsCommand(rest, io);
        } catch (e) {
          if (e instanceof StatsUsageError) throw new UsageError(e.message);
          if (e instanceof ConfigError) {
            process.stderr.write(`codex-helper: ${e.message}\n`);
            return 1;
          }
          throw e;
        }
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case '-V':
      case '--version':
      case 'version':
        process.stdout.write(`codex-helper ${VERSION}\n`);
        return 0;
      default:
        if (cmd.startsWith('--')) return await serve(argv, env);
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`codex-helper: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ListenError) {
      process.stderr.write(`codex-helper: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`codex-helper: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
