// HostUi over the real VS Code API: the only place the command files' window, command and settings calls meet
// `vscode`. Built once in extension.ts.
import * as vscode from 'vscode';
import { setContextKey } from './contextKeys';
import type { HostUi, PickLike, QuickPickOptions } from './ui';

/** A quick pick whose `active` item is preselected (showQuickPick cannot do that). */
function pickWithActive<T extends PickLike>(items: readonly T[], o: QuickPickOptions<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve) => {
    const qp = vscode.window.createQuickPick<T & vscode.QuickPickItem>();
    const { active, ...rest } = o;
    Object.assign(qp, rest, { items });
    if (active) qp.activeItems = [active as T & vscode.QuickPickItem];
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0]);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

/** The extension's HostUi; `channel` is its log. */
export function vscodeUi(channel: { show(): void }): HostUi {
  return {
    showInformationMessage: async (m, ...a) => vscode.window.showInformationMessage(m, ...a),
    showWarningMessage: async (m, ...a) => vscode.window.showWarningMessage(m, ...a),
    showErrorMessage: async (m, ...a) => vscode.window.showErrorMessage(m, ...a),
    showModalWarning: async (m, detail, ...a) => vscode.window.showWarningMessage(m, { modal: true, detail }, ...a),
    showQuickPick: async (items, o) => (o.active ? pickWithActive(items, o) : vscode.window.showQuickPick([...items], o)),
    showInputBox: async (o) => vscode.window.showInputBox(o),
    showSaveDialog: async (o) => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const target = await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, o.defaultName) : undefined,
        filters: o.filters,
        saveLabel: o.saveLabel,
      });
      return target && { path: target.fsPath, uri: target.toString() };
    },
    writeTextFile: async (target, text) => vscode.workspace.fs.writeFile(vscode.Uri.parse(target.uri, true), Buffer.from(text, 'utf8')),
    openUntitled: async (content, language) => {
      const doc = await vscode.workspace.openTextDocument({ language, content });
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    },
    withProgress: async (title, task) => vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) => task((message) => progress.report({ message }), token),
    ),
    setStatusBarMessage: (text, ms) => void vscode.window.setStatusBarMessage(text, ms),
    writeClipboard: async (text) => vscode.env.clipboard.writeText(text),
    openFile: async (path, line) => {
      const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
      await vscode.window.showTextDocument(vscode.Uri.file(path), line === undefined ? undefined : { selection: new vscode.Range(pos, pos) });
    },
    executeCommand: async (id, ...args) => vscode.commands.executeCommand(id, ...args),
    registerCommand: (id, handler) => vscode.commands.registerCommand(id, handler),
    setContext: setContextKey,
    showLog: () => channel.show(),
    userSetting: (section, key) => vscode.workspace.getConfiguration(section).inspect<unknown>(key)?.globalValue,
    updateUserSetting: async (section, key, value) =>
      vscode.workspace.getConfiguration(section).update(key, value, vscode.ConfigurationTarget.Global),
  };
}
