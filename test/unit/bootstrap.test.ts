import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'smol-toml';
import { BootstrapError, bootstrapClaudeConfigs, bootstrapCodexConfigs, configTemplate } from '../../src/io/bootstrap';
import { codexSwitchOn } from '../../src/io/clientSwitch';
import { runConfigCommand } from '../../src/io/configCommands';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-'));
let n = 0;
function home(files: Record<string, string>): string {
  const dir = path.join(root, `h${n++}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const SECRET = 'sk-live-DO-NOT-LEAK-1234';

const CODEX_CONFIG = `model_provider = "relay"
model = "gpt-5"

[model_providers.relay]
name = "My Relay"
base_url = "https://relay.example/v1"
env_key = "RELAY_KEY"

[model_providers.inferred]
name = "inferred"
base_url = "https://inferred.example/v1"

[model_providers.openai]
name = "OpenAI"
base_url = "https://api.openai.com/v1"

[model_providers.nourl]
env_key = "X"

[model_providers.codex_proxy]
name = "codex-helper"
base_url = "http://127.0.0.1:3211"
`;

function expectCode(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof BootstrapError && e.code === code;
}

describe('bootstrap', () => {
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('codex', () => {
    it('imports providers with env_key, inferred *_API_KEY and requires_openai_auth, skipping codex_proxy', () => {
      const h = home({ 'config.toml': CODEX_CONFIG, 'auth.json': JSON.stringify({ OPENAI_API_KEY: SECRET, tokens: { id: SECRET } }) });
      const { manager, notes } = bootstrapCodexConfigs(h);
      assert.equal(manager.active, 'relay');
      assert.deepEqual(Object.keys(manager.configs), ['relay', 'inferred', 'openai']);
      const relay = manager.configs.relay;
      assert.equal(relay?.alias, 'My Relay');
      assert.equal(relay?.level, 1);
      assert.equal(relay?.enabled, true);
      assert.deepEqual(relay?.upstreams[0]?.auth, { auth_token_env: 'RELAY_KEY' });
      assert.deepEqual(relay?.upstreams[0]?.tags, { source: 'codex-config', provider_id: 'relay', requires_openai_auth: 'false' });
      assert.deepEqual(manager.configs.inferred?.upstreams[0]?.auth, { auth_token_env: 'OPENAI_API_KEY' });
      assert.equal(manager.configs.inferred?.alias, undefined);
      assert.deepEqual(manager.configs.openai?.upstreams[0]?.auth, {});
      assert.equal(manager.configs.openai?.upstreams[0]?.tags.requires_openai_auth, 'true');
      assert.ok(notes.some((s) => /codex_proxy/.test(s)));
      assert.ok(notes.some((s) => /nourl/.test(s)));
      assert.ok(!JSON.stringify({ manager, notes }).includes(SECRET));
      assert.ok(!configTemplate({ codex: manager }).includes(SECRET));
    });

    it('does not infer a key when auth.json has two candidates', () => {
      const h = home({
        'config.toml': 'model_provider = "a"\n[model_providers.a]\nbase_url = "https://a"\n',
        'auth.json': JSON.stringify({ A_API_KEY: 'x', B_API_KEY: 'y' }),
      });
      assert.throws(() => bootstrapCodexConfigs(h), expectCode('BOOTSTRAP_CURRENT_PROVIDER_UNUSABLE'));
    });

    it('reads the pre-switch backup while Codex is switched on', () => {
      const h = home({ 'config.toml': 'model_provider = "a"\n[model_providers.a]\nbase_url = "https://a"\nenv_key = "A"\n' });
      codexSwitchOn(h, 3211);
      const { manager } = bootstrapCodexConfigs(h);
      assert.deepEqual(Object.keys(manager.configs), ['a']);
      assert.equal(manager.active, 'a');
    });

    it('refuses a config pointing at the proxy without a backup, and a missing or broken file', () => {
      const h = home({ 'config.toml': 'model_provider = "codex_proxy"\n[model_providers.codex_proxy]\nbase_url = "http://localhost:3211"\n' });
      assert.throws(() => bootstrapCodexConfigs(h), expectCode('BOOTSTRAP_POINTS_AT_PROXY'));
      assert.throws(() => bootstrapCodexConfigs(home({})), expectCode('BOOTSTRAP_NO_SOURCE'));
      assert.throws(() => bootstrapCodexConfigs(home({ 'config.toml': 'a = \n' })), expectCode('BOOTSTRAP_INVALID_SOURCE'));
      assert.throws(() => bootstrapCodexConfigs(home({ 'config.toml': 'model = "x"\n' })), expectCode('BOOTSTRAP_NOTHING_IMPORTED'));
    });

    it('picks the smallest key as active when the current provider is built in', () => {
      const h = home({ 'config.toml': '[model_providers.zeta]\nbase_url = "https://z"\nenv_key = "Z"\n[model_providers.alpha]\nbase_url = "https://a"\nenv_key = "A"\n' });
      assert.equal(bootstrapCodexConfigs(h).manager.active, 'alpha');
    });
  });

  describe('claude', () => {
    it('imports ANTHROPIC_AUTH_TOKEN as a bearer env name, never the value', () => {
      const h = home({ 'settings.json': JSON.stringify({ env: { ANTHROPIC_AUTH_TOKEN: SECRET, ANTHROPIC_BASE_URL: 'https://relay.example' } }) });
      const { manager } = bootstrapClaudeConfigs(h);
      assert.equal(manager.active, 'default');
      const cfg = manager.configs.default;
      assert.equal(cfg?.alias, 'Claude default');
      assert.equal(cfg?.upstreams[0]?.base_url, 'https://relay.example');
      assert.deepEqual(cfg?.upstreams[0]?.auth, { auth_token_env: 'ANTHROPIC_AUTH_TOKEN' });
      assert.deepEqual(cfg?.upstreams[0]?.tags, { source: 'claude-settings', provider_id: 'anthropic' });
      assert.ok(!JSON.stringify(manager).includes(SECRET));
    });

    it('uses ANTHROPIC_API_KEY and the default base URL; errors without env or credentials', () => {
      const h = home({ 'settings.json': JSON.stringify({ env: { ANTHROPIC_API_KEY: SECRET } }) });
      const up = bootstrapClaudeConfigs(h).manager.configs.default?.upstreams[0];
      assert.deepEqual(up?.auth, { api_key_env: 'ANTHROPIC_API_KEY' });
      assert.equal(up?.base_url, 'https://api.anthropic.com/v1');
      assert.throws(() => bootstrapClaudeConfigs(home({ 'settings.json': '{}' })), expectCode('BOOTSTRAP_INVALID_SOURCE'));
      assert.throws(() => bootstrapClaudeConfigs(home({ 'settings.json': '{"env":{}}' })), expectCode('BOOTSTRAP_INVALID_SOURCE'));
      const local = home({ 'settings.json': JSON.stringify({ env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://127.0.0.1:3210' } }) });
      assert.throws(() => bootstrapClaudeConfigs(local), expectCode('BOOTSTRAP_POINTS_AT_PROXY'));
    });
  });

  describe('configTemplate', () => {
    it('parses without imports and keeps services empty', () => {
      const doc = parse(configTemplate()) as Record<string, any>;
      assert.equal(doc.version, 1);
      assert.equal(doc.retry.profile, 'balanced');
      assert.equal(doc.codex, undefined);
    });

    it('holds only keys the proxy reads: no [notify] tables, no default_service', () => {
      const text = configTemplate();
      const doc = parse(text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(doc).sort(), ['retry', 'version']);
      assert.doesNotMatch(text, /notify|default_service/);
      assert.match(text, /base_url = "https:\/\/api\.anthropic\.com\/v1"/, 'the same base_url form as the README and the embedded default');
    });

    it('renders imported managers as real tables that round-trip', () => {
      const codex = bootstrapCodexConfigs(home({ 'config.toml': CODEX_CONFIG, 'auth.json': '{"OPENAI_API_KEY":"k"}' })).manager;
      codex.configs.relay!.upstreams[0]!.supported_models = { 'gpt-*': true, 'gpt-4': false };
      codex.configs.relay!.upstreams[0]!.model_mapping = { 'claude-*': 'anthropic/claude-*' };
      const claude = bootstrapClaudeConfigs(home({ 'settings.json': '{"env":{"ANTHROPIC_API_KEY":"k"}}' })).manager;
      const text = configTemplate({ codex, claude });
      const doc = parse(text) as Record<string, any>;
      assert.equal(doc.codex.active, 'relay');
      const up = doc.codex.configs.relay.upstreams[0];
      assert.equal(up.base_url, 'https://relay.example/v1');
      assert.equal(up.auth.auth_token_env, 'RELAY_KEY');
      assert.equal(up.supported_models['gpt-4'], false);
      assert.equal(up.model_mapping['claude-*'], 'anthropic/claude-*');
      assert.equal(doc.claude.configs.default.upstreams[0].auth.api_key_env, 'ANTHROPIC_API_KEY');
      assert.match(text, /# --- auto-imported from ~\/\.codex\/config\.toml/);
    });
  });

  describe('config init', () => {
    it('writes the template with imports, refuses to overwrite without --force', async () => {
      const h = home({});
      const env = {
        HOME: h,
        CODEX_HELPER_HOME: path.join(h, 'helper'),
        CODEX_HOME: home({ 'config.toml': CODEX_CONFIG, 'auth.json': JSON.stringify({ OPENAI_API_KEY: SECRET }) }),
        CLAUDE_HOME: home({}),
      };
      const out: string[] = [];
      const err: string[] = [];
      const io = { env, out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
      const file = path.join(env.CODEX_HELPER_HOME, 'config.toml');

      assert.equal(await runConfigCommand(['init'], io), 0);
      const doc = parse(fs.readFileSync(file, 'utf8')) as Record<string, any>;
      assert.deepEqual(Object.keys(doc.codex.configs), ['relay', 'inferred', 'openai']);
      assert.ok(!fs.readFileSync(file, 'utf8').includes(SECRET));
      assert.ok(out.some((s) => /imported 3 codex/.test(s)));
      assert.ok(out.some((s) => /^claude: nothing imported/.test(s)));

      assert.equal(await runConfigCommand(['config', 'init'], io), 1);
      assert.match(err[0] ?? '', /already exists; use --force/);

      assert.equal(await runConfigCommand(['init', '--force', '--no-import'], io), 0);
      assert.equal((parse(fs.readFileSync(file, 'utf8')) as Record<string, any>).codex, undefined);
      assert.ok(fs.existsSync(`${file}.bak`));
      assert.equal(await runConfigCommand(['list'], io), 2);
    });
  });
});
