// Composition root of the VS Code extension: builds the services, wires them together and registers every
// Disposable. Behaviour lives in src/host/** (and src/webview/**); nothing else happens here.
import * as vscode from 'vscode';
import type { ServiceName } from './core/types';
import { SERVICE_NAMES } from './core/types';
import { ActivityLog } from './host/activityLog';
import { contextKey } from './host/contextKeys';
import { registerClientCommands } from './host/clientCommands';
import { readClientLink } from './host/clientLink';
import { claudeExtensionBaseUrl, registerClientWatchers } from './host/clientWatch';
import { OUTPUT_NAME } from './host/constants';
import { registerDefaultEffort } from './host/defaultEffort';
import { registerTranslator } from './host/l10nHost';
import { channelLogger } from './host/logChannel';
import { registerOverrideCommands } from './host/overrideCommands';
import { ProxyController } from './host/proxyController';
import type { ServiceStatus, SubscribeOptions } from './host/proxyController';
import { configHome, registerProxyLifecycle } from './host/proxyLifecycle';
import { bindWorkerLogLevel, proxyWorkerFactory } from './host/proxyWorkerSetup';
import { SecretCache } from './host/secretCache';
import { ServiceStore } from './host/serviceStore';
import { SettingsState } from './host/settingsReader';
import { registerStatusBar } from './host/statusBar';
import { registerFailoverNotifications } from './host/failoverNotifications';
import type { TreeNode } from './host/treeModel';
import { registerUpstreamCommands } from './host/upstreamCommands';
import { registerUpstreamTree } from './host/upstreamTree';
import { vscodeUi } from './host/vscodeUi';
import { registerWelcome } from './host/welcome';
import { registerWelcomeView } from './host/welcomeView';
import { configFilePath } from './io/configFile';
import { readHostEnv } from './io/hostEnv';
import { lastPostedRowCount, registerRequestsWebview } from './webview/requestsWebview';
import { registerStatsWebview } from './webview/statsWebview';

/** What activate() returns: enough for the extension-host tests to look inside without private hooks. */
export interface CodexHelperApi {
  status(service: ServiceName): ServiceStatus;
  treeNodes(): readonly TreeNode[];
  refresh(): Promise<void>;
  statusBarText(service: ServiceName): string | undefined;
  /** The command a click on the service's status bar item runs. */
  statusBarCommand(service: ServiceName): string | undefined;
  /** The value last set for one of our context keys. */
  contextKey(key: string): boolean | undefined;
  lastPostedRowCount(): number;
  /** Ends the proxy worker thread abruptly (the crash path); it restarts on the same ports. */
  killProxyWorker(): Promise<void>;
  proxyThreadId(): number | undefined;
}

let controller: ProxyController | undefined;

/** Activation (onStartupFinished): builds the proxy and the UI, then starts the enabled services. */
export async function activate(context: vscode.ExtensionContext): Promise<CodexHelperApi> {
  // The one read of the environment: everything below gets it from `env`.
  const env = readHostEnv(process.env);
  context.subscriptions.push(registerTranslator(env.l10nBundle));
  const channel = vscode.window.createOutputChannel(OUTPUT_NAME, { log: true });
  context.subscriptions.push(channel);
  const ui = vscodeUi(channel);
  let log = channelLogger(channel, () => 'info');
  const settings = new SettingsState((p) => log.warn(p));
  context.subscriptions.push(settings);
  log = channelLogger(channel, () => settings.current.logLevel);
  settings.reportProblems();

  const secrets = new SecretCache(context.secrets);
  // The proxy runs in a worker thread: a busy extension host never stalls a stream, a proxy crash never takes the
  // extension host down. The worker gets its secrets before its first listener, so the first request has its key.
  const ctl = new ProxyController({
    log,
    createHost: proxyWorkerFactory({ extensionPath: context.extensionPath, settings, secrets, log, ui, env }),
    bindHost: (client) => bindWorkerLogLevel(settings, client),
  });
  controller = ctl;
  // Not awaited: the worker boots while the views register, and activation does not wait for its first breath.
  void ctl.ensureHost();

  const store = new ServiceStore(ctl, 50, (s) => readClientLink(s, env.snapshot, claudeExtensionBaseUrl));
  context.subscriptions.push(new vscode.Disposable(() => store.dispose()));
  const activity = new ActivityLog(store, log);
  context.subscriptions.push(new vscode.Disposable(() => activity.dispose()));
  const tree = registerUpstreamTree({ store });
  const homes = { codex: env.codexHome, claude: env.claudeHome };
  const home = () => configHome(settings, env.helperHome);
  const webviewSources = () => SERVICE_NAMES.flatMap((service) => {
    const client = ctl.client(service);
    return client ? [{ service, client }] : [];
  });
  const webviewWatch = (work: () => Promise<void>, o: SubscribeOptions) => ctl.subscribe(SERVICE_NAMES, work, o);
  const statusTexts = new Map<ServiceName, { text?: string; command?: string }>();
  context.subscriptions.push(
    tree.disposable,
    registerStatusBar({ store, onRender: (s, text, command) => statusTexts.set(s, { text, command }) }),
    registerFailoverNotifications({ store, ui, enabled: () => settings.current.notifyFailover }),
    registerOverrideCommands({ controller: ctl, store, log, ui }),
    registerClientCommands({ controller: ctl, store, settings, secrets, log, ui, memory: context.globalState, homes }),
    registerClientWatchers({ homes, store }),
    registerDefaultEffort({ controller: ctl, store, settings, log }),
    registerRequestsWebview({
      extensionUri: context.extensionUri,
      sources: webviewSources,
      watch: webviewWatch,
      maxRows: () => settings.current.webviewMaxRows,
      log,
      ui,
    }),
    registerStatsWebview({ extensionUri: context.extensionUri, sources: webviewSources, watch: webviewWatch, log, ui }),
    context.secrets.onDidChange((e) => {
      void secrets.refreshKey(e.key).then((ours) => (ours ? store.refreshAll() : undefined));
    }),
    registerProxyLifecycle({ controller: ctl, settings, log, ui, pinMemory: context.workspaceState, defaultHome: env.helperHome }),
    registerUpstreamCommands({ controller: ctl, store, log, ui, configFile: () => configFilePath(home()) }),
    registerWelcomeView(),
    registerWelcome({ home, store, log, ui, env: env.snapshot }),
  );

  return {
    status: (s) => ctl.status(s),
    treeNodes: () => tree.provider.nodes,
    refresh: async () => {
      await store.refreshAll();
      tree.provider.refresh();
    },
    statusBarText: (s) => statusTexts.get(s)?.text,
    statusBarCommand: (s) => statusTexts.get(s)?.command,
    contextKey,
    lastPostedRowCount,
    killProxyWorker: async () => ctl.host?.kill(),
    proxyThreadId: () => ctl.host?.threadId,
  };
}

/** Stops the listeners and releases the proxy; VS Code awaits the returned promise. */
export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  await c?.dispose();
}
