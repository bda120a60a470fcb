// Reads the typed settings snapshot from VS Code (workspace trust decides which workspace values count).
import * as vscode from 'vscode';
import { Emitter } from '../core/events';
import type { Event } from '../core/events';
import { SETTINGS_SECTION } from './constants';
import { readSettings } from './settings';
import type { HostSettings, SettingsRead, SettingsSource, SettingsUpdate } from './settings';

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

/** The current settings plus change notifications with the previous value; invalid values are logged once. */
export class SettingsState implements SettingsSource, vscode.Disposable {
  private value: SettingsRead;
  private readonly changes = new Emitter<SettingsUpdate>();
  private readonly sub: vscode.Disposable;
  private reported = new Set<string>();

  constructor(private readonly report: (problem: string) => void) {
    this.value = readHostSettings();
    this.sub = onDidChangeHostSettings(() => this.reread());
  }

  get current(): HostSettings {
    return this.value.settings;
  }

  /** Reports problems of the current settings (once each); call after the logger exists. */
  reportProblems(): void {
    const now = new Set(this.value.problems);
    for (const p of now) if (!this.reported.has(p)) this.report(p);
    this.reported = now;
  }

  /** Fires with the previous and the new settings after any change. */
  readonly onDidChange: Event<SettingsUpdate> = this.changes.event;

  private reread(): void {
    const prev = this.value.settings;
    this.value = readHostSettings();
    this.reportProblems();
    this.changes.fire({ prev, next: this.value.settings });
  }

  dispose(): void {
    this.sub.dispose();
    this.changes.dispose();
  }
}
