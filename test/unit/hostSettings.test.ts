import assert from 'node:assert/strict';
import { diffSettings, effectiveValue, readSettings } from '../../src/host/settings';
import type { Inspected } from '../../src/host/settings';
import { serviceOfArg, stringOfArg, numberOfArg } from '../../src/host/commandArgs';
import { envVarOf, withEnvVar } from '../../src/host/clientEnv';
import { findFreePort, listenerFixes, portConflictPrompt, validatePortInput } from '../../src/host/portConflict';
import { isWithin, sessionChoices, sessionsForDefaultEffort } from '../../src/host/sessions';
import type { ApiSnapshot } from '../../src/proxy/adminClient';
import type { SessionStats } from '../../src/core/state';

const inspector = (values: Record<string, Inspected>) => (key: string) => values[key];

describe('host settings', () => {
  it('uses defaults when nothing is set', () => {
    const { settings, problems } = readSettings(() => undefined, true);
    assert.deepEqual(problems, []);
    assert.equal(settings.autoStart, true);
    assert.deepEqual(settings.services, { codex: { enabled: true, port: 3211 }, claude: { enabled: true, port: 3210 } });
    assert.equal(settings.webviewMaxRows, 200);
    assert.equal(settings.logLevel, 'info');
    assert.equal(settings.configHome, undefined);
    assert.equal(settings.codexDefaultEffort, undefined);
  });

  it('takes the most specific value and treats blank strings as unset', () => {
    const { settings } = readSettings(inspector({
      'codex.port': { defaultValue: 3211, globalValue: 4000 },
      'codex.pinnedConfig': { defaultValue: '', globalValue: 'a', workspaceValue: 'b', workspaceFolderValue: 'c' },
      'claude.pinnedConfig': { defaultValue: '', workspaceValue: '  ' },
      'codex.defaultEffort': { workspaceValue: 'high' },
      'proxy.configHome': { globalValue: '/srv/helper' },
      'log.level': { globalValue: 'debug' },
    }), true);
    assert.equal(settings.services.codex.port, 4000);
    assert.equal(settings.services.codex.pinnedConfig, 'c');
    assert.equal(settings.services.claude.pinnedConfig, undefined);
    assert.equal(settings.codexDefaultEffort, 'high');
    assert.equal(settings.configHome, '/srv/helper');
    assert.equal(settings.logLevel, 'debug');
  });

  it('ignores workspace values of restricted settings in an untrusted workspace, but not user values', () => {
    const values = inspector({
      'proxy.configHome': { globalValue: '/mine', workspaceValue: '/attacker' },
      'codex.pinnedConfig': { workspaceValue: 'theirs' },
      'codex.defaultEffort': { workspaceFolderValue: 'xhigh' },
      'webview.maxRows': { workspaceValue: 50 },
    });
    const untrusted = readSettings(values, false).settings;
    assert.equal(untrusted.configHome, '/mine');
    assert.equal(untrusted.services.codex.pinnedConfig, undefined);
    assert.equal(untrusted.codexDefaultEffort, undefined);
    assert.equal(untrusted.webviewMaxRows, 50, 'harmless settings still follow the workspace');
    const trusted = readSettings(values, true).settings;
    assert.equal(trusted.configHome, '/attacker');
    assert.equal(trusted.services.codex.pinnedConfig, 'theirs');
    assert.equal(effectiveValue('codex.port', { workspaceValue: 1, globalValue: 2 }, false), 2);
  });

  it('replaces invalid values by defaults and reports each once', () => {
    const { settings, problems } = readSettings(inspector({
      'codex.port': { globalValue: 70000 },
      'claude.port': { globalValue: '3210' },
      'proxy.autoStart': { globalValue: 'yes' },
      'codex.defaultEffort': { globalValue: 'max' },
      'webview.maxRows': { globalValue: 2.5 },
    }), true);
    assert.equal(settings.services.codex.port, 3211);
    assert.equal(settings.services.claude.port, 3210);
    assert.equal(settings.autoStart, true);
    assert.equal(settings.codexDefaultEffort, undefined);
    assert.equal(settings.webviewMaxRows, 200);
    assert.equal(problems.length, 5);
    assert.match(problems[0]!, /codexHelper\.codex\.port must be an integer 1\.\.65535 \(got 70000\); using 3211/);
  });

  it('restarts only the listener whose port changed, stops disabled ones, and flags pins and home', () => {
    const base = readSettings(() => undefined, true).settings;
    const portChange = { ...base, services: { ...base.services, claude: { enabled: true, port: 4010 } } };
    assert.deepEqual(diffSettings(base, portChange), { homeChanged: false, restart: ['claude'], stop: [], pins: [] });
    const disabled = { ...base, services: { ...base.services, codex: { enabled: false, port: 3211 } } };
    assert.deepEqual(diffSettings(base, disabled), { homeChanged: false, restart: [], stop: ['codex'], pins: [] });
    assert.deepEqual(diffSettings(disabled, base).restart, ['codex']);
    const pinned = { ...base, services: { ...base.services, codex: { enabled: true, port: 3211, pinnedConfig: 'x' } } };
    assert.deepEqual(diffSettings(base, pinned), { homeChanged: false, restart: [], stop: [], pins: ['codex'] });
    assert.equal(diffSettings(base, { ...base, configHome: '/x' }).homeChanged, true);
    assert.deepEqual(diffSettings(base, { ...base, logLevel: 'debug' }), { homeChanged: false, restart: [], stop: [], pins: [] });
  });
});

describe('host helpers', () => {
  it('reads command arguments of any origin without trusting their shape', () => {
    assert.equal(serviceOfArg('claude'), 'claude');
    assert.equal(serviceOfArg({ service: 'codex', config: 'x' }), 'codex');
    assert.equal(serviceOfArg({ service: 'other' }), undefined);
    assert.equal(serviceOfArg(undefined), undefined);
    assert.equal(stringOfArg({ config: 'main' }, 'config'), 'main');
    assert.equal(stringOfArg({ config: ' ' }, 'config'), undefined);
    assert.equal(stringOfArg('main', 'config'), undefined);
    assert.equal(numberOfArg({ level: 3 }, 'level'), 3);
    assert.equal(numberOfArg({ level: '3' }, 'level'), undefined);
  });

  it('offers attaching only when a codex-helper proxy holds the port, and then as the primary action', () => {
    const helper = portConflictPrompt('codex', 3211, true);
    assert.deepEqual(helper.actions.map((a) => a.action), ['attach', 'useAnotherPort', 'showLog']);
    assert.match(helper.message, /Codex proxy cannot listen on port 3211: another codex-helper proxy is already running there/);
    const other = portConflictPrompt('claude', 3210, false);
    assert.deepEqual(other.actions.map((a) => a.action), ['useAnotherPort', 'showLog']);
    assert.match(other.message, /Claude Code proxy .* another program uses it/);
  });

  it('lists the fixes of a failed listener, best first', () => {
    assert.deepEqual(listenerFixes('EADDRINUSE', 3211, true).map((f) => f.action), ['attach', 'useAnotherPort', 'retry', 'showLog']);
    assert.deepEqual(listenerFixes('EADDRINUSE', 3211, false).map((f) => f.action), ['useAnotherPort', 'retry', 'showLog']);
    assert.deepEqual(listenerFixes('HOST_FAILED', 3211, false).map((f) => f.action), ['openConfig', 'retry', 'showLog']);
    assert.match(listenerFixes('EADDRINUSE', 3211, true)[0]!.detail, /listening on 3211/);
  });

  it('validates a typed port and suggests a free one', async () => {
    assert.equal(validatePortInput('4000', [3210]), undefined);
    assert.match(validatePortInput('3210', [3210])!, /already used by the other service/);
    assert.match(validatePortInput('0', [])!, /between 1 and 65535/);
    assert.match(validatePortInput('12ab', [])!, /between 1 and 65535/);
    const p = await findFreePort();
    assert.ok(p > 0 && p <= 65535);
  });

  it('edits claudeCode.environmentVariables without losing other entries', () => {
    const list = [{ name: 'FOO', value: '1' }, { name: 'ANTHROPIC_BASE_URL', value: 'https://old' }, 'junk'];
    const set = withEnvVar(list, 'ANTHROPIC_BASE_URL', 'http://127.0.0.1:3210');
    assert.deepEqual(set, [{ name: 'FOO', value: '1' }, { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:3210' }, 'junk']);
    assert.equal(envVarOf(set, 'ANTHROPIC_BASE_URL'), 'http://127.0.0.1:3210');
    assert.deepEqual(withEnvVar(set, 'ANTHROPIC_BASE_URL', undefined), [{ name: 'FOO', value: '1' }, 'junk']);
    assert.deepEqual(withEnvVar(undefined, 'A', 'b'), [{ name: 'A', value: 'b' }]);
  });

  it('lists recent sessions newest first with cwd, model and overrides', () => {
    const stat = (o: Partial<SessionStats>): SessionStats => ({ turns_total: 1, total_usage: { input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, total_tokens: 0 }, turns_with_usage: 0, last_seen_ms: 0, ...o });
    const snap = { snapshot: {
      session_stats: { old: stat({ last_seen_ms: 1000, cwd: '/p/old' }), new: stat({ last_seen_ms: 50_000, last_model: 'gpt-5', last_reasoning_effort: 'high', turns_total: 3 }) },
      session_effort_overrides: { new: 'low' }, session_config_overrides: { old: 'backup' },
    } } as unknown as ApiSnapshot;
    const c = sessionChoices(snap, 60_000);
    assert.deepEqual(c.map((x) => x.sessionId), ['new', 'old']);
    assert.equal(c[0]!.label, '$(comment-discussion) new', 'the full id, never a prefix');
    assert.equal(c[0]!.description, 'active 10s ago · gpt-5 · high');
    assert.equal(c[0]!.detail, '3 turns · override: effort low');
    assert.equal(c[1]!.label, '$(folder) /p/old');
    assert.match(c[1]!.detail, /^old · 1 turn · override: config backup/);
  });

  it('never cuts session ids: two sessions sharing an 8-character prefix stay apart', () => {
    const stat = { turns_total: 1, total_usage: { input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, total_tokens: 0 }, turns_with_usage: 0, last_seen_ms: 0 };
    const a = '019a2b3c-0000-7000-8000-000000000001';
    const b = '019a2b3c-0000-7000-8000-000000000002';
    const snap = { snapshot: { session_stats: { [a]: stat, [b]: stat }, session_effort_overrides: {}, session_config_overrides: {} } } as unknown as ApiSnapshot;
    const labels = sessionChoices(snap, 0).map((x) => x.label);
    assert.equal(new Set(labels).size, 2);
    assert.ok(labels.some((l) => l.endsWith(a)) && labels.some((l) => l.endsWith(b)));
  });

  it('gives the workspace default effort to new sessions inside an open folder only', () => {
    const s = (cwd?: string) => ({ turns_total: 1, total_usage: { input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, total_tokens: 0 }, turns_with_usage: 0, last_seen_ms: 0, ...(cwd ? { cwd } : {}) });
    const stats = { a: s('/work/proj'), b: s('/work/proj/sub'), c: s('/work/project2'), d: s(), e: s('/work/proj') };
    const picked = sessionsForDefaultEffort(stats, { e: 'low' }, ['/work/proj'], new Set(['b']));
    assert.deepEqual(picked, ['a']);
    assert.deepEqual(sessionsForDefaultEffort(stats, {}, [], new Set()), []);
    assert.equal(isWithin('/work/proj', '/work/proj'), true);
    assert.equal(isWithin('/work/project2', '/work/proj'), false);
  });
});
