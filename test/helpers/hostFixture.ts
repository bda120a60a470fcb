// A host without VS Code for the command tests: a real ProxyHost behind a real ProxyController, the real
// ServiceStore and SecretCache (over an in-memory secret store), settings read by the real reader, temporary homes,
// and the scripted FakeUi standing in for the VS Code window.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emitter } from '../../src/core/events';
import type { Disposable } from '../../src/core/events';
import { SERVICE_NAMES } from '../../src/core/types';
import type { ServiceName } from '../../src/core/types';
import { HealthChecker } from '../../src/proxy/healthcheck';
import { lineLogger } from '../../src/proxy/logger';
import { ProxyHost } from '../../src/proxy/proxyHost';
import { ProxyController } from '../../src/host/proxyController';
import { SecretCache } from '../../src/host/secretCache';
import type { SecretStore } from '../../src/host/secretCache';
import { ServiceStore } from '../../src/host/serviceStore';
import { readSettings } from '../../src/host/settings';
import type { HostSettings, SettingsSource, SettingsUpdate } from '../../src/host/settings';
import type { PageWatch } from '../../src/webview/pageController';
import type { RequestsSource } from '../../src/webview/requestsActions';
import { FakeUi } from './fakeUi';

/** A Responses API answer with usage, what the fake upstreams of the host tests send back. */
export const OK_RESPONSE = { id: 'resp_1', output: [], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } };

const upstreams = (config: string, url: string, paths: readonly string[]) =>
  paths.map((p) => `[[${config}.upstreams]]\nbase_url = "${url}${p}"\n`).join('');

/** config.toml: Claude's config `cl` at `<url>/c`. */
export const claudeConfig = (url: string) => `[claude.configs.cl]\n${upstreams('claude.configs.cl', url, ['/c'])}`;

/** config.toml: Codex's `main` at `<url>/a` (then the `codexUpstream` lines) and Claude's `cl` at `<url>/c`. */
export const codexAndClaudeConfig = (url: string, codexUpstream = '') =>
  `version = 1\n[codex.configs.main]\n${upstreams('codex.configs.main', url, ['/a'])}${codexUpstream}${claudeConfig(url)}`;

/** config.toml: Codex's `main` (level 1, upstreams at `<url><main path>`) fails over to `backup` (level 2), then `extra`. */
export const failoverConfig = (url: string, main: readonly string[], backup: string, extra = '') => `version = 1
[codex]
active = "main"
[codex.configs.main]
level = 1
${upstreams('codex.configs.main', url, main)}[codex.configs.backup]
level = 2
${upstreams('codex.configs.backup', url, [backup])}${extra}`;

/** A Memento stand-in (globalState, workspaceState). */
export class MemoryState {
  readonly map = new Map<string, unknown>();
  get(k: string) { return this.map.get(k); }
  async update(k: string, v: unknown) { this.map.set(k, v); }
}

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
  /** Starts our proxy of `service` on port 0; its URL. */
  start(service: ServiceName): Promise<string>;
  /** Keeps `d` (what a registerX returned) to dispose on `close`, before the proxy goes. */
  own<D extends Disposable>(d: D): D;
  /** What the webview pages read: the proxies running or attached now. */
  sources(): RequestsSource[];
  /** The webview pages' coalesced feed over both services. */
  watch: PageWatch;
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
  const owned: Disposable[] = [];
  return {
    dir, home, codexHome, claudeHome, ui: new FakeUi(), lines, log, controller, store, secretStore, secrets,
    start: async (service) => {
      const st = await controller.start(service, 0);
      if (st.kind !== 'running') throw new Error(`the ${service} proxy did not start: ${JSON.stringify(st)}`);
      return st.url;
    },
    own: (d) => {
      owned.push(d);
      return d;
    },
    sources: () => SERVICE_NAMES.flatMap((service) => {
      const client = controller.client(service);
      return client ? [{ service, client }] : [];
    }),
    watch: (work, o) => controller.subscribe(SERVICE_NAMES, work, o),
    close: async () => {
      for (const d of owned.splice(0)) d.dispose();
      store.dispose();
      await controller.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
