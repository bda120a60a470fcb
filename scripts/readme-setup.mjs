#!/usr/bin/env node
// Runs the README's set-up commands exactly as a reader pastes them, one line after the other, on this checkout.
// A line that is still running after it printed "listening on" is the proxy (`npm start`): it is checked through
// its admin API, stopped with SIGTERM and must exit 0. Any other line must exit 0 within its timeout.
// The proxy gets a temporary CODEX_HELPER_HOME / CODEX_HOME / CLAUDE_HOME so nothing of the machine's user is touched.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.split(/^## /m).find((s) => s.startsWith('Set-up'));
const block = section && /```sh\n([\s\S]*?)```/.exec(section);
if (!block) {
  console.error('readme-setup: no ```sh block under "## Set-up" in README.md');
  process.exit(1);
}
const lines = block[1].split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
const root = mkdtempSync(join(tmpdir(), 'readme-setup-'));
const env = { ...process.env, CODEX_HELPER_HOME: join(root, 'helper'), CODEX_HOME: join(root, 'codex'), CLAUDE_HOME: join(root, 'claude') };

function runLine(line) {
  return new Promise((resolve) => {
    console.log(`\n$ ${line}`);
    const child = spawn('bash', ['-c', line], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let server = false;
    const onData = (d) => {
      process.stdout.write(d);
      out += d.toString();
      if (!server && /listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
        server = true;
        void checkServer(child, out).then(resolve);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      console.error(`readme-setup: '${line}' did not finish within 10 minutes`);
      process.kill(-child.pid, 'SIGKILL');
    }, 600_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!server) resolve(code === 0 ? 0 : `'${line}' exited with ${code}`);
    });
  });
}

async function checkServer(child, out) {
  const urls = [...out.matchAll(/listening on (http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]);
  await new Promise((r) => setTimeout(r, 500));
  for (const u of new Set(urls)) {
    const res = await fetch(`${u}/__codex_helper/api/v1/capabilities`).catch((e) => ({ status: String(e) }));
    if (res.status !== 200) return `${u} answered ${res.status}`;
    console.log(`readme-setup: ${u} answers its admin API`);
  }
  const code = await new Promise((r) => {
    child.on('exit', (c, sig) => r(c ?? sig));
    process.kill(-child.pid, 'SIGTERM');
  });
  return code === 0 || code === 143 || code === 'SIGTERM' ? 0 : `the server line exited with ${code} on SIGTERM`;
}

let failed;
for (const line of lines) {
  const r = await runLine(line);
  if (r !== 0) {
    failed = r;
    break;
  }
}
rmSync(root, { recursive: true, force: true });
if (failed) {
  console.error(`readme-setup: FAILED: ${failed}`);
  process.exit(1);
}
console.log(`\nreadme-setup: ${lines.length} README set-up line(s) passed`);
