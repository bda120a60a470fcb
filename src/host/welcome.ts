// First run: the context key the "Get Started" view's welcome content (package.json `viewsWelcome`) depends on —
// no config file yet — and the commands it links to (import the Codex / Claude Code providers into a new
// config.toml, open the walkthrough). The view itself is welcomeView.ts. No `vscode` here (HostUi).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/envOptions';
import { combineDisposables } from '../core/events';
import type { Disposable } from '../core/events';
import { runConfigCommand } from '../io/configCommands';
import { CMD, CONTEXT, EXTENSION_ID, WALKTHROUGH_ID } from './constants';
import type { ServiceStore } from './serviceStore';
import { t } from './l10n';
import { registerCommand } from './commands';
import type { CommandDeps } from './commands';

/** True when the config home holds a config file the proxy reads (config.toml, or the legacy config.json). */
export function hasConfigFile(home: string): boolean {
  return existsSync(join(home, 'config.toml')) || existsSync(join(home, 'config.json'));
}

export interface WelcomeDeps extends CommandDeps {
  /** The config home in force now. */
  home: () => string;
  store: ServiceStore;
  /** The environment `config init` runs with (read once by extension.ts). */
  env: EnvSnapshot;
}

/** Keeps `codexHelper:noConfigFile` current and registers Import Config and Open Walkthrough. */
export function registerWelcome(deps: WelcomeDeps): Disposable {
  const { ui } = deps;
  const update = () => ui.setContext(CONTEXT.noConfigFile, !hasConfigFile(deps.home()));
  update();
  return combineDisposables(
    deps.store.onDidChange(update),
    registerCommand(deps, CMD.importConfig, async () => {
      const home = deps.home();
      const lines: string[] = [];
      const errors: string[] = [];
      const code = await runConfigCommand(['config', 'init'], {
        env: { ...deps.env, CODEX_HELPER_HOME: home },
        out: (l) => lines.push(l),
        err: (l) => errors.push(l),
      });
      for (const l of lines) deps.log.info(`config init: ${l}`);
      if (code !== 0) {
        const msg = errors.join(' ') || 'config init failed'; // l10n-ignore: log line
        deps.log.error(`config init: ${msg}`);
        void ui.showErrorMessage(t('Codex Helper: {0}', errors.join(' ') || t('config init failed')), t('Open Config File'))
          .then((a) => (a ? ui.executeCommand(CMD.openConfigFile) : undefined));
        return false;
      }
      update();
      await ui.openFile(join(home, 'config.toml'));
      const imported = lines.filter((l) => l.startsWith('imported')).join('; ');
      void ui.showInformationMessage(imported ? t('Codex Helper: created config.toml ({0}).', imported) : t('Codex Helper: created config.toml.'));
      return true;
    }),
    registerCommand(deps, CMD.openWalkthrough, () =>
      ui.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${WALKTHROUGH_ID}`, false)),
  );
}
