// Reads the tail of a JSONL log (the usage replay of requests.jsonl at start-up).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { TailReader } from '../core/usageRollup';

/** The non-blank complete lines of the last `maxBytes` of `file`; undefined when it cannot be read or decoded. */
export function readTailLines(file: string, maxBytes: number): string[] | undefined {
  let buf: Buffer;
  let start: number;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    start = Math.max(0, size - maxBytes);
    buf = Buffer.allocUnsafe(size - start);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, start + off);
      if (n <= 0) break;
      off += n;
    }
    buf = buf.subarray(0, off);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  // Drop the partial first line at the byte level, so a cut multi-byte character cannot abort the replay.
  if (start > 0) {
    const nl = buf.indexOf(0x0a);
    buf = nl < 0 ? buf.subarray(buf.length) : buf.subarray(nl + 1);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return undefined;
  }
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A TailReader over `file` for the core's replay. */
export function tailOf(file: string): TailReader {
  return (maxBytes) => readTailLines(file, maxBytes);
}
