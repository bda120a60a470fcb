// The environment knobs: read once into typed options (src/core/envOptions.ts), every one of them listed in
// ENV_KNOBS and documented in README.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV_KNOBS, readEnvOptions } from '../../src/core/envOptions';
import { readHostEnv } from '../../src/io/hostEnv';

const ROOT = resolve(__dirname, '../../..');

function sourceTexts(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceTexts(p));
    else if (p.endsWith('.ts')) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

describe('environment knobs', () => {
  it('every CODEX_HELPER_* name the source uses is in ENV_KNOBS, and README documents each of them', () => {
    const used = new Set<string>();
    // Names ending in `_` are prefixes quoted in prose (CODEX_HELPER_PRICE_*), not variables.
    for (const text of sourceTexts(join(ROOT, 'src'))) for (const m of text.matchAll(/\bCODEX_HELPER_[A-Z0-9_]*[A-Z0-9]\b/g)) used.add(m[0]);
    // Not variables: constants esbuild defines at build time.
    const buildConstants = new Set(['CODEX_HELPER_VERSION']);
    const missing = [...used].filter((n) => !(n in ENV_KNOBS) && !buildConstants.has(n));
    assert.deepEqual(missing, [], 'used in src but not listed in src/core/envOptions.ts');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const undocumented = Object.keys(ENV_KNOBS).filter((n) => !readme.includes(`\`${n}\``));
    assert.deepEqual(undocumented, [], 'listed but not in README');
  });

  it('reads the typed options once: defaults when unset, bad numbers ignored, 0 kept where it means "off"', () => {
    const none = readEnvOptions({});
    assert.equal(none.usageReplayOnStartup, true);
    assert.equal(none.requestLogOnlyErrors, false);
    assert.equal(none.retryTrace, false);
    assert.equal(none.recentFinishedMax, undefined);
    const some = readEnvOptions({
      CODEX_HELPER_RECENT_FINISHED_MAX: ' 500 ',
      CODEX_HELPER_SESSION_OVERRIDE_TTL_SECS: '-3',
      CODEX_HELPER_USAGE_REPLAY_ON_STARTUP: 'off',
      CODEX_HELPER_REQUEST_LOG_ONLY_ERRORS: 'YES',
      CODEX_HELPER_RETRY_TRACE: '1',
      CODEX_HELPER_RETRY_TRACE_PATH: '  /tmp/t.jsonl ',
      CODEX_HELPER_SESSION_CWD_CACHE_TTL_SECS: '0',
      CODEX_HELPER_SESSION_CWD_CACHE_MAX_ENTRIES: 'many',
    });
    assert.equal(some.recentFinishedMax, 500);
    assert.equal(some.sessionOverrideTtlSecs, undefined);
    assert.equal(some.usageReplayOnStartup, false);
    assert.equal(some.requestLogOnlyErrors, true);
    assert.equal(some.retryTrace, true);
    assert.equal(some.retryTracePath, '/tmp/t.jsonl');
    assert.equal(some.sessionCwdCacheTtlSecs, 0);
    assert.equal(some.sessionCwdCacheMaxEntries, undefined);
  });

  it('reads what the extension needs once (HostEnv): the three homes with their defaults, the l10n bundle, a copy of the snapshot', () => {
    const none = readHostEnv({}, '/home/u');
    assert.equal(none.helperHome, join('/home/u', '.codex-helper'));
    assert.equal(none.codexHome, join('/home/u', '.codex'));
    assert.equal(none.claudeHome, join('/home/u', '.claude'));
    assert.equal(none.l10nBundle, undefined);
    const env: Record<string, string | undefined> = { CODEX_HELPER_HOME: '/h', CODEX_HOME: ' /c ', CLAUDE_HOME: '  ', CODEX_HELPER_L10N_BUNDLE: ' /b.json ', X: '1' };
    const some = readHostEnv(env, '/home/u');
    assert.deepEqual([some.helperHome, some.codexHome, some.claudeHome, some.l10nBundle], ['/h', '/c', join('/home/u', '.claude'), '/b.json']);
    env['X'] = '2';
    assert.equal(some.snapshot['X'], '1', 'a snapshot, not a live view of the environment');
  });
});
