// The seam between the command files and VS Code: the few `vscode.window` / `vscode.commands` / settings calls they
// make, as one small interface. `vscodeUi.ts` implements it over the real API (built once in extension.ts); unit
// tests hand the command files a scripted fake and run every branch in plain Node. No `vscode` here, and none in
// the command files: whatever else they need of VS Code comes through their deps.
import type { Disposable, Event } from '../core/events';

/** What a quick pick shows of an item (any object with a label). */
export interface PickLike {
  label: string;
  description?: string;
  detail?: string;
}

export interface QuickPickOptions<T> {
  title?: string;
  placeHolder?: string;
  matchOnDescription?: boolean;
  matchOnDetail?: boolean;
  /** The item shown first-selected (the choice in force now). */
  active?: T;
}

export interface InputBoxOptions {
  title?: string;
  value?: string;
  prompt?: string;
  password?: boolean;
  ignoreFocusOut?: boolean;
  /** An error text for an invalid value, undefined when it is fine. */
  validateInput?: (value: string) => string | undefined;
}

export interface SaveDialogOptions {
  /** The file name offered, in the first workspace folder when one is open. */
  defaultName: string;
  /** File type name → extensions without the dot, e.g. `{ CSV: ['csv'] }`. */
  filters: Record<string, string[]>;
  saveLabel: string;
}

/** A file the user chose in the save dialog: `path` to show, `uri` for `writeTextFile` (any file system). */
export interface SaveTarget {
  readonly path: string;
  readonly uri: string;
}

/** A running task's cancellation, as `withProgress` hands it over. */
export interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested: Event<void>;
}

export interface HostUi {
  /** Each resolves with the action the user clicked, undefined when dismissed. */
  showInformationMessage(message: string, ...actions: string[]): Promise<string | undefined>;
  showWarningMessage(message: string, ...actions: string[]): Promise<string | undefined>;
  showErrorMessage(message: string, ...actions: string[]): Promise<string | undefined>;
  /** A modal warning with a detail line (asks before something is changed). */
  showModalWarning(message: string, detail: string, ...actions: string[]): Promise<string | undefined>;
  /** Resolves with the picked item, undefined when the user cancels. */
  showQuickPick<T extends PickLike>(items: readonly T[], o: QuickPickOptions<T>): Promise<T | undefined>;
  /** Resolves with the text entered, undefined when the user cancels. */
  showInputBox(o: InputBoxOptions): Promise<string | undefined>;
  /** Runs `task` behind a cancellable notification progress titled `title`. */
  /** Resolves with the file chosen, undefined when the user cancels. */
  showSaveDialog(o: SaveDialogOptions): Promise<SaveTarget | undefined>;
  /** Writes `text` (UTF-8) to a file the save dialog returned; rejects when it cannot. */
  writeTextFile(target: SaveTarget, text: string): Promise<void>;
  /** Shows `content` in a new unsaved editor beside the active one (a preview). */
  openUntitled(content: string, language: string): Promise<void>;
  withProgress<R>(title: string, task: (report: (message: string) => void, token: CancelToken) => Promise<R>): Promise<R>;
  setStatusBarMessage(text: string, timeoutMs: number): void;
  writeClipboard(text: string): Promise<void>;
  /** Opens a file in an editor, the cursor on `line` (1-based) when given. */
  openFile(path: string, line?: number): Promise<void>;
  executeCommand(id: string, ...args: unknown[]): Promise<unknown>;
  /** Registers a raw command handler (the error boundary is `commands.ts` `registerCommand`). */
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable;
  /** Sets a `when`-clause context key. */
  setContext(key: string, value: boolean): void;
  /** Shows the extension's log (output channel). */
  showLog(): void;
  /** The user-level (global) value of a setting, as written in the user's settings.json. */
  userSetting(section: string, key: string): unknown;
  /** Writes a user-level (global) setting. */
  updateUserSetting(section: string, key: string, value: unknown): Promise<void>;
}
