// The one notification a port conflict gets: which actions to offer, and a free port to suggest.
import { createServer } from 'node:net';
import type { ServiceName } from '../core/types';
import { serviceTitle } from './treeModel';

export type PortConflictAction = 'useAnotherPort' | 'attach' | 'showLog';

export interface PortConflictPrompt {
  message: string;
  actions: Array<{ action: PortConflictAction; title: string }>;
}

/** Message and actions for `service` failing to bind `port`; attaching is offered only when a codex-helper answers. */
export function portConflictPrompt(service: ServiceName, port: number, otherIsCodexHelper: boolean): PortConflictPrompt {
  const who = otherIsCodexHelper ? 'another codex-helper proxy is already running there' : 'another program uses it';
  const actions: PortConflictPrompt['actions'] = [{ action: 'useAnotherPort', title: 'Use Another Port…' }];
  if (otherIsCodexHelper) actions.push({ action: 'attach', title: 'Attach to Running Proxy' });
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
