import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CMD, CONTEXT, RESTRICTED_SETTINGS, SETTING, SETTINGS_SECTION, VIEW_CONTAINER, VIEW_UPSTREAMS, VIEW_WELCOME, WALKTHROUGH_ID } from '../../src/host/constants';

const ROOT = process.cwd();
const nls = JSON.parse(readFileSync(join(ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
// The manifest as VS Code reads it in English: every `%key%` value replaced from package.nls.json.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'), (_k, v: unknown) =>
  typeof v === 'string' && /^%[\w.-]+%$/.test(v) ? nls[v.slice(1, -1)] ?? v : v) as {
  icon: string;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    viewsContainers: { activitybar: Array<{ id: string; icon: string }> };
    views: Record<string, Array<{ id: string }>>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
    configuration: { properties: Record<string, { type: string; default: unknown; scope: string; markdownDescription: string }> };
    viewsWelcome: Array<{ view: string; when?: string; contents: string }>;
    walkthroughs: Array<{ id: string; steps: Array<{ id: string; description: string; media: { markdown: string } }> }>;
    configurationDefaults: Record<string, Record<string, { onAutoForward?: string }>>;
  };
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
}

describe('host boundaries and manifest', () => {
  it('keeps `vscode` out of src/core, src/proxy and the CLI', () => {
    const files = [...tsFiles(join(ROOT, 'src/core')), ...tsFiles(join(ROOT, 'src/proxy')), join(ROOT, 'src/cli.ts')];
    assert.ok(files.length > 10, 'scanned the source tree');
    const offenders = files.filter((f) => /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('keeps `vscode` out of the command files: HostUi (src/host/ui.ts) is their only way to VS Code', () => {
    const viaUi = ['commands', 'ui', 'clientCommands', 'overrideCommands', 'upstreamCommands', 'proxyLifecycle', 'welcome',
      'failoverNotifications', 'proxyWorkerSetup', 'coalescer', 'activityLog'];
    for (const m of viaUi) assert.doesNotMatch(readFileSync(join(ROOT, 'src/host', `${m}.ts`), 'utf8'), /from\s+['"]vscode['"]|require\(\s*['"]vscode/, m);
    const registering = tsFiles(join(ROOT, 'src')).filter((f) => /vscode\.commands\.registerCommand\(/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(registering.map((f) => f.slice(ROOT.length + 1)), ['src/host/vscodeUi.ts'],
      'every command goes through commands.ts registerCommand (its error boundary) and HostUi');
  });

  it('keeps `vscode` out of the webview page controllers: what a page asks for goes through HostUi', () => {
    for (const m of ['pageController', 'requestsPage', 'requestsActions', 'statsPage']) {
      assert.doesNotMatch(readFileSync(join(ROOT, 'src/webview', `${m}.ts`), 'utf8'), /from\s+['"]vscode['"]|require\(\s*['"]vscode/, m);
    }
    const windowCalls = tsFiles(join(ROOT, 'src/webview')).filter((f) => /vscode\.(window|env\.clipboard|workspace\.fs)\./.test(readFileSync(f, 'utf8')));
    assert.deepEqual(windowCalls.map((f) => f.slice(ROOT.length + 1)), ['src/webview/singletonPanel.ts'], 'only the panel creation itself');
  });

  it('keeps `vscode` out of the pure host modules the unit tests load', () => {
    const pure = ['settings', 'treeModel', 'statusModel', 'proxyController', 'serviceStore', 'secretCache', 'sessions', 'portConflict', 'clientEnv', 'commandArgs', 'constants'];
    for (const m of pure) assert.doesNotMatch(readFileSync(join(ROOT, 'src/host', `${m}.ts`), 'utf8'), /from\s+['"]vscode['"]/, m);
  });

  it('declares every command the code registers, and nothing else', () => {
    const declared: string[] = pkg.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(declared, Object.values(CMD).sort());
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'Codex Helper', c.command);
    for (const [menu, items] of Object.entries(pkg.contributes.menus)) {
      for (const i of items) assert.ok((declared as string[]).includes(i.command), `${menu} refers to undeclared ${i.command}`);
    }
    for (const i of pkg.contributes.menus['view/item/context'] ?? []) assert.match(i.when ?? '', new RegExp(`view == ${VIEW_UPSTREAMS.replace('.', '\\.')} && viewItem`));
  });

  it('declares the view container, view, icon and activation', () => {
    assert.equal(pkg.contributes.viewsContainers.activitybar[0]!.id, VIEW_CONTAINER);
    assert.deepEqual(pkg.contributes.views[VIEW_CONTAINER]!.map((v: { id: string }) => v.id), [VIEW_WELCOME, VIEW_UPSTREAMS]);
    assert.ok(existsSync(join(ROOT, pkg.contributes.viewsContainers.activitybar[0]!.icon)));
    assert.ok(existsSync(join(ROOT, pkg.icon)));
    assert.ok(pkg.activationEvents.includes('onStartupFinished'));
  });

  it('has first-run content: welcome view contents, a walkthrough whose media exist, and only declared commands in links', () => {
    const welcome = pkg.contributes.viewsWelcome as Array<{ view: string; when?: string; contents: string }>;
    assert.ok(welcome.some((w) => w.view === VIEW_WELCOME && w.when === CONTEXT.noConfigFile && /command:codexHelper\.importConfig/.test(w.contents)));
    assert.ok(welcome.some((w) => w.view === VIEW_WELCOME && w.when === `!${CONTEXT.anyRunning} && !${CONTEXT.anyFailed}` && /command:codexHelper\.startProxy/.test(w.contents)));
    assert.ok(welcome.some((w) => w.when === `!${CONTEXT.anyRunning} && ${CONTEXT.anyFailed}` && /command:codexHelper\.listenerFixes/.test(w.contents)));
    const declared = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    const walk = pkg.contributes.walkthroughs[0]!;
    assert.equal(walk.id, WALKTHROUGH_ID);
    assert.deepEqual(walk.steps.map((s: { id: string }) => s.id), ['connectCodex', 'connectClaude', 'setKey', 'watchRequests']);
    const texts = [...welcome.map((w) => w.contents), ...walk.steps.map((s: { description: string }) => s.description)];
    for (const t of texts) {
      for (const m of t.matchAll(/command:(codexHelper\.[A-Za-z]+)/g)) assert.ok(declared.has(m[1]!), `link to undeclared ${m[1]}`);
    }
    for (const s of walk.steps) assert.ok(existsSync(join(ROOT, s.media.markdown)), s.media.markdown);
  });

  it('orders the settings, and keeps the default proxy ports out of remote auto-forwarding', () => {
    const props = pkg.contributes.configuration.properties as Record<string, { order?: number }>;
    const orders = Object.values(props).map((p) => p.order);
    assert.ok(orders.every((o) => typeof o === 'number'));
    assert.equal(new Set(orders).size, orders.length);
    assert.ok(props['codexHelper.codex.port']!.order! < props['codexHelper.claude.port']!.order!, 'Codex before Claude');
    const ports = pkg.contributes.configurationDefaults['remote.portsAttributes']!;
    for (const p of ['3210', '3211']) assert.equal(ports[p]!.onAutoForward, 'ignore');
  });

  it('gives every setting a type, default, description and explicit scope', () => {
    const props = pkg.contributes.configuration.properties;
    const keys = Object.values(SETTING).map((k) => `${SETTINGS_SECTION}.${k}`).sort();
    assert.deepEqual(Object.keys(props).sort(), keys);
    for (const [k, p] of Object.entries(props)) {
      assert.ok(p.type && p.default !== undefined && p.markdownDescription, k);
      assert.ok(['machine', 'window', 'resource', 'application', 'machine-overridable'].includes(p.scope), `${k} scope`);
    }
    assert.equal(props['codexHelper.proxy.configHome']!.scope, 'machine', 'paths are machine settings');
  });

  it('restricts the same settings in untrusted workspaces that the reader filters', () => {
    const u = pkg.capabilities.untrustedWorkspaces;
    assert.equal(u.supported, 'limited');
    assert.deepEqual([...u.restrictedConfigurations].sort(), RESTRICTED_SETTINGS.map((k) => `${SETTINGS_SECTION}.${k}`).sort());
  });
});
