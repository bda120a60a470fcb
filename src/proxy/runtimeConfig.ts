// The live config snapshot shared by every listener, re-read from disk when the file changes. A broken file
// never replaces the last good config: the error is kept (and reported) until the file changes again. "Broken"
// includes a file that parses but would leave a service that has configs with none (an editor's zero-byte write).
import { statSync } from 'node:fs';
import { bootstrapClaudeConfigs, bootstrapCodexConfigs } from '../io/bootstrap';
import { ConfigError, embeddedDefaultConfig } from '../core/config';
import { configFilePath, loadConfig } from '../io/configFile';
import type { ConfigWarning, LoadedConfig } from '../core/config';
import type { Logger } from './logger';
import type { RuntimeStatus } from '../core/adminContract';

export type { RuntimeStatus } from '../core/adminContract';

export interface ReloadResult {
  reloaded: boolean;
  error?: ConfigError;
}

type Listener = (loaded: LoadedConfig) => void;

/** Holds the current config and reloads it when the file's mtime changes (checked at most every `intervalMs`). */
export class RuntimeConfig {
  private current: LoadedConfig;
  private loadedAtMs: number;
  private lastCheckMs = -Infinity;
  private lastMtime: number | undefined;
  private lastPath: string;
  private lastErrorValue: ConfigError | undefined;
  private readonly listeners = new Set<Listener>();

  constructor(
    readonly home: string,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
    private readonly clientHomes?: { codexHome: string; claudeHome: string },
  ) {
    this.lastPath = configFilePath(home);
    this.lastMtime = mtimeOf(this.lastPath);
    this.current = this.load(); // a broken file at start is fatal for the caller to report
    this.loadedAtMs = now();
    this.reportWarnings(this.current.warnings);
  }

  get loaded(): LoadedConfig {
    return this.current;
  }

  get lastError(): ConfigError | undefined {
    return this.lastErrorValue;
  }

  get status(): RuntimeStatus {
    return {
      config_path: this.lastPath,
      loaded_at_ms: this.loadedAtMs,
      source_mtime_ms: this.lastMtime === undefined ? null : Math.trunc(this.lastMtime),
    };
  }

  /** Registers a listener called after every successful reload. */
  onDidReload(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Cheap on the hot path: one clock read, and a stat at most once per interval. */
  maybeReload(): void {
    const t = this.now();
    if (t - this.lastCheckMs < this.intervalMs) return;
    this.lastCheckMs = t;
    const path = configFilePath(this.home);
    const mtime = mtimeOf(path);
    if (mtime === this.lastMtime && path === this.lastPath) return;
    this.lastMtime = mtime;
    this.lastPath = path;
    this.tryLoad();
  }

  /** Reloads now; reports whether the file changed since the last load, or the error. */
  forceReload(): ReloadResult {
    const path = configFilePath(this.home);
    const mtime = mtimeOf(path);
    const changed = mtime !== this.lastMtime || path !== this.lastPath;
    // Remember the file either way, so the periodic check does not load (and report) the same broken file again.
    this.lastMtime = mtime;
    this.lastPath = path;
    const error = this.tryLoad();
    if (error) return { reloaded: false, error };
    return { reloaded: changed };
  }

  private tryLoad(): ConfigError | undefined {
    try {
      const next = this.load();
      checkNoServiceEmptied(this.current, next);
      this.current = next;
      this.loadedAtMs = this.now();
      this.lastErrorValue = undefined;
      this.log.info(`config reloaded from ${next.format === 'embedded' ? 'embedded default' : next.path}`);
      this.reportWarnings(next.warnings);
      for (const l of this.listeners) l(next);
      return undefined;
    } catch (e) {
      const err = e instanceof ConfigError ? e : new ConfigError(String((e as Error)?.message ?? e), this.lastPath);
      this.lastErrorValue = err;
      this.log.error(`config not reloaded, keeping the last good one: ${err.message}`);
      return err;
    }
  }

  /**
   * Loads the file; a service without configs is imported (in memory, never written) from the client's own
   * settings as codex-helper does, and without a config file falls back to the embedded default.
   */
  private load(): LoadedConfig {
    const loaded = loadConfig(this.home);
    this.importNotes.length = 0;
    if (!this.clientHomes) return loaded;
    const embedded = loaded.format === 'embedded' ? embeddedDefaultConfig() : undefined;
    const config = { ...loaded.config };
    let changed = false;
    for (const service of ['codex', 'claude'] as const) {
      const mgr = loaded.format === 'embedded' ? { configs: {} } : config[service];
      if (Object.keys(mgr.configs).length > 0) continue;
      try {
        const r = service === 'codex' ? bootstrapCodexConfigs(this.clientHomes.codexHome) : bootstrapClaudeConfigs(this.clientHomes.claudeHome);
        config[service] = r.manager;
        changed = true;
        this.importNotes.push(`${service}: imported ${Object.keys(r.manager.configs).join(', ')} from the ${service === 'codex' ? 'Codex' : 'Claude Code'} settings (not written; run \`codex-helper config init\` to save a config file)`);
      } catch {
        if (embedded) {
          config[service] = embedded[service];
          changed = true;
        }
      }
    }
    return changed ? { ...loaded, config } : loaded;
  }

  /** What the last load imported from the clients' own settings (for the CLI and the UI to show once). */
  readonly importNotes: string[] = [];

  private reportWarnings(warnings: ConfigWarning[]): void {
    for (const w of warnings) this.log.warn(`${w.file}${w.line ? `:${w.line}` : ''}: ${w.key}: ${w.message}`);
  }
}

/** Refuses a reload that would leave a service with configs with none: the proxy would answer every request 502. */
function checkNoServiceEmptied(prev: LoadedConfig, next: LoadedConfig): void {
  for (const service of ['codex', 'claude'] as const) {
    const had = Object.keys(prev.config[service].configs);
    if (had.length === 0 || Object.keys(next.config[service].configs).length > 0) continue;
    const shown = had.length > 3 ? `${had.slice(0, 3).join(', ')}, …` : had.join(', ');
    throw new ConfigError(
      `the file now leaves ${service} without any config (it had ${had.length}: ${shown}); an empty or half-written file? ` +
        'The last good config stays active; restart the proxy if you meant to remove them all',
      next.path,
    );
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
