// The one way the extension registers a command: a single error boundary, so a failing command (a file it could not
// write, a proxy that went away) is logged with its stack and shown once, with the log one click away, instead of
// surfacing as VS Code's generic "command resulted in an error" or nothing at all.
import * as vscode from 'vscode';
import type { Logger } from '../proxy/logger';
import { CMD } from './constants';
import { t } from './l10n';

/** Registers `id`; `fn`'s result is returned to the caller, a throw becomes one log line and one notification. */
export function registerCommand(id: string, fn: (...args: never[]) => unknown, log: Logger): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await (fn as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // Log lines stay English.
      log.error(`command ${id} failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
      void vscode.window.showErrorMessage(t('Codex Helper: {0}', message), t('Show Log'))
        .then((a) => (a ? vscode.commands.executeCommand(CMD.showLog) : undefined));
      return undefined;
    }
  });
}
