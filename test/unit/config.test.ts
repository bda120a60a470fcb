import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  activeConfig, clampLevel, ConfigError, defaultProxyConfig, embeddedDefaultConfig,
  parseConfigText, resolveRetry, RETRY_PROFILES,
} from '../../src/core/config';
import { configFilePath, loadConfig, proxyHomeDir } from '../../src/io/configFile';
import type { RetryConfig, ServiceConfig } from '../../src/core/types';

const FULL_TOML = `version = 1
default_service = "codex"

[codex]
active = "main"

[codex.configs.zeta]
level = 2
[[codex.configs.zeta.upstreams]]
base_url = "https://z.example/v1"

[codex.configs.main]
alias = "primary"
colour = "blue"
[[codex.configs.main.upstreams]]
base_url = "https://a.example/v1"
[codex.configs.main.upstreams.auth]
auth_token_env = "A_KEY"
[codex.configs.main.upstreams.tags]
provider_id = "a"
[codex.configs.main.upstreams.supported_models]
"gpt-5*" = true
"gpt-4" = false
"claude-*" = true
[codex.configs.main.upstreams.model_mapping]
"z-*" = "zz"
"a-*" = "aa"

[[codex.configs.main.upstreams]]
base_url = "https://b.example/v1"
auth = { api_key_env = "B_KEY", mystery = 1 }
supportedModels = { "b" = true, "a" = true }

[claude.configs.c1]
name = "  "
enabled = false
upstreams = [ { base_url = "https://c.example" } ]

[retry]
profile = "cost-primary"
[retry.upstream]
max_attempts = 4
strategy = "failover"

[notify]
enabled = true
[notify.policy]
min_duration_ms = 5

[ui]
language = "en"

[future]
x = 1
`;

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err;
  }
  assert.fail('expected a ConfigError');
}

function tomlError(text: string): ConfigError {
  return errorOf(() => parseConfigText(text, '/h/config.toml', 'toml'));
}

function svc(cfg: ServiceConfig | undefined): ServiceConfig {
  assert.ok(cfg);
  return cfg;
}

describe('config: parseConfigText (TOML)', () => {
  const { config, warnings } = parseConfigText(FULL_TOML, '/h/config.toml', 'toml');

  it('reads managers, configs and upstreams with seed defaults', () => {
    assert.equal(config.version, 1);
    assert.equal(config.default_service, 'codex');
    assert.equal(config.codex.active, 'main');
    const main = svc(config.codex.configs['main']);
    assert.equal(main.name, 'main');
    assert.equal(main.alias, 'primary');
    assert.equal(main.enabled, true);
    assert.equal(main.level, 1);
    assert.equal(main.upstreams.length, 2);
    assert.deepEqual(main.upstreams[0], {
      base_url: 'https://a.example/v1',
      auth: { auth_token_env: 'A_KEY' },
      tags: { provider_id: 'a' },
      supported_models: { 'gpt-5*': true, 'gpt-4': false, 'claude-*': true },
      model_mapping: { 'z-*': 'zz', 'a-*': 'aa' },
    });
    assert.deepEqual(main.upstreams[1]?.auth, { api_key_env: 'B_KEY' });
    assert.deepEqual(main.upstreams[1]?.supported_models, { b: true, a: true });
    assert.equal(svc(config.codex.configs['zeta']).level, 2);
  });

  it('normalizes a blank name to the map key and keeps enabled=false', () => {
    const c1 = svc(config.claude.configs['c1']);
    assert.equal(c1.name, 'c1');
    assert.equal(c1.enabled, false);
    assert.equal(c1.upstreams[0]?.base_url, 'https://c.example');
  });

  it('keeps file order of configs, supported_models and model_mapping', () => {
    assert.deepEqual(Object.keys(config.codex.configs), ['zeta', 'main']);
    const up = svc(config.codex.configs['main']).upstreams[0];
    assert.deepEqual(Object.keys(up?.supported_models ?? {}), ['gpt-5*', 'gpt-4', 'claude-*']);
    assert.deepEqual(Object.keys(up?.model_mapping ?? {}), ['z-*', 'a-*']);
    assert.deepEqual(Object.keys(svc(config.codex.configs['main']).upstreams[1]?.supported_models ?? {}), ['b', 'a']);
  });

  it('keeps retry as written and notify verbatim as plain JSON values', () => {
    assert.deepEqual(config.retry, { profile: 'cost-primary', upstream: { max_attempts: 4, strategy: 'failover' } });
    assert.deepEqual(config.notify, { enabled: true, policy: { min_duration_ms: 5 } });
    assert.equal(JSON.stringify(config.notify), '{"enabled":true,"policy":{"min_duration_ms":5}}');
    assert.deepEqual(config.ui, { language: 'en' });
  });

  it('turns unknown keys into warnings with their line', () => {
    const byKey = new Map(warnings.map((w) => [w.key, w]));
    const lineWith = (needle: string): number => FULL_TOML.split('\n').findIndex((l) => l.includes(needle)) + 1;
    assert.equal(byKey.get('codex.configs.main.colour')?.line, 14);
    assert.equal(byKey.get('codex.configs.main.upstreams[1].auth.mystery')?.line, lineWith('mystery'));
    assert.equal(byKey.get('future')?.line, lineWith('[future]'));
    assert.equal(warnings.length, 3);
    for (const w of warnings) assert.equal(w.file, '/h/config.toml');
  });

  it('defaults an absent [retry] to the balanced profile and empty managers', () => {
    const r = parseConfigText('', 'f', 'toml');
    assert.deepEqual(r.config, defaultProxyConfig());
    assert.deepEqual(r.warnings, []);
  });

  it('reads [retry] hold_preamble_ms / hold_preamble_bytes without warnings', () => {
    const r = parseConfigText('[retry]\nhold_preamble_ms = 0\nhold_preamble_bytes = 1024\n', 'f', 'toml');
    assert.deepEqual(r.warnings, []);
    const resolved = resolveRetry(r.config.retry);
    assert.deepEqual([resolved.hold_preamble_ms, resolved.hold_preamble_bytes], [0, 1024]);
    assert.throws(() => parseConfigText('[retry]\nhold_preamble_ms = "soon"\n', 'f', 'toml'), ConfigError);
  });

  it('accepts the camelCase alias modelMapping', () => {
    const r = parseConfigText('[[codex.configs.a.upstreams]]\nbase_url = "https://u.example"\nmodelMapping = { x = "y" }\n', 'f', 'toml');
    assert.deepEqual(svc(r.config.codex.configs['a']).upstreams[0]?.model_mapping, { x: 'y' });
  });

  it('stores a "__proto__" key as data, not as a prototype', () => {
    const r = parseConfigText('[[codex.configs.a.upstreams]]\nbase_url = "https://u.example"\n[codex.configs.a.upstreams.tags]\n"__proto__" = "p"\n', 'f', 'toml');
    const tags = svc(r.config.codex.configs['a']).upstreams[0]?.tags ?? {};
    assert.deepEqual(Object.keys(tags), ['__proto__']);
    assert.equal(Object.getPrototypeOf(tags), Object.prototype);
  });
});

describe('config: errors name file, line and key', () => {
  it('wrong type for base_url under [[...upstreams]]', () => {
    const text = '[codex.configs.main]\n\n[[codex.configs.main.upstreams]]\nbase_url = "https://ok.example"\n\n[[codex.configs.main.upstreams]]\nbase_url = 42\n';
    const e = tomlError(text);
    assert.equal(e.message, '/h/config.toml:7: codex.configs.main.upstreams[1].base_url: expected a string, got 42');
    assert.equal(e.line, 7);
    assert.equal(e.key, 'codex.configs.main.upstreams[1].base_url');
    assert.equal(e.file, '/h/config.toml');
  });

  it('level above 255', () => {
    const e = tomlError('[claude]\nactive = "x"\n[claude.configs.x]\nalias = "a"\nlevel = 300\n');
    assert.equal(e.line, 5);
    assert.match(e.message, /^\/h\/config\.toml:5: claude\.configs\.x\.level: expected an integer in 0\.\.=255, got 300$/);
  });

  it('a float level is not an integer', () => {
    const e = tomlError('[codex]\nconfigs.m.level = 1.5\n');
    assert.equal(e.line, 2);
    assert.equal(e.key, 'codex.configs.m.level');
  });

  it('unknown retry profile (and strategy in snake_case only)', () => {
    const e = tomlError('version = 1\n\n[retry]\n# comment\nprofile = "fast"\n');
    assert.equal(e.line, 5);
    assert.equal(e.key, 'retry.profile');
    assert.match(e.message, /expected one of "balanced", "same-upstream", "aggressive-failover", "cost-primary", got "fast"/);
    const s = tomlError('[retry.provider]\nstrategy = "same-upstream"\n');
    assert.equal(s.line, 2);
    assert.equal(s.key, 'retry.provider.strategy');
  });

  it('TOML syntax error carries the parser line', () => {
    const e = tomlError('version = 1\n[codex]\nactive = \n');
    assert.equal(e.line, 3);
    assert.equal(e.key, undefined);
    assert.match(e.message, /^\/h\/config\.toml:3: TOML syntax error/);
  });

  it('inline tables inside a multi-line upstreams array', () => {
    const e = tomlError('[codex.configs.a]\nupstreams = [\n  { base_url = "https://x.example" },\n  { base_url = "https://y.example", tags = { id = 5 } },\n]\n');
    assert.equal(e.line, 4);
    assert.equal(e.key, 'codex.configs.a.upstreams[1].tags.id');
  });

  it('auth sub-table of the second upstream', () => {
    const e = tomlError('[[codex.configs.a.upstreams]]\nbase_url = "https://x.example"\n[[codex.configs.a.upstreams]]\nbase_url = "https://y.example"\n[codex.configs.a.upstreams.auth]\napi_key_env = false\n');
    assert.equal(e.line, 6);
    assert.equal(e.key, 'codex.configs.a.upstreams[1].auth.api_key_env');
  });

  it('missing base_url points at the upstream header', () => {
    const e = tomlError('[codex.configs.a]\n[[codex.configs.a.upstreams]]\ntags = {}\n');
    assert.equal(e.line, 2);
    assert.equal(e.key, 'codex.configs.a.upstreams[0].base_url');
  });

  it('never echoes string values (they may be secrets)', () => {
    const e = tomlError('[[codex.configs.a.upstreams]]\nbase_url = "https://x.example"\ntags = "sk-very-secret"\n');
    assert.equal(e.line, 3);
    assert.ok(!e.message.includes('sk-very-secret'));
    assert.match(e.message, /expected a table, got a string/);
  });

  it('supported_models values must be booleans', () => {
    const e = tomlError('[[codex.configs.a.upstreams]]\nbase_url = "https://x.example"\n[codex.configs.a.upstreams.supported_models]\n"gpt-4.1" = "yes"\n');
    assert.equal(e.line, 4);
    assert.equal(e.key, 'codex.configs.a.upstreams[0].supported_models."gpt-4.1"');
  });

  it('JSON: wrong type, located by its "key":', () => {
    const json = '{\n  "codex": {\n    "configs": {\n      "m": {\n        "upstreams": [\n          { "base_url": 42 }\n        ]\n      }\n    }\n  }\n}\n';
    const e = errorOf(() => parseConfigText(json, '/h/config.json', 'json'));
    assert.equal(e.message, '/h/config.json:6: codex.configs.m.upstreams[0].base_url: expected a string, got 42');
  });

  it('JSON: syntax error has a line', () => {
    const e = errorOf(() => parseConfigText('{\n  "version": 1,\n}\n', '/h/config.json', 'json'));
    assert.equal(e.line, 3);
    assert.match(e.message, /JSON syntax error/);
  });
});

describe('config: JSON (legacy) format', () => {
  it('parses the same schema, treats null as absent, warns on unknown keys with line', () => {
    const json = JSON.stringify({
      codex: { active: null, configs: { b: { upstreams: [{ base_url: 'https://u.example', modelMapping: { m: 'n' } }] }, a: { level: 3, upstreams: [] } } },
      retry: { max_attempts: 5, extra: true },
    }, null, 2);
    const { config, warnings } = parseConfigText(json, 'c.json', 'json');
    assert.equal(config.codex.active, undefined);
    assert.deepEqual(Object.keys(config.codex.configs), ['b', 'a']);
    assert.deepEqual(svc(config.codex.configs['b']).upstreams[0]?.model_mapping, { m: 'n' });
    assert.deepEqual(config.retry, { max_attempts: 5 });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.key, 'retry.extra');
    assert.equal(warnings[0]?.line, json.split('\n').findIndex((l) => l.includes('"extra"')) + 1);
  });

  it('rejects non-integer numbers', () => {
    const e = errorOf(() => parseConfigText('{"retry":{"jitter_ms":1.5}}', 'c.json', 'json'));
    assert.equal(e.key, 'retry.jitter_ms');
    assert.equal(e.line, 1);
  });
});

describe('config: files on disk', () => {
  const dirs: string[] = [];
  const mk = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'chcfg-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('proxyHomeDir honours a non-blank CODEX_HELPER_HOME, trimmed', () => {
    assert.equal(proxyHomeDir({ CODEX_HELPER_HOME: '  /x/y  ' }, '/home/u'), '/x/y');
    assert.equal(proxyHomeDir({ CODEX_HELPER_HOME: '   ' }, '/home/u'), path.join('/home/u', '.codex-helper'));
    assert.equal(proxyHomeDir({}, '/home/u'), path.join('/home/u', '.codex-helper'));
  });

  it('no file: embedded default, path = config.toml', () => {
    const home = mk();
    assert.equal(configFilePath(home), path.join(home, 'config.toml'));
    const loaded = loadConfig(home);
    assert.equal(loaded.format, 'embedded');
    assert.equal(loaded.path, path.join(home, 'config.toml'));
    assert.equal(loaded.mtimeMs, undefined);
    assert.deepEqual(loaded.config, embeddedDefaultConfig());
    const codex = svc(activeConfig(loaded.config.codex));
    assert.equal(codex.alias, 'OpenAI (embedded default)');
    assert.deepEqual(codex.upstreams[0]?.auth, { auth_token_env: 'OPENAI_API_KEY' });
    assert.deepEqual(codex.upstreams[0]?.tags, { provider_id: 'openai', source: 'embedded-default', auth_prefer_client: 'true' });
    const claude = svc(activeConfig(loaded.config.claude));
    assert.equal(claude.upstreams[0]?.base_url, 'https://api.anthropic.com/v1');
    assert.deepEqual(claude.upstreams[0]?.auth, { api_key_env: 'ANTHROPIC_API_KEY' });
    assert.equal(claude.upstreams[0]?.tags['provider_id'], 'anthropic');
    assert.deepEqual(loaded.config.retry, { profile: 'balanced' });
  });

  it('JSON only: loads config.json and sets version 1', () => {
    const home = mk();
    fs.writeFileSync(path.join(home, 'config.json'), '{"claude":{"configs":{"x":{"upstreams":[{"base_url":"https://j.example"}]}}}}');
    assert.equal(configFilePath(home), path.join(home, 'config.json'));
    const loaded = loadConfig(home);
    assert.equal(loaded.format, 'json');
    assert.equal(loaded.path, path.join(home, 'config.json'));
    assert.equal(loaded.config.version, 1);
    assert.equal(typeof loaded.mtimeMs, 'number');
    assert.equal(svc(loaded.config.claude.configs['x']).upstreams[0]?.base_url, 'https://j.example');
  });

  it('TOML wins over JSON', () => {
    const home = mk();
    fs.writeFileSync(path.join(home, 'config.json'), '{"codex":{"active":"json"}}');
    fs.writeFileSync(path.join(home, 'config.toml'), 'version = 1\n[codex]\nactive = "toml"\n');
    assert.equal(configFilePath(home), path.join(home, 'config.toml'));
    const loaded = loadConfig(home);
    assert.equal(loaded.format, 'toml');
    assert.equal(loaded.config.codex.active, 'toml');
  });

  it('a broken file on disk throws ConfigError naming the real path', () => {
    const home = mk();
    const file = path.join(home, 'config.toml');
    fs.writeFileSync(file, '\uFEFF[codex.configs.a]\nlevel = 300\n');
    const e = errorOf(() => loadConfig(home));
    assert.equal(e.message, `${file}:2: codex.configs.a.level: expected an integer in 0..=255, got 300`);
  });
});

describe('config: activeConfig and clampLevel', () => {
  const mk = (name: string): ServiceConfig => ({ name, enabled: true, level: 1, upstreams: [] });

  it('prefers active, else the smallest key, else undefined', () => {
    const configs = { m: mk('m'), b: mk('b'), z: mk('z') };
    assert.equal(activeConfig({ active: 'z', configs })?.name, 'z');
    assert.equal(activeConfig({ active: 'missing', configs })?.name, 'b');
    assert.equal(activeConfig({ configs })?.name, 'b');
    assert.equal(activeConfig({ configs: {} }), undefined);
  });

  it('clamps levels into 1..=10', () => {
    assert.deepEqual([0, 1, 5, 10, 11, 255].map(clampLevel), [1, 1, 5, 10, 10, 10]);
  });
});

describe('config: resolveRetry', () => {
  it('profile table', () => {
    const b = resolveRetry({});
    assert.deepEqual(b, {
      upstream: {
        max_attempts: 2, backoff_ms: 200, backoff_max_ms: 2000, jitter_ms: 100, on_status: '429,500-599,524',
        on_class: ['upstream_transport_error', 'cloudflare_timeout', 'cloudflare_challenge'], strategy: 'same_upstream',
      },
      provider: {
        max_attempts: 2, backoff_ms: 0, backoff_max_ms: 0, jitter_ms: 0, on_status: '401,403,404,408,429,500-599,524',
        on_class: ['upstream_transport_error'], strategy: 'failover',
      },
      never_on_status: '413,415,422',
      never_on_class: ['client_error_non_retryable'],
      cloudflare_challenge_cooldown_secs: 300,
      cloudflare_timeout_cooldown_secs: 60,
      transport_cooldown_secs: 30,
      cooldown_backoff_factor: 1,
      cooldown_backoff_max_secs: 600,
      max_wait_ms: 5000,
      hold_preamble_ms: 3000,
      hold_preamble_bytes: 65536,
    });
    assert.deepEqual(resolveRetry({ profile: 'balanced' }), b);

    const su = resolveRetry({ profile: 'same-upstream' });
    assert.deepEqual([su.upstream.max_attempts, su.provider.max_attempts], [3, 1]);
    assert.deepEqual({ ...su, upstream: { ...su.upstream, max_attempts: 2 }, provider: { ...su.provider, max_attempts: 2 } }, b);

    const af = resolveRetry({ profile: 'aggressive-failover' });
    assert.deepEqual([af.upstream.backoff_max_ms, af.upstream.jitter_ms, af.provider.max_attempts], [2500, 150, 3]);
    assert.deepEqual({
      ...af, upstream: { ...af.upstream, backoff_max_ms: 2000, jitter_ms: 100 }, provider: { ...af.provider, max_attempts: 2 },
    }, b);

    const cp = resolveRetry({ profile: 'cost-primary' });
    assert.deepEqual([cp.cooldown_backoff_factor, cp.cooldown_backoff_max_secs], [2, 900]);
    assert.deepEqual({ ...cp, cooldown_backoff_factor: 1, cooldown_backoff_max_secs: 600 }, b);
  });

  it('legacy flat fields apply to the upstream layer only', () => {
    const r = resolveRetry({ max_attempts: 5, backoff_ms: 10, on_status: '502', on_class: ['x'], strategy: 'failover' });
    assert.equal(r.upstream.max_attempts, 5);
    assert.equal(r.upstream.backoff_ms, 10);
    assert.equal(r.upstream.on_status, '502');
    assert.deepEqual(r.upstream.on_class, ['x']);
    assert.equal(r.upstream.strategy, 'failover');
    assert.deepEqual(r.provider, RETRY_PROFILES.balanced.provider);
  });

  it('legacy flat fields are ignored entirely when [retry.upstream] is present', () => {
    const r = resolveRetry({ max_attempts: 5, jitter_ms: 1, upstream: { backoff_ms: 7 } });
    assert.equal(r.upstream.max_attempts, 2);
    assert.equal(r.upstream.jitter_ms, 100);
    assert.equal(r.upstream.backoff_ms, 7);
  });

  it('nested blocks and top-level overrides win, without clamping', () => {
    const cfg: RetryConfig = {
      profile: 'cost-primary',
      provider: { max_attempts: 99, strategy: 'same_upstream' },
      never_on_status: '',
      never_on_class: [],
      cloudflare_challenge_cooldown_secs: 1,
      cloudflare_timeout_cooldown_secs: 2,
      transport_cooldown_secs: 3,
      cooldown_backoff_factor: 100,
      cooldown_backoff_max_secs: 999999,
    };
    const r = resolveRetry(cfg);
    assert.equal(r.provider.max_attempts, 99);
    assert.equal(r.provider.strategy, 'same_upstream');
    assert.equal(r.never_on_status, '');
    assert.deepEqual(r.never_on_class, []);
    assert.deepEqual(
      [r.cloudflare_challenge_cooldown_secs, r.cloudflare_timeout_cooldown_secs, r.transport_cooldown_secs,
        r.cooldown_backoff_factor, r.cooldown_backoff_max_secs],
      [1, 2, 3, 100, 999999],
    );
  });

  it('returns copies: mutating the result leaves the profile table alone', () => {
    const r = resolveRetry({});
    r.upstream.on_class.push('mutated');
    r.never_on_class.push('mutated');
    r.upstream.max_attempts = 42;
    assert.deepEqual(resolveRetry({}).upstream.on_class, ['upstream_transport_error', 'cloudflare_timeout', 'cloudflare_challenge']);
    assert.deepEqual(RETRY_PROFILES.balanced.never_on_class, ['client_error_non_retryable']);
    assert.equal(RETRY_PROFILES.balanced.upstream.max_attempts, 2);
  });

  it('resolves what parseConfigText read', () => {
    const { config } = parseConfigText('[retry]\nprofile = "same-upstream"\nmax_attempts = 6\n', 'f', 'toml');
    assert.equal(resolveRetry(config.retry).upstream.max_attempts, 6);
    assert.equal(resolveRetry(config.retry).provider.max_attempts, 1);
  });
});
