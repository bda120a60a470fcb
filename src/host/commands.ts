// The one way the extension registers a command: a single error boundary, so a failing command (a file it could not
// write, a proxy that went away) is logged with its stack and shown once, with the log one click away, instead of
// surfacing as VS Code's generic "command resulted in an error" or nothing at all. No `vscode` here (HostUi).
import type { Disposable } from '../core/events';
import type { Logger } from '../proxy/logger';
import { CMD } from './constants';
import { t } from './l10n';
import type { HostUi } from './ui';

/** What every command file gets: the UI seam and the log. */
export interface CommandDeps {
  ui: HostUi;
  log: Logger;
}

/** Registers `id`; `fn`'s result is returned to the caller, a throw becomes one log line and one notification. */
export function registerCommand(deps: CommandDeps, id: string, fn: (...args: never[]) => unknown): Disposable {
  const { ui, log } = deps;
  return ui.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await (fn as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // Log lines stay English.
      log.error(`command ${id} failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
      void ui.showErrorMessage(t('Codex Helper: {0}', message), t('Show Log'))
        .then((a) => (a ? ui.executeCommand(CMD.showLog) : undefined));
      return undefined;
    }
  });
}
