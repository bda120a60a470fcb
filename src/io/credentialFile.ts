// The client's own credential file (Codex `auth.json`, Claude `settings.json` env), the last fallback of
// src/core/auth.ts. A broken or half-written file counts as empty until it changes again.
import { join } from 'node:path';
import type { CredentialLookup } from '../core/auth';
import type { ServiceName } from '../core/types';
import { MAX_CLIENT_FILE_BYTES } from './privateFiles';
import { WatchedFile } from './watchedFile';

type Values = Record<string, unknown>;
const EMPTY: Values = Object.freeze({}) as Values;

/** Values read from the client's credential file, re-read when it changes (checked at most every 800 ms). */
export class CredentialFile implements CredentialLookup {
  private readonly file: WatchedFile<Values>;

  constructor(
    readonly path: string,
    pick: (json: unknown) => Values,
    checkIntervalMs = 800,
    now: () => number = Date.now,
  ) {
    this.file = new WatchedFile<Values>(path, {
      parse: (text) => (text.trim() === '' ? EMPTY : pick(JSON.parse(text))),
      missing: () => EMPTY,
      onInvalid: () => EMPTY,
      // A huge file is not a credential file: reading it on the request path would stall every request.
      maxBytes: MAX_CLIENT_FILE_BYTES,
      checkIntervalMs,
      now,
    });
  }

  /** Returns the non-blank string value named `name`, if the file has one. */
  get(name: string): string | undefined {
    const v = this.file.value[name];
    return typeof v === 'string' && v.trim() !== '' ? v : undefined;
  }
}

function asRecord(v: unknown): Values {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Values) : {};
}

/** The credential file a service falls back to: Codex `auth.json` (top level), Claude `settings.json` (`env`). */
export function credentialFileFor(service: ServiceName, codexHome: string, claudeHome: string): CredentialFile {
  if (service === 'codex') return new CredentialFile(join(codexHome, 'auth.json'), asRecord);
  return new CredentialFile(join(claudeHome, 'settings.json'), (j) => asRecord(asRecord(j)['env']));
}
