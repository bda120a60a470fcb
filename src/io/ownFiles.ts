// The proxy's own small JSON files (runtime-state.json, models-cache.<service>.json, usage_providers.json): read
// whole, written atomically and private (0600 in a 0700 home), never half-written.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE, writeFileAtomic } from './privateFiles';

/** The file's text; throws when it is absent or unreadable. */
export function readOwnFile(file: string): string {
  return readFileSync(file, 'utf8');
}

/** Replaces `file` with `text` atomically (0600, its folder created 0700). Throws on failure. */
export function writeOwnFile(file: string, text: string): void {
  ensurePrivateDir(dirname(file));
  writeFileAtomic(file, text, { keepMode: false });
}

/** Creates `file` with `text` only if it does not exist yet (never clobbers); false when it already existed. */
export function createOwnFile(file: string, text: string): boolean {
  ensurePrivateDir(dirname(file));
  try {
    writeFileSync(file, text, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}
