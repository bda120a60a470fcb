import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';

const CLI = resolve(__dirname, '../../../dist/cli.js');
const CLI_PATH = existsSync(CLI) ? CLI : resolve(process.cwd(), 'dist/cli.js');

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = { child, stdout: '', stderr: '', exit: new Promise((res) => child.on('exit', (code) => res(code))) };
  child.stdout!.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (r.stderr += d.toString()));
  return r;
}

describe('command line: codex-helper serve', function () {
  this.timeout(20000);
  let root: string;
  let env: NodeJS.ProcessEnv;
  let up: FakeUpstream | undefined;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'chp-cli-'));
    env = { HOME: root, CODEX_HELPER_HOME: join(root, 'helper'), CODEX_HOME: join(root, 'codex'), CLAUDE_HOME: join(root, 'claude') };
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await up?.close();
    up = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it('serves on the embedded default without a config file, says where the file goes, and exits 0 on SIGTERM', async () => {
    const r = run(['serve', '--service', 'codex', '--port', '0'], env);
    children.push(r.child);
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(r.stdout), 8000, 'listen line');
    assert.match(r.stdout, /^codex proxy listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    assert.match(r.stderr, /no config file at .*helper[/\\]config\.toml; serving the embedded default/);
    const url = r.stdout.match(/http:\/\/[\d.]+:\d+/)![0];
    const caps = (await call(`${url}/__codex_helper/api/v1/capabilities`)).json<{ service_name: string }>();
    assert.equal(caps.service_name, 'codex');
    r.child.kill('SIGTERM');
    assert.equal(await r.exit, 0);
  });

  it('answers --version, serve --help and help with exit 0, listing every serve flag', async () => {
    const pkg = JSON.parse(require('node:fs').readFileSync(resolve(CLI_PATH, '../../package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['version'], ['-V']]) {
      const r = run(args, env);
      assert.equal(await r.exit, 0, args.join(' '));
      assert.equal(r.stdout, `codex-helper ${pkg.version}\n`);
    }
    const h = run(['serve', '--help'], env);
    assert.equal(await h.exit, 0);
    for (const flag of ['--service', '--codex', '--claude', '--port', '--host', '--allow-remote', '--log-level']) assert.match(h.stdout, new RegExp(flag));
    assert.match(h.stdout, /logs\/requests\.jsonl/, 'says what it writes');
    assert.equal(h.stderr, '');
    const all = run(['help'], env);
    assert.equal(await all.exit, 0);
    assert.match(all.stdout, /--codex \/ --claude/);
    assert.match(all.stdout, /--version/);
  });

  it('says at start where it keeps state and the request log', async () => {
    const r = run(['serve', '--service', 'codex', '--port', '0'], env);
    children.push(r.child);
    // stdout and stderr are two pipes: wait for both lines, whichever comes first.
    await until(() => /listening on/.test(r.stdout) && /request log in/.test(r.stderr), 8000, 'listen and log lines');
    assert.match(r.stderr, /request log in .*helper[/\\]logs[/\\]requests\.jsonl/);
    r.child.kill('SIGTERM');
    assert.equal(await r.exit, 0);
  });

  it('finishes in-flight requests on SIGINT before exiting 0', async () => {
    let release: (() => void) | undefined;
    up = await startUpstream((_q, res) => {
      release = () => json(res, 200, { ok: true });
    });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(env['CODEX_HELPER_HOME']!, { recursive: true });
    writeFileSync(join(env['CODEX_HELPER_HOME']!, 'config.toml'),
      `version = 1\n[codex.configs.a]\n[[codex.configs.a.upstreams]]\nbase_url = "${up.url}"\n[claude.configs.b]\n[[claude.configs.b.upstreams]]\nbase_url = "${up.url}"\n`);
    const r = run(['serve', '--service', 'codex', '--port', '0'], env);
    children.push(r.child);
    await until(() => r.stdout.includes('listening'), 8000);
    const url = r.stdout.match(/http:\/\/[\d.]+:\d+/)![0];
    const pending = call(`${url}/v1/responses`, { body: '{"model":"m"}' });
    await until(() => release !== undefined, 3000, 'request reached upstream');
    r.child.kill('SIGINT');
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(r.child.exitCode, null, 'still draining');
    release!();
    assert.equal((await pending).status, 200);
    assert.equal(await r.exit, 0);
  });

  it('rejects --port with two services, unknown options and a non-loopback host without --allow-remote', async () => {
    const a = run(['serve', '--port', '4000'], env);
    assert.equal(await a.exit, 2);
    assert.match(a.stderr, /--port needs a single --service/);
    const b = run(['serve', '--bogus'], env);
    assert.equal(await b.exit, 2);
    const c = run(['serve', '--service', 'codex', '--port', '0', '--host', '0.0.0.0'], env);
    assert.equal(await c.exit, 1);
    assert.match(c.stderr, /not a loopback address \(use --allow-remote\)/);
  });

  it('reports a broken config with file, line and key, and a port in use clearly', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(env['CODEX_HELPER_HOME']!, { recursive: true });
    writeFileSync(join(env['CODEX_HELPER_HOME']!, 'config.toml'), 'version = 1\n[codex.configs.a]\nlevel = "x"\n');
    const bad = run(['serve', '--service', 'codex', '--port', '0'], env);
    assert.equal(await bad.exit, 1);
    assert.match(bad.stderr, /config\.toml:3: codex\.configs\.a\.level/);
    writeFileSync(join(env['CODEX_HELPER_HOME']!, 'config.toml'), 'version = 1\n');
    up = await startUpstream(() => undefined);
    const busy = run(['serve', '--service', 'claude', '--port', String(up.port)], env);
    assert.equal(await busy.exit, 1);
    assert.match(busy.stderr, new RegExp(`port ${up.port} on 127\\.0\\.0\\.1 is already in use`));
  });
});
