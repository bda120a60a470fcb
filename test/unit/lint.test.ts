// The layer rules of scripts/lint.mjs (ARCHITECTURE.md "Layers"): passing on the tree, failing on bad imports.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '../../..');
type Lint = { lintTree(root: string): string[]; checkFile(rel: string, text: string): string[] };
// A real dynamic import: tsc would turn `import()` into `require()`, which cannot load an .mjs module.
const importEsm = new Function('u', 'return import(u)') as (u: string) => Promise<Lint>;
const load = () => importEsm(pathToFileURL(join(ROOT, 'scripts/lint.mjs')).href);

describe('lint: layer rules', () => {
  it('passes on the source tree', async () => {
    assert.deepEqual((await load()).lintTree(ROOT), []);
  });

  it('fails on a deliberate bad import in each direction the table forbids', async () => {
    const { lintTree } = await load();
    const root = mkdtempSync(join(tmpdir(), 'chp-lint-'));
    try {
      const files: Record<string, string> = {
        'src/core/a.ts': "import { x } from '../proxy/b';\nexport const a = x;\n",
        'src/core/v.ts': "import * as vscode from 'vscode';\nexport const v = vscode;\n",
        'src/proxy/b.ts': "import { h } from '../host/c';\nexport const x = h;\n",
        'src/host/c.ts': "import { main } from '../extension';\nexport const h = main;\n",
        'src/cli.ts': "import { h } from './host/c';\nexport const c = h;\n",
        'src/extension.ts': "import { c } from './cli';\nexport const main = c;\n",
        'src/host/ok.ts': "import { a } from '../core/a';\nimport type { x } from '../proxy/b';\nexport const ok = a;\n",
        'src/misc/d.ts': 'export default 1;\n',
      };
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
      }
      const problems = lintTree(root).sort();
      const want = [
        /^src\/cli\.ts: layer 'cli' must not import 'host'/,
        /^src\/core\/a\.ts: layer 'core' must not import 'proxy'/,
        /^src\/core\/v\.ts: imports 'vscode' outside/,
        /^src\/extension\.ts: layer 'extension' must not import 'cli'/,
        /^src\/host\/c\.ts: layer 'host' must not import 'extension'/,
        /^src\/misc\/d\.ts: default export/,
        /^src\/misc\/d\.ts: folder src\/misc\/ is not a known layer/,
        /^src\/proxy\/b\.ts: layer 'proxy' must not import 'host'/,
      ];
      assert.equal(problems.length, want.length, problems.join('\n'));
      want.forEach((re, i) => assert.match(problems[i]!, re));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('lets only the entry points read process.env', async () => {
    const { lintTree } = await load();
    const root = mkdtempSync(join(tmpdir(), 'chp-lint-'));
    try {
      const files: Record<string, string> = {
        'src/host/homes.ts': "export const home = process.env.CODEX_HOME;\n",
        'src/io/spread.ts': "export const env = { ...process.env };\n",
        'src/proxy/index2.ts': "export const env = process['env'];\n",
        'src/webview/w.ts': "export const x = process .env;\n",
        'src/host/quiet.ts': "// extension.ts reads process.env once\nexport const s = 'process.env';\n",
        'src/extension.ts': "export const env = process.env;\n",
        'src/cli.ts': "export const env = process.env;\n",
        'src/cliStats.ts': "export const env = process.env;\n",
      };
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
      }
      const problems = lintTree(root).sort();
      const want = [
        /^src\/host\/homes\.ts: reads process\.env outside the entry points/,
        /^src\/io\/spread\.ts: reads process\.env outside the entry points/,
        /^src\/proxy\/index2\.ts: reads process\.env outside the entry points/,
        /^src\/webview\/w\.ts: reads process\.env outside the entry points/,
      ];
      assert.equal(problems.length, want.length, problems.join('\n'));
      want.forEach((re, i) => assert.match(problems[i]!, re));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps core pure: fs, sockets, child processes and process.env are refused there and allowed in io', async () => {
    const { lintTree } = await load();
    const root = mkdtempSync(join(tmpdir(), 'chp-lint-'));
    try {
      const files: Record<string, string> = {
        'src/core/fsUser.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
        'src/core/promises.ts': "import { readFile } from 'fs/promises';\nexport const r = readFile;\n",
        'src/core/sock.ts': "import * as net from 'node:net';\nimport * as http from 'http';\nexport const s = [net, http];\n",
        'src/core/spawn.ts': "const cp = require('node:child_process');\nexport const s = cp;\n",
        'src/core/envRead.ts': "export const home = process.env.HOME;\n",
        'src/core/envIndex.ts': "export const home = process['env'];\n",
        'src/core/clean.ts': "// the entry points read process.env once\n/* process.env */\nimport { join } from 'node:path';\nexport const u = 'http://x/process.env';\nexport const j = join;\n",
        'src/io/files.ts': "import { readFileSync } from 'node:fs';\nimport * as http from 'node:http';\nexport const r = [readFileSync, http];\n",
      };
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
      }
      const problems = lintTree(root).sort();
      const want = [
        /^src\/core\/envIndex\.ts: core reads process\.env/,
        /^src\/core\/envRead\.ts: core reads process\.env/,
        /^src\/core\/fsUser\.ts: core imports 'node:fs'/,
        /^src\/core\/promises\.ts: core imports 'fs\/promises'/,
        /^src\/core\/sock\.ts: core imports 'http'/,
        /^src\/core\/sock\.ts: core imports 'node:net'/,
        /^src\/core\/spawn\.ts: core imports 'node:child_process'/,
      ];
      assert.equal(problems.length, want.length, problems.join('\n'));
      want.forEach((re, i) => assert.match(problems[i]!, re));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
