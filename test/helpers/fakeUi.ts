// A scripted HostUi for plain-node tests of the command files: it records what the user was shown and answers with
// what the test queued (a click, a pick, a typed value), the way a user at VS Code would. Only the VS Code boundary
// is faked; the commands run against real proxies, admin APIs and files.
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Emitter, toDisposable } from '../../src/core/events';
import type { Disposable } from '../../src/core/events';
import type { CancelToken, HostUi, InputBoxOptions, PickLike, QuickPickOptions, SaveDialogOptions, SaveTarget } from '../../src/host/ui';

export type MessageKind = 'info' | 'warning' | 'error' | 'modal';

export interface Shown {
  kind: MessageKind;
  message: string;
  actions: string[];
  detail?: string;
}

export interface Picked {
  items: PickLike[];
  o: QuickPickOptions<PickLike>;
}

/** Chooses from a quick pick: an item, or undefined (Escape). */
export type PickAnswer = (items: PickLike[], o: QuickPickOptions<PickLike>) => PickLike | undefined;

export class FakeUi implements HostUi {
  readonly shown: Shown[] = [];
  readonly picks: Picked[] = [];
  readonly inputs: InputBoxOptions[] = [];
  /** What `validateInput` said about a typed value that VS Code would not have accepted. */
  readonly rejected: string[] = [];
  readonly executed: Array<{ id: string; args: unknown[] }> = [];
  readonly opened: Array<{ path: string; line?: number }> = [];
  readonly statusMessages: string[] = [];
  readonly progress: string[] = [];
  readonly saveDialogs: SaveDialogOptions[] = [];
  /** The unsaved editors opened (`openUntitled`). */
  readonly untitled: Array<{ content: string; language: string }> = [];
  readonly context = new Map<string, boolean>();
  readonly userSettings = new Map<string, unknown>();
  readonly commands = new Map<string, (...args: unknown[]) => unknown>();
  clipboard = '';
  logShown = 0;
  /** Cancels the next `withProgress` task once it has started. */
  cancelProgress = false;
  private readonly clicks: Array<string | undefined> = [];
  private readonly pickAnswers: PickAnswer[] = [];
  private readonly typed: Array<string | undefined> = [];
  private readonly savePaths: Array<string | undefined> = [];

  /** Queues the action the user clicks on the next message that offers actions (undefined: dismissed). */
  click(action: string | undefined): this {
    this.clicks.push(action);
    return this;
  }

  /** Queues the answer to the next quick pick: a label (the item whose label contains it), a chooser, or undefined. */
  pick(answer: string | PickAnswer | undefined): this {
    this.pickAnswers.push(typeof answer === 'function' ? answer
      : answer === undefined ? () => undefined
        : (items) => {
          const hit = items.find((i) => i.label.includes(answer));
          if (!hit) throw new Error(`no quick pick item '${answer}' in ${items.map((i) => i.label).join(' | ')}`);
          return hit;
        });
    return this;
  }

  /** Queues what the user types into the next input box (undefined: Escape). */
  type(value: string | undefined): this {
    this.typed.push(value);
    return this;
  }

  /** Queues the file chosen in the next save dialog (undefined: cancelled); `writeTextFile` really writes it. */
  saveAs(path: string | undefined): this {
    this.savePaths.push(path);
    return this;
  }

  /** Runs a registered command as VS Code would (through its error boundary). */
  async run(id: string, ...args: unknown[]): Promise<unknown> {
    const fn = this.commands.get(id);
    if (!fn) throw new Error(`command ${id} is not registered`);
    return fn(...args);
  }

  /** The messages of one kind, text only. */
  messages(kind?: MessageKind): string[] {
    return this.shown.filter((s) => kind === undefined || s.kind === kind).map((s) => s.message);
  }

  private message(kind: MessageKind, message: string, actions: string[], detail?: string): Promise<string | undefined> {
    this.shown.push({ kind, message, actions, ...(detail === undefined ? {} : { detail }) });
    if (actions.length === 0) return Promise.resolve(undefined);
    const a = this.clicks.shift();
    if (a !== undefined && !actions.includes(a)) throw new Error(`'${a}' is not one of the actions ${actions.join(', ')} of: ${message}`);
    return Promise.resolve(a);
  }

  showInformationMessage(message: string, ...actions: string[]) {
    return this.message('info', message, actions);
  }
  showWarningMessage(message: string, ...actions: string[]) {
    return this.message('warning', message, actions);
  }
  showErrorMessage(message: string, ...actions: string[]) {
    return this.message('error', message, actions);
  }
  showModalWarning(message: string, detail: string, ...actions: string[]) {
    return this.message('modal', message, actions, detail);
  }

  async showQuickPick<T extends PickLike>(items: readonly T[], o: QuickPickOptions<T>): Promise<T | undefined> {
    this.picks.push({ items: [...items], o: o as QuickPickOptions<PickLike> });
    const answer = this.pickAnswers.shift();
    if (!answer) throw new Error(`unexpected quick pick: ${o.title ?? ''}`);
    return answer([...items], o as QuickPickOptions<PickLike>) as T | undefined;
  }

  async showInputBox(o: InputBoxOptions): Promise<string | undefined> {
    this.inputs.push(o);
    if (this.typed.length === 0) throw new Error(`unexpected input box: ${o.title ?? ''}`);
    const v = this.typed.shift();
    if (v === undefined) return undefined;
    const problem = o.validateInput?.(v);
    if (problem) {
      // VS Code keeps the box open with the problem shown; the user gives up.
      this.rejected.push(problem);
      return undefined;
    }
    return v;
  }

  async showSaveDialog(o: SaveDialogOptions): Promise<SaveTarget | undefined> {
    this.saveDialogs.push(o);
    if (this.savePaths.length === 0) throw new Error(`unexpected save dialog: ${o.saveLabel}`);
    const path = this.savePaths.shift();
    return path === undefined ? undefined : { path, uri: pathToFileURL(path).href };
  }

  async writeTextFile(target: SaveTarget, text: string): Promise<void> {
    await writeFile(target.path, text, 'utf8');
  }

  async openUntitled(content: string, language: string): Promise<void> {
    this.untitled.push({ content, language });
  }

  async withProgress<R>(_title: string, task: (report: (message: string) => void, token: CancelToken) => Promise<R>): Promise<R> {
    const cancel = new Emitter<void>();
    let canceled = false;
    const token: CancelToken = { get isCancellationRequested() { return canceled; }, onCancellationRequested: cancel.event };
    if (this.cancelProgress) {
      this.cancelProgress = false;
      setImmediate(() => {
        canceled = true;
        cancel.fire();
      });
    }
    return task((m) => this.progress.push(m), token);
  }

  setStatusBarMessage(text: string): void {
    this.statusMessages.push(text);
  }

  async writeClipboard(text: string): Promise<void> {
    this.clipboard = text;
  }

  async openFile(path: string, line?: number): Promise<void> {
    this.opened.push({ path, ...(line === undefined ? {} : { line }) });
  }

  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    this.executed.push({ id, args });
    return undefined;
  }

  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (this.commands.has(id)) throw new Error(`command ${id} already registered`);
    this.commands.set(id, handler);
    return toDisposable(() => this.commands.delete(id));
  }

  setContext(key: string, value: boolean): void {
    this.context.set(key, value);
  }

  showLog(): void {
    this.logShown++;
  }

  userSetting(section: string, key: string): unknown {
    return this.userSettings.get(`${section}.${key}`);
  }

  async updateUserSetting(section: string, key: string, value: unknown): Promise<void> {
    if (value === undefined) this.userSettings.delete(`${section}.${key}`);
    else this.userSettings.set(`${section}.${key}`, value);
  }
}

/** Waits for the promises a command left running (fire-and-forget message follow-ups). */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
