// The core resolves credentials synchronously; VS Code SecretStorage is async. This cache holds the values of the
// secrets the config names, loaded at activation and after reloads and kept fresh on change. Values never leave it
// except through `lookup`: the in-process proxy reads it per request, the proxy worker gets the values it names
// posted in memory whenever they change (never written anywhere).
import { Emitter } from '../core/events';
import type { Event } from '../core/events';
import { SECRET_KEY_PREFIX } from './constants';

/** The part of `vscode.SecretStorage` the cache needs. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** SecretStorage key of a secret named in config.toml. */
export function secretKey(name: string): string {
  return SECRET_KEY_PREFIX + name;
}

export { secretNamesOf } from '../core/auth';

/** In-memory copy of the referenced secrets, readable synchronously. */
export class SecretCache {
  private readonly values = new Map<string, string>();
  private generation = 0;
  private readonly changes = new Emitter<void>();

  constructor(private readonly store: SecretStore) {}

  /** Sync lookup for the proxy core (`SecretLookup`). */
  readonly lookup = (name: string): string | undefined => this.values.get(name);

  /** Fires after any value was loaded, changed or removed. */
  readonly onDidChange: Event<void> = this.changes.event;

  private changed(): void {
    this.changes.fire();
  }

  /** Names currently held (never the values). */
  get names(): string[] {
    return [...this.values.keys()].sort();
  }

  /** Loads exactly `names`, dropping values no longer referenced. */
  async load(names: readonly string[]): Promise<void> {
    const gen = ++this.generation;
    const loaded = await Promise.all(names.map(async (n) => [n, await this.store.get(secretKey(n))] as const));
    if (gen !== this.generation) return; // a newer load won
    this.values.clear();
    for (const [n, v] of loaded) if (v !== undefined && v !== '') this.values.set(n, v);
    this.changed();
  }

  /** Reacts to `SecretStorage.onDidChange`; returns true when the key is one of ours. */
  async refreshKey(key: string): Promise<boolean> {
    if (!key.startsWith(SECRET_KEY_PREFIX)) return false;
    const name = key.slice(SECRET_KEY_PREFIX.length);
    const v = await this.store.get(key);
    if (v === undefined || v === '') this.values.delete(name);
    else this.values.set(name, v);
    this.changed();
    return true;
  }

  /** Stores a value under `name` (and caches it at once, so the next request already uses it). */
  async set(name: string, value: string): Promise<void> {
    await this.store.store(secretKey(name), value);
    this.values.set(name, value);
    this.changed();
  }

  async remove(name: string): Promise<void> {
    await this.store.delete(secretKey(name));
    this.values.delete(name);
    this.changed();
  }
}
