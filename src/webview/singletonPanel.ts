// The part every webview panel of the extension shares: at most one panel per view type, a command that shows it
// (revealing the open one), and a serializer that restores it after a window reload.
import * as vscode from 'vscode';
import { registerCommand } from '../host/commands';
import type { Logger } from '../proxy/logger';
import type { HostUi } from '../host/ui';

/** Scripts on, and nothing loadable but `media/`. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}

/** What the helper needs of a panel's controller. */
export interface PanelView {
  reveal(): void;
  dispose(): void;
}

/** Registers `command` (show or reveal the one panel) and the serializer of `viewType`. */
export function registerSingletonPanel<S>(o: {
  command: string;
  viewType: string;
  title: () => string;
  extensionUri: vscode.Uri;
  log: Logger;
  ui: HostUi;
  /** State of a panel opened by the command. */
  initialState: () => S;
  /** State of a panel restored after a reload, from what its page saved (validated by the caller). */
  restoredState: (saved: unknown) => S;
  /** Builds the controller; it calls `onDisposed` when its panel goes away. */
  create: (panel: vscode.WebviewPanel, state: S, onDisposed: () => void) => PanelView;
}): vscode.Disposable {
  let current: PanelView | undefined;
  const attach = (panel: vscode.WebviewPanel, state: S): void => {
    current?.dispose();
    const view: PanelView = o.create(panel, state, () => {
      if (current === view) current = undefined;
    });
    current = view;
  };
  const command = registerCommand(o, o.command, () => {
    if (current) {
      current.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(o.viewType, o.title(), vscode.ViewColumn.Active, {
      ...webviewOptions(o.extensionUri),
      retainContextWhenHidden: false,
    });
    attach(panel, o.initialState());
  });
  const serializer = vscode.window.registerWebviewPanelSerializer(o.viewType, {
    deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: unknown): Thenable<void> {
      attach(panel, o.restoredState(saved));
      return Promise.resolve();
    },
  });
  return vscode.Disposable.from(command, serializer, { dispose: () => current?.dispose() });
}
