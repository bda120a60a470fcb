// Reads the typed settings snapshot from VS Code (workspace trust decides which workspace values count).
import * as vscode from 'vscode';
import { SETTINGS_SECTION } from './constants';
import { readSettings } from './settings';
import type { SettingsRead } from './settings';

/** Current `codexHelper.*` settings; workspace values of restricted keys are ignored while untrusted. */
export function readHostSettings(): SettingsRead {
  const cfg = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return readSettings((key) => cfg.inspect(key), vscode.workspace.isTrusted);
}

/** Calls `listener` when any `codexHelper.*` setting or the workspace trust changes. */
export function onDidChangeHostSettings(listener: () => void): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SETTINGS_SECTION)) listener();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(listener),
  );
}
