// The one notification a port conflict gets: which actions to offer, and a free port to suggest.
import { createServer } from 'node:net';
import type { ServiceName } from '../core/types';
import { serviceTitle } from './treeModel';

export type PortConflictAction = 'useAnotherPort' | 'attach' | 'showLog' | 'retry' | 'openConfig';

export interface PortConflictPrompt {
  message: string;
  actions: Array<{ action: PortConflictAction; title: string }>;
}

/** Message and actions for `service` failing to bind `port`; attaching is offered only when a codex-helper answers. */
export function portConflictPrompt(service: ServiceName, port: number, otherIsCodexHelper: boolean): PortConflictPrompt {
  const who = otherIsCodexHelper ? 'another codex-helper proxy is already running there' : 'another program uses it';
  // The first action is the primary button: attaching is the sensible fix when the holder is a codex-helper.
  const actions: PortConflictPrompt['actions'] = otherIsCodexHelper
    ? [{ action: 'attach', title: 'Attach to Running Proxy' }, { action: 'useAnotherPort', title: 'Use Another Port…' }]
    : [{ action: 'useAnotherPort', title: 'Use Another Port…' }];
  actions.push({ action: 'showLog', title: 'Show Log' });
  return { message: `Codex Helper: the ${serviceTitle(service)} proxy cannot listen on port ${port}: ${who}.`, actions };
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
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) return 'Enter a port number between 1 and 65535.';
  if (taken.includes(n)) return `Port ${n} is already used by the other service.`;
  return undefined;
}

/** The fixes offered by the error status bar item of a listener that failed, best first. */
export function listenerFixes(code: string, port: number, otherIsCodexHelper: boolean): Array<{ action: PortConflictAction; label: string; detail: string }> {
  const out: Array<{ action: PortConflictAction; label: string; detail: string }> = [];
  if (code === 'EADDRINUSE' && otherIsCodexHelper) {
    out.push({ action: 'attach', label: '$(plug) Attach to the running proxy', detail: `Use the codex-helper already listening on ${port} through its admin API` });
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    out.push({ action: 'useAnotherPort', label: '$(edit) Use another port…', detail: 'Saves the port setting; reconnect the client afterwards' });
  }
  if (code === 'HOST_FAILED' || code.startsWith('CONFIG')) {
    out.push({ action: 'openConfig', label: '$(go-to-file) Open the config file', detail: 'The proxy could not load its config' });
  }
  out.push({ action: 'retry', label: '$(debug-restart) Try again', detail: `Start listening on ${port} again` });
  out.push({ action: 'showLog', label: '$(output) Show log', detail: 'The Codex Helper output channel' });
  return out;
}
