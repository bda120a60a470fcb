// Entry of the proxy worker thread (dist/proxyWorker.js): the same ProxyHost the CLI runs, on its own event loop,
// so a busy or blocked extension host never delays a proxied stream. It speaks only workerProtocol.ts.
import { readEnvOptions } from '../core/envOptions';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { secretNamesOf } from '../core/auth';
import type { ServiceName } from '../core/types';
import { SERVICE_NAMES } from '../core/types';
import { HealthChecker } from './healthcheck';
import type { Logger, LogLevel } from './logger';
import { ProxyHost } from './proxyHost';
import { toWire } from './workerProtocol';
import type { HostToWorker, WorkerCalls, WorkerInit, WorkerOp, WorkerToHost } from './workerProtocol';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };
/** How long a dying worker may spend writing its last records before it exits. */
const LAST_FLUSH_MS = 1000;

/** Runs the worker side of the channel on `port` until the host disposes it or an uncaught error ends it. */
export function runWorker(port: MessagePort, init: WorkerInit): void {
  const post = (m: WorkerToHost) => port.postMessage(m);
  let level = ORDER[init.logLevel];
  // Lines below the host's level never cross the channel: the host thread pays nothing for debug chatter.
  const at = (l: Exclude<LogLevel, 'off'>) => (msg: string) => {
    if (ORDER[l] >= level) post({ type: 'log', level: l, msg });
  };
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const secrets = new Map<string, string>();

  let host: ProxyHost;
  try {
    host = new ProxyHost({
      home: init.home,
      codexHome: init.codexHome,
      claudeHome: init.claudeHome,
      env: init.env,
      // The worker is the proxy's entry point in the extension: the knobs are read once, here.
      envOptions: readEnvOptions(init.env),
      log,
      secrets: (name) => secrets.get(name),
      requestLog: init.requestLog,
      healthChecks: new HealthChecker(init.env, log),
      trackInFlight: true,
    });
  } catch (e) {
    post({ type: 'initFailed', error: toWire(e, 'HOST_FAILED') });
    port.close();
    return;
  }
  for (const s of SERVICE_NAMES) host.services[s].replayUsage();

  const dirty = new Set<ServiceName>();
  let flush: NodeJS.Timeout | undefined;
  const changed = (s: ServiceName) => {
    dirty.add(s);
    flush ??= setTimeout(() => {
      flush = undefined;
      post({ type: 'changed', services: [...dirty] });
      dirty.clear();
    }, init.changeWindowMs ?? 50);
  };
  for (const s of SERVICE_NAMES) host.onDidChange(s, () => changed(s));
  host.runtime.onDidReload((loaded) => post({ type: 'reloaded', secretNames: secretNamesOf(loaded.config) }));

  const calls: { [K in WorkerOp]: (args: WorkerCalls[K]['args']) => Promise<WorkerCalls[K]['result']> | WorkerCalls[K]['result'] } = {
    listen: (a) => host.listen(a.service, a.options),
    stop: async (a) => {
      await host.stop(a.service, a.graceMs);
      return null;
    },
    dispose: async (a) => {
      await host.dispose(a.graceMs);
      if (flush) clearTimeout(flush);
      // Replied first, then the port closes and the thread ends on its own (nothing left on its loop).
      setImmediate(() => port.close());
      return null;
    },
    reload: (): WorkerCalls['reload']['result'] => {
      const r = host.forceReload();
      return r.error ? { reloaded: false, error: { message: r.error.message } } : { reloaded: r.reloaded };
    },
  };

  let dying = false;
  const die = (e: unknown) => {
    if (dying) return;
    dying = true;
    const error = toWire(e, 'WORKER_CRASHED');
    log.error(`proxy worker: uncaught error: ${(e as Error)?.stack ?? error.message}`);
    void host.failInFlight('the proxy hit an internal error and is restarting; retry the request').then(async (inFlight) => {
      // The records of what was answered (and the log lines the batch still held) go to disk first, within a bound.
      await Promise.race([host.flushLogs().catch(() => undefined), new Promise((r) => setTimeout(r, LAST_FLUSH_MS))]);
      post({ type: 'fatal', error, inFlight });
      process.exit(1);
    });
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);

  port.on('message', (m: HostToWorker) => {
    switch (m.type) {
      case 'secrets':
        secrets.clear();
        for (const [k, v] of Object.entries(m.values)) secrets.set(k, v);
        return;
      case 'logLevel':
        level = ORDER[m.level];
        return;
      case 'crash':
        setImmediate(() => {
          throw new Error(m.message);
        });
        return;
      case 'call': {
        const fn = calls[m.op] as (a: unknown) => unknown;
        Promise.resolve()
          .then(() => fn(m.args))
          .then(
            (result) => post({ type: 'reply', id: m.id, ok: true, result: result ?? null }),
            (e: unknown) => post({ type: 'reply', id: m.id, ok: false, error: toWire(e, 'CALL_FAILED') }),
          );
        return;
      }
    }
  });
  post({ type: 'ready', secretNames: secretNamesOf(host.runtime.loaded.config) });
}

if (parentPort) runWorker(parentPort, workerData as WorkerInit);
