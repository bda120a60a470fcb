// Sets `when`-clause context keys and remembers the values set, so the extension-host tests can read what the
// welcome view and the menus depend on (VS Code has no API to read a context key back).
import * as vscode from 'vscode';

const values = new Map<string, boolean>();

/** Sets a context key (skipped when unchanged). */
export function setContextKey(key: string, value: boolean): void {
  if (values.get(key) === value) return;
  values.set(key, value);
  void vscode.commands.executeCommand('setContext', key, value);
}

/** The value last set for `key`. */
export function contextKey(key: string): boolean | undefined {
  return values.get(key);
}
