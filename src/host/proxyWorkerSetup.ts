// How the extension builds its proxy: a worker thread (ProxyWorkerClient) with this window's config home, the
// secrets it names, the log level it should forward, and one notification the first time it crashes. No `vscode`
// here: the environment comes from extension.ts, the notification goes through HostUi.
import { join } from 'node:path';
import type { HostEnv } from '../core/envOptions';
import type { Disposable } from '../core/events';
import type { Logger } from '../proxy/logger';
import { configHome } from './proxyLifecycle';
import { startProxyWorker } from './proxyWorkerClient';
import type { ProxyWorkerClient, WorkerSecrets } from './proxyWorkerClient';
import type { SettingsSource } from './settings';
import type { HostUi } from './ui';
import { t } from './l10n';

export interface WorkerSetupDeps {
  extensionPath: string;
  settings: SettingsSource;
  secrets: WorkerSecrets;
  log: Logger;
  ui: HostUi;
  env: HostEnv;
}

/** The `createHost` of the extension's ProxyController. */
export function proxyWorkerFactory(deps: WorkerSetupDeps): () => Promise<ProxyWorkerClient> {
  const { settings, log, ui, env } = deps;
  let shown = false;
  return () => startProxyWorker({
    script: join(deps.extensionPath, 'dist', 'proxyWorker.js'),
    init: {
      home: configHome(settings, env.helperHome),
      codexHome: env.codexHome,
      claudeHome: env.claudeHome,
      env: { ...env.snapshot },
      logLevel: settings.current.logLevel,
    },
    log,
    secrets: deps.secrets,
    onCrash: (error, willRestart) => {
      // Shown once per window: a crash loop must not become a stream of notifications (the log has each one).
      if (shown && willRestart) return;
      shown = true;
      const msg = willRestart
        ? t('Codex Helper: the proxy crashed and was restarted on the same ports ({0}). Requests in flight failed; new ones work.', error.message)
        : t('Codex Helper: the proxy keeps crashing and was stopped ({0}). Use "Start Proxy" to try again.', error.message);
      void ui.showErrorMessage(msg, t('Show Log')).then((a) => (a ? ui.showLog() : undefined), () => undefined);
    },
  });
}

/** Keeps the worker's log level equal to `codexHelper.log.level`, so lines we would drop never cross threads. */
export function bindWorkerLogLevel(settings: SettingsSource, client: ProxyWorkerClient): Disposable {
  return settings.onDidChange(({ prev, next }) => {
    if (prev.logLevel !== next.logLevel) client.setLogLevel(next.logLevel);
  });
}
