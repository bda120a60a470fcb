// House rules tsc cannot check (ARCHITECTURE.md "Layers"): which layer may import which, no `vscode` outside the
// host layers, a pure core (no fs/net/http/child_process imports), process.env read only by the entry points, no
// default exports, no barrel index.ts. `node scripts/lint.mjs [root]`; also run by `npm test`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layer of a source file (path relative to the repository root), or undefined outside src/. */
export function layerOf(rel) {
  const p = rel.split('\\').join('/');
  if (p === 'src/extension.ts') return 'extension';
  if (/^src\/cli[A-Za-z]*\.ts$/.test(p)) return 'cli';
  const m = /^src\/([^/]+)\//.exec(p);
  return m ? m[1] : undefined;
}

/** Which layers each layer may import (its own included). Entry points (extension, cli) are imported by nobody. */
export const LAYER_RULES = {
  core: ['core'],
  io: ['core', 'io'],
  proxy: ['core', 'io', 'proxy'],
  host: ['core', 'io', 'proxy', 'host', 'webview'],
  webview: ['core', 'io', 'proxy', 'host', 'webview'],
  cli: ['core', 'io', 'proxy', 'cli'],
  extension: ['core', 'io', 'proxy', 'host', 'webview'],
};
const HOST_SIDE = new Set(['host', 'webview', 'extension']);
/** The entry points: the only files that read the environment (once, into EnvOptions / HostEnv, passed down). */
const ENV_READERS = new Set(['extension', 'cli']);
/** Modules src/core may not import: files, sockets and processes belong to src/io (core is pure logic). */
const CORE_FORBIDDEN = /^(?:node:)?(?:fs|fs\/promises|net|http|https|http2|tls|dgram|child_process|worker_threads)$/;
// Quoted strings and comments, matched in one pass so `//` inside a string is not a comment.
const STRINGS_AND_COMMENTS = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\/\*[\s\S]*?\*\/|\/\/.*$/gm;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Problems of one file's text (`rel` is its path from the repository root). */
export function checkFile(rel, text) {
  const problems = [];
  const layer = layerOf(rel);
  if (layer !== undefined && !(layer in LAYER_RULES)) problems.push(`${rel}: folder src/${layer}/ is not a known layer (${Object.keys(LAYER_RULES).join(', ')})`);
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec === 'vscode' && !HOST_SIDE.has(layer)) problems.push(`${rel}: imports 'vscode' outside src/host, src/webview and src/extension.ts`);
    if (layer === 'core' && CORE_FORBIDDEN.test(spec)) problems.push(`${rel}: core imports '${spec}' (file, socket and process work belongs to src/io)`);
    if (!spec.startsWith('.') || layer === undefined) continue;
    const target = posix.normalize(posix.join(posix.dirname(rel), spec));
    const to = layerOf(target.endsWith('.ts') ? target : `${target}.ts`);
    if (to === undefined) continue;
    const allowed = LAYER_RULES[layer] ?? [];
    if (!allowed.includes(to)) problems.push(`${rel}: layer '${layer}' must not import '${to}' (${spec}); allowed: ${allowed.join(', ')}`);
  }
  const readsEnv = /\bprocess\s*\.\s*env\b/.test(text.replace(STRINGS_AND_COMMENTS, ' ')) || /\bprocess\s*\[\s*['"]env['"]\s*\]/.test(text);
  if (layer === 'core' && readsEnv) {
    problems.push(`${rel}: core reads process.env (the entry points read it once into EnvOptions, src/core/envOptions.ts)`);
  } else if (layer !== undefined && readsEnv && !ENV_READERS.has(layer)) {
    problems.push(`${rel}: reads process.env outside the entry points (extension.ts, cli*.ts read it once and pass it down: EnvOptions, HostEnv)`);
  }
  if (/^export default /m.test(text)) problems.push(`${rel}: default export`);
  if (/(^|\/)index\.ts$/.test(rel)) problems.push(`${rel}: barrel index.ts`);
  return problems;
}

/** Every problem under `<root>/src`. */
export function lintTree(root) {
  const problems = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) problems.push(...checkFile(relative(root, p).split('\\').join('/'), readFileSync(p, 'utf8')));
    }
  };
  walk(join(root, 'src'));
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL('..', import.meta.url));
  const problems = lintTree(root);
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log('lint: ok');
}
