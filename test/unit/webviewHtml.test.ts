import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { makeNonce, renderRequestsHtml } from '../../src/webview/requestsHtml';

const MEDIA = join(__dirname, '..', '..', 'media');
// test-one bundles into a temp dir, so fall back to the working directory (the repo root) there.
function media(name: string): string {
  for (const dir of [MEDIA, join(process.cwd(), 'media')]) {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      // try the next location
    }
  }
  throw new Error(`media/${name} not found`);
}

const parts = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/requests.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/requests.css',
  commonScriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/common.js',
  commonStyleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/common.css',
};

function csp(html: string): string {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(m?.[1], 'no CSP meta tag');
  return m[1];
}

describe('webview html: requests page shell', () => {
  it('has the strict CSP with the nonce on both scripts and no inline code', () => {
    const html = renderRequestsHtml({ ...parts, nonce: 'abc123' });
    assert.equal(
      csp(html),
      "default-src 'none'; script-src 'nonce-abc123'; style-src https://file+.vscode-resource.vscode-cdn.net; " +
        'img-src https://file+.vscode-resource.vscode-cdn.net data:; font-src https://file+.vscode-resource.vscode-cdn.net;',
    );
    assert.ok(!html.includes('unsafe-inline'));
    assert.ok(!html.includes('unsafe-eval'));
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.deepEqual(scripts, [`<script nonce="abc123" src="${parts.commonScriptUri}">`, `<script nonce="abc123" src="${parts.scriptUri}">`]);
    assert.ok(!/\sstyle=/.test(html), 'inline style attributes are blocked by the CSP');
    assert.ok(!/\son[a-z]+=/.test(html), 'inline event handlers are blocked by the CSP');
    assert.ok(html.includes(`<link rel="stylesheet" href="${parts.styleUri}">`));
    const sheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(sheets, [parts.commonStyleUri, parts.styleUri], 'the shared stylesheet comes first so the page can refine it');
  });

  it('has the stable ids the UI test queries', () => {
    const html = renderRequestsHtml(parts);
    for (const id of ['requests', 'totals', 'chart', 'filter-service', 'filter-status', 'filter-session']) {
      assert.ok(html.includes(`id="${id}"`), id);
    }
  });

  it('uses a fresh 16-byte nonce per render', () => {
    const a = csp(renderRequestsHtml(parts));
    const b = csp(renderRequestsHtml(parts));
    assert.notEqual(a, b);
    assert.equal(Buffer.from(makeNonce(), 'base64').length, 16);
  });

  it('escapes attribute values', () => {
    const html = renderRequestsHtml({ ...parts, scriptUri: 'x"><script>alert(1)</script>', nonce: 'n' });
    assert.ok(!html.includes('"><script>alert(1)'));
  });
});

describe('webview media: page script and stylesheet', () => {
  for (const name of ['requests.js', 'common.js']) {
    it(`${name} parses and never writes data through innerHTML`, () => {
      const js = media(name);
      assert.doesNotThrow(() => new Script(js, { filename: name }));
      assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/.test(js));
      assert.ok(!/\.setAttribute\(\s*['"]style['"]/.test(js), 'style attributes are blocked by the CSP');
    });
  }

  it('common.js sends no messages of its own', () => {
    assert.ok(!/postMessage|type: '/.test(media('common.js')));
  });

  it('requests.js sends only message types the host accepts', () => {
    const js = media('requests.js');
    const types = new Set([...js.matchAll(/type: '([a-zA-Z]+)'/g)].map((m) => m[1]));
    assert.deepEqual([...types].sort(), ['clearRecent', 'connect', 'copy', 'export', 'openStats', 'ready', 'refresh', 'requestDetails', 'setFilter']);
  });

  for (const name of ['requests.css', 'common.css']) {
    it(`${name} styles only with --vscode-* variables`, () => {
      const css = media(name);
      const vars = [...css.matchAll(/var\((--[a-zA-Z0-9-]+)/g)].map((m) => m[1]);
      assert.ok(vars.length > 10);
      assert.deepEqual(vars.filter((v) => !v?.startsWith('--vscode-')), []);
      assert.ok(!/#[0-9a-fA-F]{3,8}\b|rgb\(|hsl\(/.test(css), 'hard-coded colours break high-contrast themes');
    });
  }
});
