// The part every webview panel of the extension shares: at most one panel per view type, a command that shows it
// (revealing the open one), a serializer that restores it after a window reload, and the wiring of a panel's events
// to its page controller (pageController.ts), where everything the page asks for is handled without `vscode`.
import * as vscode from 'vscode';
import { registerCommand } from '../host/commands';
import type { Logger } from '../proxy/logger';
import type { HostUi } from '../host/ui';
import type { RequestsHtmlParts } from './requestsHtml';

/** Scripts on, and nothing loadable but `media/`. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}

/** What a panel needs of its page controller. */
export interface PageHandler {
  /** What log lines about the page start with. */
  readonly label: string;
  onMessage(raw: unknown): Promise<void>;
  hidden(): void;
  dispose(): void;
}

/** How one kind of panel renders and which controller answers its page. */
interface PageKind<S> {
  /** The page's files in `media/`: `<media>.js` and `<media>.css`, loaded after `common.js` and `common.css`. */
  media: string;
  render: (p: RequestsHtmlParts) => string;
  /** Builds the page controller; the webview is its port. */
  page: (port: vscode.Webview, state: S) => PageHandler;
}

/** One open panel: its page controller and the panel's event wiring. */
class PagePanel<S> {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly page: PageHandler;
  private disposed = false;

  constructor(private readonly panel: vscode.WebviewPanel, o: PageKind<S> & { extensionUri: vscode.Uri; log: Logger }, state: S,
    onDispose: () => void) {
    const webview = panel.webview;
    webview.options = webviewOptions(o.extensionUri);
    const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(o.extensionUri, 'media', file)).toString();
    webview.html = o.render({
      cspSource: webview.cspSource,
      lang: vscode.env.language,
      scriptUri: media(`${o.media}.js`),
      styleUri: media(`${o.media}.css`),
      commonScriptUri: media('common.js'),
      commonStyleUri: media('common.css'),
    });
    this.page = o.page(webview, state);
    this.disposables.push(
      webview.onDidReceiveMessage((m: unknown) => {
        this.page.onMessage(m).catch((e: unknown) => o.log.error(`${this.page.label}: ${(e as Error).message}`));
      }),
      // Without retainContextWhenHidden the page is torn down when hidden and sends `ready` again when shown.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.page.hidden();
      }),
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.page.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.panel.dispose();
  }
}

/** Registers `command` (show or reveal the one panel) and the serializer of `viewType`. */
export function registerSingletonPanel<S>(o: PageKind<S> & {
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
}): vscode.Disposable {
  let current: PagePanel<S> | undefined;
  const attach = (panel: vscode.WebviewPanel, state: S): void => {
    current?.dispose();
    const view: PagePanel<S> = new PagePanel(panel, o, state, () => {
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
