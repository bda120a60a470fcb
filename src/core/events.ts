// The one event and unsubscribe shape of every layer: an `Emitter<T>` owns its listeners and exposes `event`, a
// subscription returns a `Disposable` (structurally a `vscode.Disposable`, so it goes straight into
// `context.subscriptions` or `vscode.Disposable.from`). No `vscode` here: core, io and proxy use it too.

/** Something to release: a subscription, a watcher, a registration. */
export interface Disposable {
  dispose(): void;
}

/** Subscribes `listener`; disposing the result unsubscribes it (twice is harmless). */
export type Event<T> = (listener: (e: T) => void) => Disposable;

/** Wraps a function as a Disposable that runs it at most once. */
export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/** One Disposable for many: disposes each once, in order, even when an earlier one throws (then rethrows it). */
export function combineDisposables(...items: ReadonlyArray<Disposable | undefined>): Disposable {
  return toDisposable(() => {
    let first: unknown;
    let failed = false;
    for (const d of items) {
      try {
        d?.dispose();
      } catch (e) {
        if (!failed) first = e;
        failed = true;
      }
    }
    if (failed) throw first;
  });
}

/** An event that never fires (for sources that have nothing to report). */
export const NONE: Event<never> = () => toDisposable(() => undefined);

interface Entry<T> {
  readonly fn: (e: T) => void;
  live: boolean;
}

export interface EmitterOptions {
  /** Told about a listener that threw; the other listeners are called all the same. Default: ignored. */
  onListenerError?: (error: unknown) => void;
}

/**
 * Owns a list of listeners. `fire` calls each one; a throwing listener never stops the others or the caller (the
 * request path fires these). The list is copy-on-write so firing never copies it; a listener removed while an event
 * is being delivered is not called for it, one added then gets the next event.
 */
export class Emitter<T> {
  private entries: ReadonlyArray<Entry<T>> = [];
  private disposed = false;

  constructor(private readonly opts: EmitterOptions = {}) {}

  /** Subscribes a listener; subscribing to a disposed emitter is a no-op. */
  readonly event: Event<T> = (fn) => {
    if (this.disposed) return toDisposable(() => undefined);
    const entry: Entry<T> = { fn, live: true };
    this.entries = [...this.entries, entry];
    return toDisposable(() => {
      if (!entry.live) return;
      entry.live = false;
      this.entries = this.entries.filter((x) => x !== entry);
    });
  };

  /** True while anyone listens (lets a hot path skip building an event nobody reads). */
  get hasListeners(): boolean {
    return this.entries.length > 0;
  }

  fire(e: T): void {
    const list = this.entries;
    for (const entry of list) {
      if (!entry.live) continue;
      try {
        entry.fn(e);
      } catch (err) {
        try {
          this.opts.onListenerError?.(err);
        } catch {
          // The error reporter itself failing must not break delivery either.
        }
      }
    }
  }

  /** Drops every listener (an event being delivered stops at once); later subscriptions are ignored. */
  dispose(): void {
    this.disposed = true;
    for (const entry of this.entries) entry.live = false;
    this.entries = [];
  }
}
