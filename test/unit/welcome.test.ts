// The first-run commands (welcome.ts), in plain Node: the `noConfigFile` context key, Import Config into a
// temporary home (success, and a refusal shown once with its fix), and Open Walkthrough.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CMD, CONTEXT } from '../../src/host/constants';
import { registerWelcome } from '../../src/host/welcome';
import { hostFixture } from '../helpers/hostFixture';
import type { HostFixture } from '../helpers/hostFixture';
import { settle } from '../helpers/fakeUi';

describe('welcome commands (plain Node, scripted UI, temporary homes)', () => {
  let f: HostFixture;
  let off: { dispose(): void };

  beforeEach(() => {
    f = hostFixture(undefined);
    // The environment comes from extension.ts: Codex's home with one provider to import, nothing for Claude Code.
    writeFileSync(join(f.codexHome, 'config.toml'),
      'model_provider = "work"\n[model_providers.work]\nbase_url = "https://api.work.example/v1"\nenv_key = "WORK_KEY"\n');
    const env = { HOME: f.dir, CODEX_HOME: f.codexHome, CLAUDE_HOME: f.claudeHome, CODEX_HELPER_HOME: '/not/this/one' };
    off = registerWelcome({ home: () => f.home, store: f.store, log: f.log, ui: f.ui, env });
  });
  afterEach(async () => {
    off.dispose();
    await f.close();
  });

  it('Import Config writes config.toml in the config home, opens it, says what it imported, and clears noConfigFile', async () => {
    assert.equal(f.ui.context.get(CONTEXT.noConfigFile), true);
    assert.equal(await f.ui.run(CMD.importConfig), true);
    const file = join(f.home, 'config.toml');
    assert.match(readFileSync(file, 'utf8'), /api\.work\.example/);
    assert.deepEqual(f.ui.opened, [{ path: file }]);
    assert.match(f.ui.messages('info')[0] ?? '', /^Codex Helper: created config\.toml \(imported 1 codex config\(s\): work\)\.$/);
    assert.equal(f.ui.context.get(CONTEXT.noConfigFile), false);
  });

  it('Import Config over an existing file refuses, says why once, and offers to open it', async () => {
    writeFileSync(join(f.home, 'config.toml'), '# mine\n');
    f.ui.click('Open Config File');
    assert.equal(await f.ui.run(CMD.importConfig), false);
    await settle();
    assert.match(f.ui.messages('error')[0] ?? '', /config\.toml already exists/);
    assert.deepEqual(f.ui.executed.map((e) => e.id), [CMD.openConfigFile]);
    assert.equal(readFileSync(join(f.home, 'config.toml'), 'utf8'), '# mine\n', 'nothing overwritten');
  });

  it('Open Walkthrough opens the getting-started walkthrough', async () => {
    await f.ui.run(CMD.openWalkthrough);
    assert.equal(f.ui.executed[0]?.id, 'workbench.action.openWalkthrough');
    assert.match(String(f.ui.executed[0]?.args[0]), /#codexHelper\.gettingStarted$/);
  });
});
