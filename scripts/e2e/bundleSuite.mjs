// Bundles the extension-host mocha suite (test/e2e/suite/index.ts + *.test.ts) into one folder with esbuild.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Lists *.test.ts under dir (recursive), sorted. */
export function listTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Bundles index.ts to outDir/index.js and each test to outDir/tests/<rel>.test.js; returns the index path.
 * mocha stays external (its loader uses dynamic require); outDir/node_modules/mocha links to the repo's copy.
 */
export async function bundleSuite({ outDir, index = join(REPO, 'test/e2e/suite/index.ts'), testsDir = join(REPO, 'test/e2e/suite') }) {
  const tests = listTests(testsDir);
  if (tests.length === 0) throw new Error(`no *.test.ts under ${testsDir}`);
  mkdirSync(join(outDir, 'tests'), { recursive: true });
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'inline',
    external: ['vscode', 'mocha'], logLevel: 'warning', absWorkingDir: REPO };
  await esbuild.build({ ...common, entryPoints: [index], outfile: join(outDir, 'index.js') });
  await esbuild.build({ ...common, entryPoints: tests.map((t) => ({ in: t, out: relative(testsDir, t).replace(/\.ts$/, '') })),
    outdir: join(outDir, 'tests') });
  const link = join(outDir, 'node_modules', 'mocha');
  if (!existsSync(link)) {
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', 'mocha'), link, 'dir');
  }
  return { indexJs: join(outDir, 'index.js'), tests };
}
