// What a request with a large body leaves behind is handed back as soon as the request is done. Its buffers (the
// body, a rewritten copy, the socket's read chunks) live outside V8's heap, and V8 frees them only when it collects
// the small objects that hold them. A request makes too few of those for the young generation to fill, so on its
// own V8 waits for its external-memory limit: up to 64 MB of dead buffers above the last full collection, and glibc
// keeps much of that resident afterwards. A young-generation collection on the next turn of the loop frees them at
// once, for 0.3-0.5 ms of the event loop (README, Performance). Small requests never trigger one. A body whose
// holder was promoted while in flight (a long stream under load) is out of its reach and waits as before.
// No `vscode` here.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A body from this size on is followed by a young-generation collection once its request is recorded. */
export const LARGE_BODY_BYTES = 128 * 1024;

type Collect = (options: { type: 'minor' }) => void;

/** V8's collector as a function: node's own when it runs with --expose-gc, else one from a fresh context. */
function lookUpCollector(): Collect | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as Collect;
  // The flag is read when a context is made: on for one context, then off again, so no other context (an
  // extension's, the proxy's own) gets a global `gc`.
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as Collect) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

let collect: Collect | undefined | null = null;
let scheduled = false;

/** Looked up at the first large body, so a proxy that never sees one does no work for it. */
function collector(): Collect | undefined {
  if (collect === null) collect = lookUpCollector();
  return collect;
}

/** True when this runtime lets the proxy ask for a young-generation collection. */
export function youngCollectionAvailable(): boolean {
  return collector() !== undefined;
}

/**
 * Called once a request is done (recorded, its run ended), with the size of its body: from `LARGE_BODY_BYTES` on, a
 * young-generation collection runs on the next turn of the loop (one for every request that ends in that turn).
 */
export function afterRequestBody(bytes: number): void {
  if (bytes < LARGE_BODY_BYTES || scheduled) return;
  const fn = collector();
  if (!fn) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    fn({ type: 'minor' });
  });
}
