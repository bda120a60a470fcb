// The "Get Started" view itself: an always-empty tree, so VS Code shows the view's welcome content
// (package.json `viewsWelcome`) instead. Its context key and commands are welcome.ts.
import * as vscode from 'vscode';
import { VIEW_WELCOME } from './constants';

/** An always-empty tree: VS Code shows the view's welcome content instead. */
class EmptyTree implements vscode.TreeDataProvider<never> {
  getTreeItem(): vscode.TreeItem {
    throw new Error('the welcome view has no items'); // l10n-ignore: never shown
  }
  getChildren(): never[] {
    return [];
  }
}

/** Registers the welcome view. */
export function registerWelcomeView(): vscode.Disposable {
  return vscode.window.createTreeView(VIEW_WELCOME, { treeDataProvider: new EmptyTree() });
}
