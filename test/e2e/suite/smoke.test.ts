import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'codex-helper.codex-helper-vscode';

describe('smoke: extension in a real VS Code', () => {
  it('is installed', () => {
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID), `${EXTENSION_ID} not found`);
  });

  it('activates without throwing', async function () {
    this.timeout(60000);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} not found`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('runs with the isolated HOME the harness prepared', () => {
    // Guards against the suite ever touching the developer's real ~/.codex or ~/.claude.
    const root = process.env['E2E_ROOT'];
    const home = process.env['CODEX_HELPER_HOME'];
    assert.ok(root, 'E2E_ROOT not set: not started by the e2e harness');
    assert.ok(home?.startsWith(root), `CODEX_HELPER_HOME=${home} is outside ${root}`);
  });
});
