// House rules tsc cannot check: no `vscode` outside the host layers, no default exports, no barrel index.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const problems = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) check(p);
  }
}
function check(file) {
  const rel = relative(root, file);
  const text = readFileSync(file, 'utf8');
  const hostSide = rel.startsWith('src/host/') || rel.startsWith('src/webview/') || rel === 'src/extension.ts';
  if (!hostSide && /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(text)) problems.push(`${rel}: imports 'vscode' outside src/host, src/webview and src/extension.ts`);
  if (/^export default /m.test(text)) problems.push(`${rel}: default export`);
  if (/(^|\/)index\.ts$/.test(rel)) problems.push(`${rel}: barrel index.ts`);
}
walk(join(root, 'src'));
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('lint: ok');
