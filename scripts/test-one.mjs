// Runs a few test files without compiling the whole tree: bundles each with esbuild, then runs mocha.
// Usage: node scripts/test-one.mjs test/unit/lb.test.ts [more files...] [-- mocha args]
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const files = sep >= 0 ? argv.slice(0, sep) : argv;
const extra = sep >= 0 ? argv.slice(sep + 1) : [];
const dir = mkdtempSync(join(tmpdir(), 'test-one-'));
const outs = [];
for (const f of files) {
  const out = join(dir, basename(f).replace(/\.ts$/, '.js'));
  await esbuild.build({ entryPoints: [f], bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    outfile: out, sourcemap: 'inline', external: ['mocha', 'vscode'], logLevel: 'warning' });
  outs.push(out);
}
const r = spawnSync(process.execPath, ['node_modules/mocha/bin/mocha.js', '--no-config', '--timeout', '20000', '--exit',
  '--enable-source-maps', ...extra, ...outs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
