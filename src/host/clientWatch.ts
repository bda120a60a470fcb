// Keeps the client nodes of the tree current when a client's own file or the Claude Code extension's setting changes
// outside the extension (by hand, by `codex-helper switch`), and reads that setting for the store.
import * as vscode from 'vscode';
import type { ClientHomes } from './clientCommands';
import { envVarOf } from './clientEnv';
import { CLAUDE_ENV_SETTING, CLAUDE_SECTION } from './constants';
import type { ServiceStore } from './serviceStore';

/** ANTHROPIC_BASE_URL in the user's `claudeCode.environmentVariables` (the Claude Code extension for VS Code). */
export function claudeExtensionBaseUrl(): string | undefined {
  return envVarOf(vscode.workspace.getConfiguration(CLAUDE_SECTION).inspect<unknown>(CLAUDE_ENV_SETTING)?.globalValue, 'ANTHROPIC_BASE_URL');
}

/** Watches Codex's config.toml, Claude Code's settings.json and `claudeCode.environmentVariables`. */
export function registerClientWatchers(deps: { homes: ClientHomes; store: ServiceStore }): vscode.Disposable {
  const poke = () => void deps.store.refreshAll();
  const watchers = [
    [deps.homes.codex, 'config.toml'],
    [deps.homes.claude, 'settings.json'],
  ].map(([dir, name]) => {
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir!), name!));
    w.onDidChange(poke);
    w.onDidCreate(poke);
    w.onDidDelete(poke);
    return w;
  });
  const onClaudeSetting = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(`${CLAUDE_SECTION}.${CLAUDE_ENV_SETTING}`)) poke();
  });
  return vscode.Disposable.from(...watchers, onClaudeSetting);
}
