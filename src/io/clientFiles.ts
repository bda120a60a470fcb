// File I/O for client config switching, and its error type: reads that tell "absent" from "unreadable", backups that
// never clobber, and atomic writes that keep the file's permissions. Every I/O failure here is a ClientConfigError
// with code CLIENT_CONFIG_IO, so callers report one kind of error whatever step failed. Files over 4 MB are refused
// (CLIENT_CONFIG_INVALID) before they are read, and a symlinked config is written through to its target.
import * as fs from 'node:fs';
import { checkSize, FileTooLargeError, writeFileAtomic } from './privateFiles';

export type ClientConfigErrorCode = 'CLIENT_CONFIG_INVALID' | 'CLIENT_CONFIG_UNSUPPORTED' | 'CLIENT_CONFIG_IO';

/** A client config file that cannot be read, parsed or safely edited; nothing was written. */
export class ClientConfigError extends Error {
  override readonly name = 'ClientConfigError';
  constructor(
    readonly code: ClientConfigErrorCode,
    readonly file: string,
    message: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The file's text, or undefined when it does not exist. */
export function readText(file: string): string | undefined {
  try {
    checkSize(file);
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof FileTooLargeError) {
      throw new ClientConfigError('CLIENT_CONFIG_INVALID', file, `${err.message} (is it really a client config?); nothing was changed`);
    }
    throw new ClientConfigError('CLIENT_CONFIG_IO', file, `cannot read ${file}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

/** Copies `file` to `backup` (or writes `sentinel` when `file` is absent); refuses to overwrite unless `replace`. */
export function writeBackup(file: string, backup: string, current: string | undefined, sentinel: string, replace = false): void {
  try {
    if (current === undefined) atomicWrite(backup, sentinel);
    // copyFile keeps the original's permissions (settings.json may hold tokens).
    else fs.copyFileSync(file, backup, replace ? 0 : fs.constants.COPYFILE_EXCL);
  } catch (err) {
    if (err instanceof ClientConfigError) throw err;
    throw new ClientConfigError('CLIENT_CONFIG_IO', backup, `cannot write ${backup}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

/** Writes `after` only when it differs from `before`. */
export function writeIfChanged(file: string, before: string, after: string): void {
  if (after !== before) atomicWrite(file, after);
}

/**
 * Write through a temp file + rename so a crash never leaves a half-written client config. A symlinked config (a
 * dotfiles repository) is written through to its target, so the link survives; a new file is created 0600.
 */
export function atomicWrite(file: string, data: string | Buffer): void {
  try {
    writeFileAtomic(file, data);
  } catch (err) {
    throw new ClientConfigError('CLIENT_CONFIG_IO', file, `cannot write ${file}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}
