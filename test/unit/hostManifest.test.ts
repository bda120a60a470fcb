import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CMD, RESTRICTED_SETTINGS, SETTING, SETTINGS_SECTION, VIEW_CONTAINER, VIEW_UPSTREAMS } from '../../src/host/constants';

const ROOT = process.cwd();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  icon: string;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    viewsContainers: { activitybar: Array<{ id: string; icon: string }> };
    views: Record<string, Array<{ id: string }>>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
    configuration: { properties: Record<string, { type: string; default: unknown; scope: string; markdownDescription: string }> };
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
    assert.equal(pkg.contributes.views[VIEW_CONTAINER]![0]!.id, VIEW_UPSTREAMS);
    assert.ok(existsSync(join(ROOT, pkg.contributes.viewsContainers.activitybar[0]!.icon)));
    assert.ok(existsSync(join(ROOT, pkg.icon)));
    assert.ok(pkg.activationEvents.includes('onStartupFinished'));
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
