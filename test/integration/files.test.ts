// Files: symlinked client configs stay links, huge ones are refused before they are read, the proxy's own files are
// private, and two processes on one home keep each other's pins.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { claudeSwitchOff, claudeSwitchOn, codexSwitchOff, codexSwitchOn } from '../../src/io/clientSwitch';
import { ClientConfigError } from '../../src/io/clientFiles';
import { writeFileAtomic } from '../../src/io/privateFiles';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { ProxyHost } from '../../src/proxy/proxyHost';
import { silentLogger } from '../../src/proxy/logger';

const CLI = resolve(__dirname, '../../../dist/cli.js');
const CLI_PATH = existsSync(CLI) ? CLI : resolve(process.cwd(), 'dist/cli.js');
const posix = process.platform !== 'win32';
const mode = (p: string) => statSync(p).mode & 0o777;

describe('client config files', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'chp-files-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('switch on/off writes through a symlinked config and keeps the link', () => {
    const dotfiles = join(root, 'dotfiles');
    const codexHome = join(root, 'codex');
    const claudeHome = join(root, 'claude');
    for (const d of [dotfiles, codexHome, claudeHome]) mkdirSync(d);
    const original = 'model = "o3"  # mine\n';
    writeFileSync(join(dotfiles, 'codex.toml'), original);
    writeFileSync(join(dotfiles, 'claude.json'), '{\n  "env": {}\n}\n');
    symlinkSync(join(dotfiles, 'codex.toml'), join(codexHome, 'config.toml'));
    // A relative link, as dotfiles managers make them.
    symlinkSync('../dotfiles/claude.json', join(claudeHome, 'settings.json'));

    codexSwitchOn(codexHome, 3211);
    claudeSwitchOn(claudeHome, 3210);
    assert.ok(lstatSync(join(codexHome, 'config.toml')).isSymbolicLink(), 'still a link after switch on');
    assert.ok(lstatSync(join(claudeHome, 'settings.json')).isSymbolicLink());
    assert.match(readFileSync(join(dotfiles, 'codex.toml'), 'utf8'), /codex_proxy/, 'the target was patched');
    assert.match(readFileSync(join(dotfiles, 'claude.json'), 'utf8'), /ANTHROPIC_BASE_URL/);

    codexSwitchOff(codexHome);
    claudeSwitchOff(claudeHome);
    assert.ok(lstatSync(join(codexHome, 'config.toml')).isSymbolicLink(), 'still a link after switch off');
    assert.ok(lstatSync(join(claudeHome, 'settings.json')).isSymbolicLink());
    assert.equal(readFileSync(join(dotfiles, 'codex.toml'), 'utf8'), original);
    assert.deepEqual(readdirSync(dotfiles).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  });

  it('refuses a client config over 4 MB before reading it, and changes nothing', () => {
    const codexHome = join(root, 'codex');
    mkdirSync(codexHome);
    const file = join(codexHome, 'config.toml');
    const big = '# filler\n'.repeat(600_000); // ~5.4 MB
    writeFileSync(file, big);
    assert.throws(() => codexSwitchOn(codexHome, 3211), (e: ClientConfigError) =>
      e.code === 'CLIENT_CONFIG_INVALID' && /over 4 MB/.test(e.message) && /nothing was changed/.test(e.message));
    assert.equal(readFileSync(file, 'utf8').length, big.length);
    assert.deepEqual(readdirSync(codexHome), ['config.toml'], 'no backup was written');
  });

  it('a new file is created 0600 whatever the umask; an existing one keeps its mode', function () {
    if (!posix) this.skip();
    const f = join(root, 'new.toml');
    const old = process.umask(0o022);
    try {
      writeFileAtomic(f, 'a');
      assert.equal(mode(f), 0o600);
      writeFileSync(join(root, 'kept'), 'x', { mode: 0o640 });
      writeFileAtomic(join(root, 'kept'), 'y');
      assert.equal(mode(join(root, 'kept')), 0o640);
    } finally {
      process.umask(old);
    }
  });
});

describe('the proxy\'s own files', function () {
  this.timeout(20000);
  let root: string;
  let up: FakeUpstream;
  const children: ChildProcess[] = [];
  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, { usage: { input_tokens: 1, output_tokens: 1 } }));
  });
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'chp-own-'))));
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  after(() => up.close());

  const configText = () => `version = 1
[codex.configs.a]
[[codex.configs.a.upstreams]]
base_url = "${up.url}"
[codex.configs.b]
[[codex.configs.b.upstreams]]
base_url = "${up.url}"
[claude.configs.c]
[[claude.configs.c.upstreams]]
base_url = "${up.url}"
[claude.configs.d]
[[claude.configs.d.upstreams]]
base_url = "${up.url}"
`;

  it('creates the home and logs/ 0700 and every file 0600', async function () {
    if (!posix) this.skip();
    const home = join(root, 'helper');
    const old = process.umask(0o022);
    const host = new ProxyHost({ home, codexHome: join(root, 'codex'), claudeHome: join(root, 'claude'), env: {}, log: silentLogger });
    try {
      const l = await host.listen('codex', { port: 0 });
      // The first write creates the home.
      assert.equal((await call(`${l.url}/__codex_helper/api/v1/overrides/global-config`, { body: '{"config_name":"default"}' })).status, 204);
      writeFileSync(join(home, 'config.toml'), configText());
      assert.equal((await call(`${l.url}/__codex_helper/api/v1/config/reload`, { method: 'POST' })).status, 200);
      assert.equal((await call(`${l.url}/v1/responses`, { body: '{"model":"m"}' })).status, 200);
      await until(() => existsSync(join(home, 'usage_providers.json')), 3000, 'usage_providers.json');
      await host.requestLog?.flush();
    } finally {
      await host.dispose(0);
      process.umask(old);
    }
    assert.equal(mode(home), 0o700);
    assert.equal(mode(join(home, 'logs')), 0o700);
    for (const f of ['runtime-state.json', 'usage_providers.json', 'logs/requests.jsonl']) assert.equal(mode(join(home, f)), 0o600, f);
  });

  it('two processes on one home keep each other\'s pins (unique temp names, a merge per service)', async () => {
    const home = join(root, 'helper');
    mkdirSync(home);
    writeFileSync(join(home, 'config.toml'), configText());
    const env = { PATH: process.env['PATH'], HOME: root, CODEX_HELPER_HOME: home, CODEX_HOME: join(root, 'codex'), CLAUDE_HOME: join(root, 'claude') };
    const start = (service: string) => {
      const child = spawn(process.execPath, [CLI_PATH, 'serve', '--service', service, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const out = { stdout: '', stderr: '' };
      child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
      return out;
    };
    const p1 = start('codex');
    const p2 = start('claude');
    await until(() => /listening on/.test(p1.stdout) && /listening on/.test(p2.stdout), 8000, 'both listening');
    const u1 = p1.stdout.match(/http:\/\/[\d.]+:\d+/)![0];
    const u2 = p2.stdout.match(/http:\/\/[\d.]+:\d+/)![0];
    const pin = (u: string, name: string) => call(`${u}/__codex_helper/api/v1/overrides/global-config`, { body: JSON.stringify({ config_name: name }) });
    // Both write at the same time, many times: with one fixed temp name renames failed and pins were lost.
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? pin(u1, i % 4 === 1 ? 'a' : 'b') : pin(u2, i % 4 === 0 ? 'c' : 'd'))));
    await pin(u1, 'b');
    await pin(u2, 'd');
    const state = JSON.parse(readFileSync(join(home, 'runtime-state.json'), 'utf8')) as Record<string, { global_config?: string }>;
    assert.equal(state['codex']?.global_config, 'b', 'codex pin kept');
    assert.equal(state['claude']?.global_config, 'd', 'claude pin kept');
    assert.doesNotMatch(p1.stderr + p2.stderr, /could not save runtime state/);
    assert.deepEqual(readdirSync(home).filter((f) => f.endsWith('.tmp')), []);
  });
});
