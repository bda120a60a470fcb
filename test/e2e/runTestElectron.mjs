#!/usr/bin/env node
// Runs test/e2e/suite in desktop VS Code via @vscode/test-electron (needs to download VS Code, so not in our CI;
// there scripts/e2e/run.mjs runs the same suite in code-server). Expects `npm run build` to have produced dist/.
// Same preparation as run.mjs: the fixtures (config + fake upstream), free ports for both services written to the
// settings and handed to the suite as E2E_*, and a time limit for the whole run.
import { runTests } from '@vscode/test-electron';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleSuite, REPO } from '../../scripts/e2e/bundleSuite.mjs';
import { prepare } from '../../scripts/e2e/fixtures.mjs';
import { distinctPorts } from '../../scripts/e2e/ports.mjs';

const TIMEOUT_MS = Number(process.env.E2E_TOTAL_TIMEOUT ?? 900) * 1000;


const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects after `ms`. */
function deadline(ms) {
  let timer;
  const p = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000}s`)), ms);
  });
  return { p, clear: () => clearTimeout(timer) };
}

/** runTests closes VS Code on a first SIGINT and kills its process tree on a second one. */
async function closeVsCode(run) {
  const settled = run.then(() => true, () => true);
  process.emit('SIGINT');
  if (await Promise.race([settled, sleep(10_000).then(() => false)])) return;
  process.emit('SIGINT');
  await Promise.race([settled, sleep(5_000)]);
}

const root = mkdtempSync(join(tmpdir(), 'codex-helper-vscode-test-'));
let status = 1;
let run;
const limit = deadline(TIMEOUT_MS);
try {
  // Bundled inside the repo so require('mocha') resolves to the repo's node_modules.
  const outDir = join(REPO, 'out/e2e-suite');
  rmSync(outDir, { recursive: true, force: true });
  const { indexJs } = await bundleSuite({ outDir });
  const d = {
    home: join(root, 'home'),
    userDataDir: join(root, 'user-data'),
    extensionsDir: join(root, 'extensions'),
    workspace: join(root, 'workspace'),
    logs: join(root, 'logs'),
  };
  const userDir = join(d.userDataDir, 'User');
  for (const p of [d.home, d.workspace, userDir, d.extensionsDir, d.logs]) mkdirSync(p, { recursive: true });
  // Never the default ports: a real proxy of the developer may be running there.
  const [codex, claude] = await distinctPorts(2);
  const env = {
    E2E_ROOT: root,
    E2E_WORKSPACE: d.workspace,
    E2E_CODEX_PORT: String(codex),
    E2E_CLAUDE_PORT: String(claude),
    E2E_RESULT_FILE: join(root, 'mocha-result.json'),
    CODEX_HELPER_HOME: join(d.home, '.codex-helper'),
    CODEX_HOME: join(d.home, '.codex'),
    CLAUDE_HOME: join(d.home, '.claude'),
    CLAUDE_CONFIG_DIR: join(d.home, '.claude'),
  };
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'codexHelper.codex.port': codex,
    'codexHelper.claude.port': claude,
  };
  const extra = (await prepare(root, { root, ...d, env, settings })) ?? {};
  Object.assign(settings, extra.settings ?? {});
  Object.assign(env, extra.env ?? {});
  writeFileSync(join(userDir, 'settings.json'), JSON.stringify(settings, null, 2));
  run = runTests({
    version: process.env.VSCODE_VERSION ?? 'stable',
    extensionDevelopmentPath: REPO,
    extensionTestsPath: indexJs,
    launchArgs: [d.workspace, '--disable-extensions', '--disable-workspace-trust',
      '--user-data-dir', d.userDataDir, '--extensions-dir', d.extensionsDir],
    extensionTestsEnv: env,
  });
  status = await Promise.race([run, limit.p]);
} catch (e) {
  console.error(`[test:vscode] failed: ${e?.message ?? e}`);
  if (run) await closeVsCode(run);
} finally {
  limit.clear();
  rmSync(root, { recursive: true, force: true });
}
process.exit(status);
