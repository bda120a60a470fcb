// The live config snapshot shared by every listener, re-read from disk when the file changes. A broken file
// never replaces the last good config: the error is kept (and reported) until the file changes again. "Broken"
// includes a file that parses but would leave a service that has configs with none (an editor's zero-byte write).
import { bootstrapClaudeConfigs, bootstrapCodexConfigs } from '../io/bootstrap';
import { ConfigError, embeddedDefaultConfig } from '../core/config';
import { configFilePath, loadConfig } from '../io/configFile';
import type { ConfigWarning, LoadedConfig } from '../core/config';
import type { Logger } from './logger';
import { WatchedFile } from '../io/watchedFile';
import type { RuntimeStatus } from '../core/adminContract';
import type { Disposable } from '../core/events';

export type { RuntimeStatus } from '../core/adminContract';

export interface ReloadResult {
  reloaded: boolean;
  error?: ConfigError;
}


/** Holds the current config and reloads it when the file changes (checked at most every `intervalMs`). */
export class RuntimeConfig {
  private readonly file: WatchedFile<LoadedConfig>;
  private loadedAtMs: number;
  private lastErrorValue: ConfigError | undefined;

  constructor(
    readonly home: string,
    private readonly log: Logger,
    intervalMs = 1000,
    private readonly now: () => number = Date.now,
    private readonly clientHomes?: { codexHome: string; claudeHome: string },
  ) {
    this.file = new WatchedFile<LoadedConfig>(() => configFilePath(home), {
      load: () => this.load(),
      validate: checkNoServiceEmptied,
      checkIntervalMs: intervalMs,
      now,
    });
    const first = this.file.refresh({ reread: true });
    if (first.error) throw first.error; // a broken file at start is fatal for the caller to report
    this.loadedAtMs = now();
    this.reportWarnings(this.loaded.warnings);
  }

  get loaded(): LoadedConfig {
    return this.file.peek();
  }

  get lastError(): ConfigError | undefined {
    return this.lastErrorValue;
  }

  get status(): RuntimeStatus {
    const mtime = this.file.mtimeMs;
    return { config_path: this.file.path, loaded_at_ms: this.loadedAtMs, source_mtime_ms: mtime === undefined ? null : Math.trunc(mtime) };
  }

  /** Registers a listener called after every successful reload. */
  onDidReload(listener: (loaded: LoadedConfig) => void): Disposable {
    return this.file.onDidChange(listener);
  }

  /** Cheap on the hot path: one clock read, and a stat at most once per interval. */
  maybeReload(): void {
    const r = this.file.refresh();
    if (r.changed) this.afterLoad(r.error);
  }

  /** Reloads now; reports whether the file changed since the last load, or the error. */
  forceReload(): ReloadResult {
    const r = this.file.refresh({ reread: true });
    const error = this.afterLoad(r.error);
    if (error) return { reloaded: false, error };
    return { reloaded: r.changed };
  }

  private afterLoad(e: Error | undefined): ConfigError | undefined {
    if (e === undefined) {
      const next = this.loaded;
      this.loadedAtMs = this.now();
      this.lastErrorValue = undefined;
      this.log.info(`config reloaded from ${next.format === 'embedded' ? 'embedded default' : next.path}`);
      this.reportWarnings(next.warnings);
      return undefined;
    }
    const err = e instanceof ConfigError ? e : new ConfigError(String(e.message ?? e), this.file.path);
    this.lastErrorValue = err;
    this.log.error(`config not reloaded, keeping the last good one: ${err.message}`);
    return err;
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
function checkNoServiceEmptied(next: LoadedConfig, prev: LoadedConfig): void {
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
