#!/usr/bin/env node
// Runs test/e2e/suite in desktop VS Code via @vscode/test-electron (needs to download VS Code, so not in our CI;
// there scripts/e2e/run.mjs runs the same suite in code-server). Expects `npm run build` to have produced dist/.
import { runTests } from '@vscode/test-electron';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleSuite, REPO } from '../../scripts/e2e/bundleSuite.mjs';

const root = mkdtempSync(join(tmpdir(), 'codex-helper-vscode-test-'));
let status = 1;
try {
  // Bundled inside the repo so require('mocha') resolves to the repo's node_modules.
  const outDir = join(REPO, 'out/e2e-suite');
  rmSync(outDir, { recursive: true, force: true });
  const { indexJs } = await bundleSuite({ outDir });
  const home = join(root, 'home');
  const workspace = join(root, 'workspace');
  const userDir = join(root, 'user-data', 'User');
  for (const d of [home, workspace, userDir]) mkdirSync(d, { recursive: true });
  writeFileSync(join(userDir, 'settings.json'), JSON.stringify({
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
  }, null, 2));
  status = await runTests({
    version: process.env.VSCODE_VERSION ?? 'stable',
    extensionDevelopmentPath: REPO,
    extensionTestsPath: indexJs,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust',
      '--user-data-dir', join(root, 'user-data'), '--extensions-dir', join(root, 'extensions')],
    extensionTestsEnv: {
      E2E_ROOT: root,
      E2E_WORKSPACE: workspace,
      E2E_RESULT_FILE: join(root, 'mocha-result.json'),
      CODEX_HELPER_HOME: join(home, '.codex-helper'),
      CODEX_HOME: join(home, '.codex'),
      CLAUDE_HOME: join(home, '.claude'),
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
    },
  });
} catch (e) {
  console.error(`[test:vscode] failed: ${e?.message ?? e}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
process.exit(status);
