// Files the proxy owns hold routing choices, logs and sometimes credentials: its home and logs/ are created 0700
// and every file 0600. Writes go through a temp file with a unique name (two processes on one home must never
// write the same temp file) and a rename; a symlinked target is written through, never replaced by a plain file.
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Client config and credential files larger than this are not read (a 154 MB config.toml took ~1 GB to edit). */
export const MAX_CLIENT_FILE_BYTES = 4 * 1024 * 1024;

/** A file over the size cap; nothing was read. */
export class FileTooLargeError extends Error {
  readonly code = 'FILE_TOO_LARGE';
  constructor(readonly file: string, readonly size: number, readonly max: number) {
    super(`${file} is ${(size / 1024 / 1024).toFixed(1)} MB; files over ${max / 1024 / 1024} MB are not read`);
  }
}

/** Creates `dir` (and missing parents) readable by the user only. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Throws FileTooLargeError when `file` exists and is over `max` bytes. */
export function checkSize(file: string, max = MAX_CLIENT_FILE_BYTES): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return; // absent or unreadable: the read that follows reports it
  }
  if (size > max) throw new FileTooLargeError(file, size, max);
}

/** The file a write to `file` must replace: the end of its symlink chain (even a dangling one), else `file`. */
export function writeTarget(file: string): string {
  let cur = file;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!fs.lstatSync(cur).isSymbolicLink()) return cur;
      link = fs.readlinkSync(cur);
    } catch {
      return cur;
    }
    cur = path.resolve(path.dirname(cur), link);
  }
  throw Object.assign(new Error(`${file}: too many levels of symbolic links`), { code: 'ELOOP' });
}

/** A temp name next to `file` that no other process or call will pick. */
export function uniqueTempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Atomically replaces `file` (through its symlinks) with `data`. A new file gets `mode`; an existing one keeps its
 * own unless `keepMode` is false (the proxy's own files are always 0600). The temp file is removed on failure.
 */
export function writeFileAtomic(file: string, data: string | Buffer, o: { mode?: number; keepMode?: boolean } = {}): void {
  const target = writeTarget(file);
  const tmp = uniqueTempName(target);
  try {
    let mode = o.mode ?? PRIVATE_FILE_MODE;
    if (o.keepMode !== false) {
      try {
        mode = fs.statSync(target).mode & 0o777;
      } catch {
        // New file.
      }
    }
    fs.writeFileSync(tmp, data, { mode });
    // writeFileSync's mode is filtered by the umask; a kept mode must be exact.
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
