// A host without VS Code for the command tests: a real ProxyHost behind a real ProxyController, the real
// ServiceStore and SecretCache (over an in-memory secret store), settings read by the real reader, temporary homes,
// and the scripted FakeUi standing in for the VS Code window.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emitter } from '../../src/core/events';
import { HealthChecker } from '../../src/proxy/healthcheck';
import { lineLogger } from '../../src/proxy/logger';
import { ProxyHost } from '../../src/proxy/proxyHost';
import { ProxyController } from '../../src/host/proxyController';
import { SecretCache } from '../../src/host/secretCache';
import type { SecretStore } from '../../src/host/secretCache';
import { ServiceStore } from '../../src/host/serviceStore';
import { readSettings } from '../../src/host/settings';
import type { HostSettings, SettingsSource, SettingsUpdate } from '../../src/host/settings';
import { FakeUi } from './fakeUi';

/** SecretStorage stand-in: a Map behind the same async interface. */
export class MemorySecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(k: string) { return this.map.get(k); }
  async store(k: string, v: string) { this.map.set(k, v); }
  async delete(k: string) { this.map.delete(k); }
}

/** Settings as the reader makes them from user values (`codex.port`, …); `set` changes them like the user would. */
export class TestSettings implements SettingsSource {
  private readonly changes = new Emitter<SettingsUpdate>();
  readonly onDidChange = this.changes.event;
  current: HostSettings;

  constructor(values: Record<string, unknown> = {}, overrides: (s: HostSettings) => void = () => undefined) {
    this.current = readSettings((key) => (key in values ? { globalValue: values[key] } : undefined), true).settings;
    overrides(this.current);
  }

  /** Replaces the settings and tells the listeners, with the previous value. */
  update(change: (s: HostSettings) => void): void {
    const prev = this.current;
    const next = structuredClone(prev);
    change(next);
    this.current = next;
    this.changes.fire({ prev, next });
  }
}

export interface HostFixture {
  dir: string;
  home: string;
  codexHome: string;
  claudeHome: string;
  ui: FakeUi;
  lines: string[];
  log: ReturnType<typeof lineLogger>;
  controller: ProxyController<ProxyHost>;
  store: ServiceStore;
  secretStore: MemorySecrets;
  secrets: SecretCache;
  close(): Promise<void>;
}

/** Builds the fixture with `config` as config.toml (none when undefined). */
export function hostFixture(config: string | undefined): HostFixture {
  const dir = mkdtempSync(join(tmpdir(), 'chp-cmd-'));
  const home = join(dir, 'helper');
  const codexHome = join(dir, 'codex');
  const claudeHome = join(dir, 'claude');
  for (const d of [home, codexHome, claudeHome]) mkdirSync(d, { recursive: true });
  if (config !== undefined) writeFileSync(join(home, 'config.toml'), config);
  const lines: string[] = [];
  const log = lineLogger((l) => lines.push(l), 'debug');
  const secretStore = new MemorySecrets();
  const secrets = new SecretCache(secretStore);
  const controller = new ProxyController<ProxyHost>({
    log,
    throttleMs: 20,
    createHost: () => new ProxyHost({ home, codexHome, claudeHome, env: {}, log, secrets: secrets.lookup, requestLog: false,
      healthChecks: new HealthChecker({}, log) }),
  });
  const store = new ServiceStore(controller);
  return {
    dir, home, codexHome, claudeHome, ui: new FakeUi(), lines, log, controller, store, secretStore, secrets,
    close: async () => {
      store.dispose();
      await controller.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
