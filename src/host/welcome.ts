// First run: a "Get Started" view whose welcome content (package.json `viewsWelcome`) says what to do when there is
// no config file yet or no proxy runs, the context keys those contents depend on, and the commands they link to
// (import the Codex / Claude Code providers into a new config.toml, open the walkthrough).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { runConfigCommand } from '../io/configCommands';
import type { Logger } from '../proxy/logger';
import { CMD, CONTEXT, EXTENSION_ID, VIEW_WELCOME, WALKTHROUGH_ID } from './constants';
import { setContextKey } from './contextKeys';
import type { ServiceStore } from './serviceStore';
import { t } from './l10n';
import { registerCommand } from './commands';

/** True when the config home holds a config file the proxy reads (config.toml, or the legacy config.json). */
export function hasConfigFile(home: string): boolean {
  return existsSync(join(home, 'config.toml')) || existsSync(join(home, 'config.json'));
}

/** An always-empty tree: VS Code shows the view's welcome content instead. */
class EmptyTree implements vscode.TreeDataProvider<never> {
  getTreeItem(): vscode.TreeItem {
    throw new Error('the welcome view has no items'); // l10n-ignore: never shown
  }
  getChildren(): never[] {
    return [];
  }
}

/** Registers the welcome view, keeps `codexHelper:noConfigFile` current and registers its commands. */
export function registerWelcome(deps: { home: () => string; store: ServiceStore; log: Logger }): vscode.Disposable {
  const update = () => setContextKey(CONTEXT.noConfigFile, !hasConfigFile(deps.home()));
  update();
  const off = deps.store.onDidChange(update);
  const view = vscode.window.createTreeView(VIEW_WELCOME, { treeDataProvider: new EmptyTree() });
  return vscode.Disposable.from(
    view,
    off,
    registerCommand(CMD.importConfig, async () => {
      const home = deps.home();
      const lines: string[] = [];
      const errors: string[] = [];
      const code = await runConfigCommand(['config', 'init'], {
        env: { ...process.env, CODEX_HELPER_HOME: home },
        out: (l) => lines.push(l),
        err: (l) => errors.push(l),
      });
      for (const l of lines) deps.log.info(`config init: ${l}`);
      if (code !== 0) {
        const msg = errors.join(' ') || 'config init failed'; // l10n-ignore: log line
        deps.log.error(`config init: ${msg}`);
        void vscode.window.showErrorMessage(t('Codex Helper: {0}', errors.join(' ') || t('config init failed')), t('Open Config File'))
          .then((a) => (a ? vscode.commands.executeCommand(CMD.openConfigFile) : undefined));
        return false;
      }
      update();
      await vscode.window.showTextDocument(vscode.Uri.file(join(home, 'config.toml')));
      const imported = lines.filter((l) => l.startsWith('imported')).join('; ');
      void vscode.window.showInformationMessage(imported ? t('Codex Helper: created config.toml ({0}).', imported) : t('Codex Helper: created config.toml.'));
      return true;
    }, deps.log),
    registerCommand(CMD.openWalkthrough, () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${WALKTHROUGH_ID}`, false), deps.log),
  );
}
