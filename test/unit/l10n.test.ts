// Localization: every user-visible string of src/host, src/webview and the pages goes through t() / %key%, and
// every bundle (l10n/bundle.l10n.<lang>.json, package.nls.<lang>.json) has each key with the same placeholders.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { placeholdersOf } from '../../src/host/l10n';
import { htmlProse, looksLikeProse, scanSource, scanTree } from '../helpers/l10nScan';

const ROOT = process.cwd();
const readJson = (rel: string) => JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as Record<string, unknown>;
const bundles = readdirSync(join(ROOT, 'l10n')).filter((f) => /^bundle\.l10n\.[\w-]+\.json$/.test(f));
const nlsFiles = readdirSync(ROOT).filter((f) => /^package\.nls\.[\w-]+\.json$/.test(f));
const valueOf = (v: unknown) => (typeof v === 'string' ? v : (v as { message: string }).message);
const codicons = (s: string) => (s.match(/\$\([\w-]+\)/g) ?? []).sort();

/** Problems of one translation table against its source messages: missing, extra, and placeholder changes. */
export function bundleProblems(source: readonly string[], bundle: Record<string, unknown>): string[] {
  const out: string[] = [];
  const want = new Set(source);
  for (const m of want) {
    if (!(m in bundle)) {
      out.push(`missing: ${JSON.stringify(m)}`);
      continue;
    }
    const tr = valueOf(bundle[m]);
    if (placeholdersOf(tr).join() !== placeholdersOf(m).join()) out.push(`placeholders differ: ${JSON.stringify(m)} → ${JSON.stringify(tr)}`);
    if (codicons(tr).join() !== codicons(m).join()) out.push(`icons differ: ${JSON.stringify(m)} → ${JSON.stringify(tr)}`);
    if (!tr.trim() && m.trim()) out.push(`empty translation: ${JSON.stringify(m)}`);
  }
  for (const k of Object.keys(bundle)) if (!want.has(k)) out.push(`not used any more: ${JSON.stringify(k)}`);
  return out;
}

describe('l10n: every user-visible string is localized', () => {
  const scan = scanTree(ROOT);
  const messages = [...new Set(scan.messages.map((m) => m.text))];

  it('src/host and src/webview show no string that bypasses t()', () => {
    assert.deepEqual(scan.bare.map((b) => `${b.file}:${b.line}: ${b.text}`), []);
    assert.ok(messages.length > 300, `found only ${messages.length} messages: is the scanner still reading the tree?`);
  });

  it('the pages in media/ hold no text of their own (the host sends it in `init`)', () => {
    for (const f of ['media/common.js', 'media/requests.js', 'media/stats.js']) {
      const r = scanSource(f, readFileSync(join(ROOT, f), 'utf8'));
      assert.deepEqual(r.bare.map((b) => `${b.file}:${b.line}: ${b.text}`), []);
    }
  });

  it('has a Simplified Chinese bundle, and each bundle has every message with the same placeholders', () => {
    assert.ok(bundles.includes('bundle.l10n.zh-cn.json'));
    for (const b of bundles) assert.deepEqual(bundleProblems(messages, readJson(`l10n/${b}`)), [], b);
  });

  it('package.json takes every shown text from package.nls.json, and each package.nls.<lang>.json matches it', () => {
    const pkg = readJson('package.json') as { l10n?: string; contributes: Record<string, unknown> };
    assert.equal(pkg.l10n, './l10n');
    const nls = readJson('package.nls.json') as Record<string, string>;
    const used: string[] = [];
    const literal: string[] = [];
    const shown = /^(title|name|description|markdownDescription|contents|contextualTitle|enumDescriptions|markdownEnumDescriptions)$/;
    const walk = (v: unknown, key: string, path: string): void => {
      if (typeof v === 'string') {
        const m = /^%([\w.-]+)%$/.exec(v);
        if (m) used.push(m[1]!);
        else if (shown.test(key) && v !== 'Codex Helper') literal.push(`${path}: ${v}`);
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, key, `${path}[${i}]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k, `${path}.${k}`);
    };
    for (const [k, v] of Object.entries(pkg)) if (k !== 'name') walk(v, k, k);
    assert.deepEqual(literal, [], 'texts written into package.json instead of package.nls.json');
    assert.deepEqual([...new Set(used)].sort(), Object.keys(nls).sort(), 'package.nls.json keys = %keys% used');
    assert.ok(nlsFiles.includes('package.nls.zh-cn.json'));
    for (const f of nlsFiles) {
      const tr = readJson(f);
      assert.deepEqual(Object.keys(tr).sort(), Object.keys(nls).sort(), `${f}: same keys as package.nls.json`);
      for (const [k, v] of Object.entries(nls)) {
        const x = String(tr[k]);
        // Placeholders, icons and command links (welcome and walkthrough texts) must survive translation.
        const kept = (s: string) => [placeholdersOf(s), codicons(s), s.match(/\(command:[^)]*\)/g) ?? []].map((a) => a.join());
        assert.deepEqual(kept(x), kept(v), `${f} ${k}`);
      }
    }
  });
});

describe('l10n: the translations ship', () => {
  it('the packaged extension includes package.nls*.json and l10n/*.json (.vscodeignore lets them through)', () => {
    const ignore = readFileSync(join(ROOT, '.vscodeignore'), 'utf8').split(/\r?\n/);
    for (const line of ['!package.nls.json', '!package.nls.*.json', '!l10n/*.json']) assert.ok(ignore.includes(line), line);
  });
});

describe('l10n: the checks catch what they are for', () => {
  it('flags a notification, a quick-pick label and an HTML text that bypass t(), and passes log lines and ids', () => {
    const src = [
      "import * as vscode from 'vscode';",
      "void vscode.window.showInformationMessage('Proxy started');",
      "const item = { label: 'pinned', contextValue: 'service running' };",
      "log.info(`proxy listening on ${port}`);",
      "const ok = t('Proxy started on {0}', port);",
      "const html = `<button title=\"Refresh now\">${t('Refresh')}</button>`;",
      "const chip = `effort ${e}`;",
    ].join('\n');
    const r = scanSource('x.ts', src);
    assert.deepEqual(r.bare.map((b) => b.line), [2, 3, 6, 7]);
    assert.deepEqual(r.messages.map((m) => m.text), ['Proxy started on {0}', 'Refresh']);
    assert.ok(looksLikeProse('Start Proxy') && looksLikeProse('Connect') && !looksLikeProse('codexHelper.showLog') && !looksLikeProse('Codex'));
    assert.deepEqual(htmlProse('<th class="num">TTFB</th><option value="2xx">2xx</option>'), []);
  });

  it('reports a missing key, a dropped or added placeholder, a lost icon and a stale key', () => {
    const src = ['Port {0} is in use', 'Copied {0}', '$(check) Done', 'Start'];
    const bundle = { 'Port {0} is in use': '端口被占用', 'Copied {0}': '已复制 {0} {1}', '$(check) Done': '完成', Old: '旧' };
    const p = bundleProblems(src, bundle);
    assert.equal(p.length, 5, p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('missing: "Start"')));
    assert.equal(p.filter((x) => x.startsWith('placeholders differ')).length, 2);
    assert.ok(p.some((x) => x.startsWith('icons differ')));
    assert.ok(p.some((x) => x.startsWith('not used any more: "Old"')));
  });
});
