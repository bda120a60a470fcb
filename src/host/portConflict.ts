// The one notification a port conflict gets: which actions to offer, and a free port to suggest.
import { createServer } from 'node:net';
import type { ServiceName } from '../core/types';
import { serviceTitle } from './treeModel';
import { t } from './l10n';

export type PortConflictAction = 'useAnotherPort' | 'attach' | 'showLog' | 'retry' | 'openConfig';

export interface PortConflictPrompt {
  message: string;
  actions: Array<{ action: PortConflictAction; title: string }>;
}

/** Message and actions for `service` failing to bind `port`; attaching is offered only when a codex-helper answers. */
export function portConflictPrompt(service: ServiceName, port: number, otherIsCodexHelper: boolean): PortConflictPrompt {
  const who = otherIsCodexHelper ? t('another codex-helper proxy is already running there') : t('another program uses it');
  // The first action is the primary button: attaching is the sensible fix when the holder is a codex-helper.
  const actions: PortConflictPrompt['actions'] = otherIsCodexHelper
    ? [{ action: 'attach', title: t('Attach to Running Proxy') }, { action: 'useAnotherPort', title: t('Use Another Port…') }]
    : [{ action: 'useAnotherPort', title: t('Use Another Port…') }];
  actions.push({ action: 'showLog', title: t('Show Log') });
  return { message: t('Codex Helper: the {0} proxy cannot listen on port {1}: {2}.', serviceTitle(service), port, who), actions };
}

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Validates a port typed by the user; returns the message to show, or undefined when valid. */
export function validatePortInput(text: string, taken: readonly number[]): string | undefined {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) return t('Enter a port number between 1 and 65535.');
  if (taken.includes(n)) return t('Port {0} is already used by the other service.', n);
  return undefined;
}

/** The fixes offered by the error status bar item of a listener that failed, best first. */
export function listenerFixes(code: string, port: number, otherIsCodexHelper: boolean): Array<{ action: PortConflictAction; label: string; detail: string }> {
  const out: Array<{ action: PortConflictAction; label: string; detail: string }> = [];
  if (code === 'EADDRINUSE' && otherIsCodexHelper) {
    out.push({ action: 'attach', label: t('$(plug) Attach to the running proxy'), detail: t('Use the codex-helper already listening on {0} through its admin API', port) });
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    out.push({ action: 'useAnotherPort', label: t('$(edit) Use another port…'), detail: t('Saves the port setting; reconnect the client afterwards') });
  }
  if (code === 'HOST_FAILED' || code.startsWith('CONFIG')) {
    out.push({ action: 'openConfig', label: t('$(go-to-file) Open the config file'), detail: t('The proxy could not load its config') });
  }
  out.push({ action: 'retry', label: t('$(debug-restart) Try again'), detail: t('Start listening on {0} again', port) });
  out.push({ action: 'showLog', label: t('$(output) Show log'), detail: t('The Codex Helper output channel') });
  return out;
}
