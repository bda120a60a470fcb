// Installs the translator behind `t()`: VS Code's own `vscode.l10n.t`, which reads l10n/bundle.l10n.<language>.json
// for the display language. CODEX_HELPER_L10N_BUNDLE (a bundle file) overrides it, so the UI suite can show a
// translation on a VS Code without that language pack.
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { bundleTranslator, useTranslator } from './l10n';
import type { L10nBundle } from './l10n';

/** Routes `t()` through vscode.l10n (or `bundleFile`, from CODEX_HELPER_L10N_BUNDLE); undone on dispose. */
export function registerTranslator(bundleFile: string | undefined): vscode.Disposable {
  const file = bundleFile;
  let bundle: L10nBundle | undefined;
  if (file) {
    try {
      bundle = JSON.parse(readFileSync(file, 'utf8')) as L10nBundle;
    } catch {
      // A broken override is a test set-up mistake: fall back to VS Code's own choice.
    }
  }
  // l10n-ignore: forwards every message as it is
  useTranslator(bundle ? bundleTranslator(bundle) : (message, ...args) => vscode.l10n.t(message, ...args));
  return new vscode.Disposable(() => useTranslator(undefined));
}
