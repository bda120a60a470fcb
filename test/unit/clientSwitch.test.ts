import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'smol-toml';
import {
  CLAUDE_BACKUP_SENTINEL,
  CODEX_BACKUP_SENTINEL,
  ClientConfigError,
  claudeHomeDir,
  claudeSwitchOff,
  claudeSwitchOn,
  claudeSwitchStatus,
  codexHomeDir,
  codexSwitchOff,
  codexSwitchOn,
  codexSwitchStatus,
} from '../../src/io/clientSwitch';
import { isProxyListening } from '../../src/io/proxyProbe';
import { runSwitchCommand } from '../../src/io/configCommands';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'client-switch-'));
let n = 0;
function freshHome(): string {
  const dir = path.join(root, `h${n++}`);
  fs.mkdirSync(dir);
  return dir;
}

function codexHomeWith(config: string | undefined): { home: string; file: string } {
  const home = freshHome();
  const file = path.join(home, 'config.toml');
  if (config !== undefined) fs.writeFileSync(file, config);
  return { home, file };
}

function claudeHomeWith(settings: string | undefined, name = 'settings.json'): { home: string; file: string } {
  const home = freshHome();
  const file = path.join(home, name);
  if (settings !== undefined) fs.writeFileSync(file, settings);
  return { home, file };
}

const CODEX_CASES = {
  comments: '# Codex config\n# (hand-written)\nmodel = "gpt-5"  # default model\n\n# MCP\n[mcp_servers.x]\ncommand = "npx"\nargs = ["-y", "x"]\n',
  oddSpacing: 'model   =    "gpt-5"\n\n\n\tapproval_policy="never"\n[profiles.y]\n   model = "o3"\n',
  crlf: '# crlf\r\nmodel = "gpt-5"\r\n\r\n[profiles.y]\r\nmodel = "o3"\r\n',
  unrelatedTables: '[mcp_servers.x]\ncommand = "npx"\n\n[mcp_servers.x.env]\nFOO = "bar"\n\n[profiles.y]\nmodel = "o3"\n',
  existingProvider:
    'model_provider = "azure"\nmodel = "gpt-5"\n\n[model_providers.azure]\nname = "Azure"\nbase_url = "https://x.openai.azure.com/openai"\nenv_key = "AZURE_OPENAI_API_KEY"\n',
  existingCodexProxy:
    'model_provider = "codex_proxy"\n\n[model_providers.codex_proxy]\nname = "my relay"\nbase_url = "https://relay.example/v1"\nrequest_max_retries = 3\n',
  noFinalNewline: 'model = "gpt-5"',
  empty: '',
} satisfies Record<string, string>;

describe('clientSwitch', () => {
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('codex', () => {
    for (const [name, original] of Object.entries(CODEX_CASES)) {
      it(`on → off restores ${name} byte for byte, and on keeps everything else`, () => {
        const { home, file } = codexHomeWith(original);
        const st = codexSwitchOn(home, 3211);
        assert.equal(st.enabled, true);
        assert.equal(st.port, 3211);
        assert.equal(st.has_backup, true);
        assert.equal(st.stale, false);
        const patched = fs.readFileSync(file, 'utf8');
        const doc = parse(patched) as Record<string, any>;
        assert.equal(doc.model_provider, 'codex_proxy');
        assert.equal(doc.model_providers.codex_proxy.base_url, 'http://127.0.0.1:3211');
        assert.equal(doc.model_providers.codex_proxy.name, 'codex-helper');
        assert.equal(doc.model_providers.codex_proxy.wire_api, 'responses');
        // Every original line is still there (comments included).
        for (const line of original.split(/\r?\n/)) {
          if (line.trim() && !/^model_provider\s*=|^name =|^base_url = "https:\/\/relay/.test(line)) {
            assert.ok(patched.includes(line), `lost line ${JSON.stringify(line)}`);
          }
        }
        if (original.includes('\r\n')) assert.ok(!/[^\r]\n/.test(patched), 'mixed line endings');
        assert.equal(fs.readFileSync(file + '.codex-helper-backup', 'utf8'), original);
        codexSwitchOff(home);
        assert.equal(fs.readFileSync(file, 'utf8'), original);
        assert.equal(fs.existsSync(file + '.codex-helper-backup'), false);
      });
    }

    it('keeps an existing request_max_retries', () => {
      const { home, file } = codexHomeWith(CODEX_CASES.existingCodexProxy);
      codexSwitchOn(home, 4000);
      const doc = parse(fs.readFileSync(file, 'utf8')) as Record<string, any>;
      assert.equal(doc.model_providers.codex_proxy.request_max_retries, 3);
      assert.equal(doc.model_providers.codex_proxy.base_url, 'http://127.0.0.1:4000');
    });

    it('is idempotent and keeps the first backup', () => {
      const { home, file } = codexHomeWith(CODEX_CASES.comments);
      codexSwitchOn(home, 3211);
      const first = fs.readFileSync(file, 'utf8');
      const st = codexSwitchOn(home, 3211);
      assert.match(st.message, /already/);
      assert.equal(fs.readFileSync(file, 'utf8'), first);
      assert.equal(fs.readFileSync(file + '.codex-helper-backup', 'utf8'), CODEX_CASES.comments);
    });

    it('uses the absent sentinel: no file → on → off → no file', () => {
      const { home, file } = codexHomeWith(undefined);
      codexSwitchOn(home, 3211);
      assert.equal(fs.readFileSync(file + '.codex-helper-backup', 'utf8'), CODEX_BACKUP_SENTINEL);
      assert.equal(codexSwitchStatus(home).enabled, true);
      codexSwitchOff(home);
      assert.equal(fs.existsSync(file), false);
      assert.equal(fs.existsSync(file + '.codex-helper-backup'), false);
    });

    it('refuses malformed TOML, names file and line, and writes nothing', () => {
      const bad = 'model = "gpt-5"\n[profiles.y\nmodel = "o3"\n';
      const { home, file } = codexHomeWith(bad);
      assert.throws(
        () => codexSwitchOn(home, 3211),
        (e: unknown) =>
          e instanceof ClientConfigError &&
          e.code === 'CLIENT_CONFIG_INVALID' &&
          e.file === file &&
          e.line === 2 &&
          e.message.includes(file),
      );
      assert.equal(fs.readFileSync(file, 'utf8'), bad);
      assert.deepEqual(fs.readdirSync(home), ['config.toml']);
    });

    it('refuses a codex_proxy written as an inline table and writes nothing', () => {
      const src = '[model_providers]\ncodex_proxy = { name = "x", base_url = "https://r" }\n';
      const { home } = codexHomeWith(src);
      assert.throws(
        () => codexSwitchOn(home, 3211),
        (e: unknown) => e instanceof ClientConfigError && e.code === 'CLIENT_CONFIG_UNSUPPORTED',
      );
      assert.deepEqual(fs.readdirSync(home), ['config.toml']);
    });

    it('keeps the user edits made while switched on and removes only the patch', () => {
      const { home, file } = codexHomeWith(CODEX_CASES.existingProvider);
      codexSwitchOn(home, 3211);
      const edited = fs.readFileSync(file, 'utf8').replace('model = "gpt-5"', 'model = "gpt-5.1"  # changed') + '\n[profiles.new]\nmodel = "o4"\n';
      fs.writeFileSync(file, edited);
      const st = codexSwitchOff(home);
      assert.match(st.message, /kept your other edits/);
      const out = fs.readFileSync(file, 'utf8');
      const doc = parse(out) as Record<string, any>;
      assert.equal(doc.model_provider, 'azure');
      assert.equal(doc.model_providers.codex_proxy, undefined);
      assert.deepEqual({ ...doc.profiles.new }, { model: 'o4' });
      assert.ok(out.includes('model = "gpt-5.1"  # changed'));
      assert.equal(fs.existsSync(file + '.codex-helper-backup'), false);
    });

    it('restores the user codex_proxy values on off after edits', () => {
      const { home, file } = codexHomeWith(CODEX_CASES.existingCodexProxy);
      codexSwitchOn(home, 3211);
      fs.appendFileSync(file, '\n[profiles.z]\nmodel = "o3"\n');
      codexSwitchOff(home);
      const doc = parse(fs.readFileSync(file, 'utf8')) as Record<string, any>;
      assert.deepEqual({ ...doc.model_providers.codex_proxy }, {
        name: 'my relay',
        base_url: 'https://relay.example/v1',
        request_max_retries: 3,
      });
      assert.equal(doc.model_provider, 'codex_proxy');
    });

    it('off when not switched on is a no-op with a message', () => {
      const { home, file } = codexHomeWith(CODEX_CASES.comments);
      const st = codexSwitchOff(home);
      assert.match(st.message, /not switched/);
      assert.equal(fs.readFileSync(file, 'utf8'), CODEX_CASES.comments);
    });

    it('detects stale states and repairs a crash leftover', () => {
      // Pointing at us without a backup (crash after the backup was lost).
      const { home, file } = codexHomeWith(CODEX_CASES.comments);
      codexSwitchOn(home, 3211);
      fs.rmSync(file + '.codex-helper-backup');
      let st = codexSwitchStatus(home);
      assert.equal(st.enabled, true);
      assert.equal(st.stale, true);
      // A second `on` must not snapshot the patched file as the "original".
      codexSwitchOn(home, 3211);
      assert.equal(fs.existsSync(file + '.codex-helper-backup'), false);
      codexSwitchOff(home);
      st = codexSwitchStatus(home);
      assert.equal(st.enabled, false);
      assert.equal(st.stale, false);
      assert.equal(parse(fs.readFileSync(file, 'utf8')).model_provider, undefined);

      // A backup while the config does not point at us.
      const b = codexHomeWith(CODEX_CASES.comments);
      fs.writeFileSync(b.file + '.codex-helper-backup', 'old = 1\n');
      st = codexSwitchStatus(b.home);
      assert.equal(st.enabled, false);
      assert.equal(st.stale, true);
      // `on` refreshes the stale backup so `off` restores today's file, not the old snapshot.
      codexSwitchOn(b.home, 3211);
      codexSwitchOff(b.home);
      assert.equal(fs.readFileSync(b.file, 'utf8'), CODEX_CASES.comments);
    });
  });

  describe('claude', () => {
    const four = '{\n    "model": "opus",\n    "env": {\n        "ANTHROPIC_AUTH_TOKEN": "sk-secret"\n    },\n    "permissions": {\n        "allow": []\n    }\n}\n';
    const two = '{\n  "env": {\n    "FOO": "1"\n  },\n  "model": "opus"\n}\n';
    const noEnv = '{\n  "model": "opus",\n  "hooks": {}\n}\n';
    const existingUrl = '{\n\t"env": {\n\t\t"ANTHROPIC_BASE_URL": "https://relay.example",\n\t\t"ANTHROPIC_AUTH_TOKEN": "t"\n\t}\n}';
    const minified = '{"model":"opus"}';
    const emptyEnv = '{\n  "env": {}\n}\n';
    const cases: Record<string, [string, string]> = {
      fourSpaces: [four, '        "ANTHROPIC_AUTH_TOKEN": "sk-secret",\n        "ANTHROPIC_BASE_URL": "http://127.0.0.1:3210"\n    },'],
      twoSpaces: [two, '    "FOO": "1",\n    "ANTHROPIC_BASE_URL": "http://127.0.0.1:3210"\n  },'],
      noEnv: [noEnv, '  "hooks": {},\n  "env": {\n    "ANTHROPIC_BASE_URL": "http://127.0.0.1:3210"\n  }\n}\n'],
      existingUrl: [existingUrl, '\t\t"ANTHROPIC_BASE_URL": "http://127.0.0.1:3210",'],
      minified: [minified, '{"model":"opus","env":{"ANTHROPIC_BASE_URL":"http://127.0.0.1:3210"}}'],
      emptyEnv: [emptyEnv, '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "http://127.0.0.1:3210"\n  }\n}\n'],
    };
    for (const [name, [original, expectedPart]] of Object.entries(cases)) {
      it(`on edits ${name} surgically and off restores it byte for byte`, () => {
        const { home, file } = claudeHomeWith(original);
        const st = claudeSwitchOn(home, 3210);
        assert.equal(st.enabled, true);
        assert.equal(st.port, 3210);
        const patched = fs.readFileSync(file, 'utf8');
        assert.ok(patched.includes(expectedPart), patched);
        assert.equal(JSON.parse(patched).env.ANTHROPIC_BASE_URL, 'http://127.0.0.1:3210');
        claudeSwitchOff(home);
        assert.equal(fs.readFileSync(file, 'utf8'), original);
        assert.equal(fs.existsSync(file + '.codex-helper-backup'), false);
      });
    }

    it('uses the sentinel when settings.json is absent', () => {
      const { home, file } = claudeHomeWith(undefined);
      claudeSwitchOn(home, 3210);
      assert.equal(fs.readFileSync(file + '.codex-helper-backup', 'utf8'), CLAUDE_BACKUP_SENTINEL);
      assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).env.ANTHROPIC_BASE_URL, 'http://127.0.0.1:3210');
      claudeSwitchOff(home);
      assert.equal(fs.existsSync(file), false);
    });

    it('patches the legacy claude.json when settings.json does not exist', () => {
      const { home, file } = claudeHomeWith(two, 'claude.json');
      assert.equal(claudeSwitchOn(home, 3210).file, file);
      assert.equal(fs.existsSync(path.join(home, 'settings.json')), false);
      claudeSwitchOff(home);
      assert.equal(fs.readFileSync(file, 'utf8'), two);
    });

    it('refuses malformed JSON with the line and writes nothing', () => {
      const bad = '{\n  "env": {\n    "A": "sk-secret",\n  }\n}\n';
      const { home, file } = claudeHomeWith(bad);
      assert.throws(
        () => claudeSwitchOn(home, 3210),
        (e: unknown) =>
          e instanceof ClientConfigError &&
          e.code === 'CLIENT_CONFIG_INVALID' &&
          e.line === 4 &&
          e.file === file &&
          !e.message.includes('sk-secret'),
      );
      assert.deepEqual(fs.readdirSync(home), ['settings.json']);
      assert.equal(fs.readFileSync(file, 'utf8'), bad);
    });

    it('keeps edits made while switched on and restores the previous ANTHROPIC_BASE_URL', () => {
      const { home, file } = claudeHomeWith(existingUrl);
      claudeSwitchOn(home, 3210);
      const edited = fs.readFileSync(file, 'utf8').replace('"t"', '"t2"');
      fs.writeFileSync(file, edited);
      claudeSwitchOff(home);
      const out = fs.readFileSync(file, 'utf8');
      assert.equal(out, existingUrl.replace('"t"', '"t2"'));
    });

    it('removes an env it created when the user edited other keys', () => {
      const { home, file } = claudeHomeWith(noEnv);
      claudeSwitchOn(home, 3210);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"opus"', '"sonnet"'));
      claudeSwitchOff(home);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { model: 'sonnet', hooks: {} });
    });

    it('status reports stale switches', () => {
      const { home, file } = claudeHomeWith(two);
      assert.equal(claudeSwitchStatus(home).enabled, false);
      claudeSwitchOn(home, 3210);
      fs.rmSync(file + '.codex-helper-backup');
      const st = claudeSwitchStatus(home);
      assert.equal(st.enabled, true);
      assert.equal(st.stale, true);
      assert.match(st.message, /switch off/);
    });
  });

  describe('homes and liveness', () => {
    it('resolves homes from the given env', () => {
      assert.equal(codexHomeDir({ CODEX_HOME: ' /x/codex ' }, '/h'), '/x/codex');
      assert.equal(codexHomeDir({ CODEX_HOME: '  ' }, '/h'), path.join('/h', '.codex'));
      assert.equal(claudeHomeDir({ CLAUDE_HOME: '/x/claude' }, '/h'), '/x/claude');
      assert.equal(claudeHomeDir({}, '/h'), path.join('/h', '.claude'));
    });

    let server: http.Server;
    let port = 0;
    before(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/__codex_helper/api/v1/capabilities') res.end('{}');
        else {
          res.statusCode = 404;
          res.end();
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('isProxyListening tells a live proxy from a closed port', async () => {
      assert.equal(await isProxyListening(port), true);
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      assert.equal(await isProxyListening(closedPort), false);
    });

    it('switch CLI: on/status/off for both clients, stale report, usage errors', async () => {
      const home = freshHome();
      const env = { HOME: home, CODEX_HOME: path.join(home, 'codex'), CLAUDE_HOME: path.join(home, 'claude') };
      fs.mkdirSync(env.CODEX_HOME);
      fs.writeFileSync(path.join(env.CODEX_HOME, 'config.toml'), CODEX_CASES.comments);
      const lines: string[] = [];
      const errs: string[] = [];
      const io = { env, out: (s: string) => lines.push(s), err: (s: string) => errs.push(s) };

      assert.equal(await runSwitchCommand(['on', '--codex', '--port', String(port)], io), 0);
      assert.equal(await runSwitchCommand(['on', '--claude'], io), 0);
      assert.match(lines.join('\n'), /codex: Codex now points at http:\/\/127\.0\.0\.1:\d+/);
      lines.length = 0;
      assert.equal(await runSwitchCommand(['status'], io), 0);
      assert.match(lines[0] ?? '', /^codex: .*proxy is running/);
      // Nothing listens on 3210 in this test: the claude switch is reported as needing repair.
      assert.match(lines[1] ?? '', /^claude: switched on but nothing listens on 127\.0\.0\.1:3210 — run `codex-helper switch off --claude`/);
      assert.equal(await runSwitchCommand(['switch', 'off'], io), 0);
      assert.equal(fs.readFileSync(path.join(env.CODEX_HOME, 'config.toml'), 'utf8'), CODEX_CASES.comments);
      assert.equal(fs.existsSync(path.join(env.CLAUDE_HOME, 'settings.json')), false);

      assert.equal(await runSwitchCommand(['on', '--port', '1234'], io), 2);
      assert.equal(await runSwitchCommand(['sideways'], io), 2);
      assert.equal(await runSwitchCommand(['on', '--codex', '--port', 'x'], io), 2);
      fs.writeFileSync(path.join(env.CODEX_HOME, 'config.toml'), 'a = = 1\n');
      assert.equal(await runSwitchCommand(['on', '--codex'], io), 1);
      assert.match(errs[errs.length - 1] ?? '', /not valid TOML/);
    });
  });
});
