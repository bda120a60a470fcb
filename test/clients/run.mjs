// Acceptance run with the REAL clients: Codex CLI and Claude Code talk to the proxy (node dist/cli.js serve), which
// forwards to a local fake upstream. Everything is offline and in temporary directories; nothing touches ~.
//
//   scripts/clients/install.sh            once (pinned clients into .e2e/clients)
//   node test/clients/run.mjs             builds dist/ (node esbuild.mjs) and runs every scenario
//   node test/clients/run.mjs --no-build --keep --only a,c --verbose
//   PROXY_CLI=/path/to/cli.js node test/clients/run.mjs     try another build (no rebuild of dist/)
//
// Scenarios:
//   a  codex, custom provider      → failover from a 502 config, session id, usage, retry chain
//   b  codex, built-in provider    → WebSocket upgrade first; the upstream answers 426 / 404 / 400 / resets, or the first
//                                    config is unreachable: Codex must fall back to POST+SSE after one attempt
//   c  claude -p                   → streamed (ttfb ≪ duration), usage merged, x-claude-code-session-id
//   d  global pin (admin API)      → the failing config is not contacted any more; claude session effort override
//   e  GET /v1/models shaped like each client's → the union of the enabled configs, in each client's list shape
//   f  in-band error before output → the first config answers 200 and then an overloaded error event before any
//                                    output; Codex exec and claude -p still print the answer (invisible failover)
// Exit code 0 only when every check passed. A PASS/FAIL table is printed at the end.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANTHROPIC_USAGE, FAKE_MODELS, OPENAI_USAGE, REPLY_TEXT, startFakeUpstream } from './fakeUpstream.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLIENTS = process.env.CLIENTS_DIR || join(REPO, '.e2e/clients');
const CODEX_BIN = join(CLIENTS, 'node_modules/.bin/codex');
const CLAUDE_BIN = join(CLIENTS, 'node_modules/.bin/claude');
const CHILD_TIMEOUT_MS = 90_000;
const UPSTREAM_TOKEN = 'sk-upstream-codex';
const UPSTREAM_KEY = 'sk-upstream-claude-key';
const ADMIN = '/__codex_helper/api/v1';
// Another build of the CLI (e.g. a patched copy) can be tried without touching dist/.
const PROXY_CLI = process.env.PROXY_CLI || join(REPO, 'dist/cli.js');

const args = process.argv.slice(2);
const opt = {
  build: !args.includes('--no-build'),
  keep: args.includes('--keep'),
  verbose: args.includes('--verbose'),
  only: (() => {
    const i = args.indexOf('--only');
    return i >= 0 && args[i + 1] ? new Set(args[i + 1].split(',')) : undefined;
  })(),
};
const wanted = (s) => !opt.only || opt.only.has(s);

// ---------------------------------------------------------------- results

const results = [];
/** Records one check. `ok` false marks the run as failed. */
function check(name, ok, detail = '') {
  results.push({ name, ok: !!ok, detail: String(detail) });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
  return !!ok;
}
function info(name, detail) {
  results.push({ name, ok: undefined, detail: String(detail) });
  console.log(`INFO  ${name}  (${detail})`);
}

// ---------------------------------------------------------------- processes

const children = new Set();

/** Runs a client to completion with a hard timeout; stdin is /dev/null (never inherited). */
function runClient(bin, argv, { cwd, env }) {
  return new Promise((resolveRun) => {
    const t0 = Date.now();
    const child = spawn(bin, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolveRun({ code, signal, stdout, stderr, ms: Date.now() - t0, timedOut });
    });
    child.on('error', (e) => {
      stderr += `spawn error: ${e.message}`;
    });
  });
}

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Starts `node dist/cli.js serve --service S --port 0` and resolves with its URL. */
function startProxy(service, env) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [PROXY_CLI, 'serve', '--service', service, '--port', '0', '--log-level', 'debug'],
      { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    const logs = [];
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${service} proxy did not start in 15 s:\n${logs.join('')}`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      logs.push(String(d));
      const m = /(\w+) proxy listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, url: m[2], logs });
      }
    });
    child.stderr.on('data', (d) => logs.push(String(d)));
    child.on('close', (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${service} proxy exited with ${code}:\n${logs.join('')}`));
    });
  });
}

async function stopProxy(p) {
  if (!p || p.child.exitCode !== null) return;
  const closed = new Promise((r) => p.child.once('close', r));
  killGroup(p.child, 'SIGTERM');
  const t = setTimeout(() => killGroup(p.child, 'SIGKILL'), 7000);
  await closed;
  clearTimeout(t);
}

// ---------------------------------------------------------------- admin API

async function admin(base, path, body) {
  const res = await fetch(`${base}${ADMIN}/${path}`, body === undefined ? {} : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The newest finished request matching `pred`, waiting briefly because recording follows the last byte. */
async function recentRequest(base, pred, sinceMs) {
  for (let i = 0; i < 40; i++) {
    const list = await admin(base, 'status/recent?limit=50');
    const hits = list.filter((r) => r.ended_at_ms >= sinceMs && pred(r)).sort((a, b) => b.ended_at_ms - a.ended_at_ms);
    if (hits[0]) return hits[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

// ---------------------------------------------------------------- files and environments

const W = mkdtempSync(join(tmpdir(), 'ch-clients-'));
const PATH_ENV = `${dirname(process.execPath)}:/usr/bin:/bin`;

/** Per service: a config whose upstream always answers 502 (level 1), a working one (level 2); codex also has a
 *  disabled config on a closed port, switched on by scenario b to see what a dead upstream does to the upgrade. */
function proxyConfigToml(fakeUrl, deadUrl) {
  const cfg = (service, name, { level, base, auth, provider, enabled = true }) => `
[${service}.configs.${name}]
level = ${level}
enabled = ${enabled}
[[${service}.configs.${name}.upstreams]]
base_url = "${base}/${service}/v1"
[${service}.configs.${name}.upstreams.auth]
${auth}
[${service}.configs.${name}.upstreams.tags]
provider_id = "${provider}"
`;
  const codexAuth = 'auth_token_env = "E2E_UPSTREAM_TOKEN"';
  const claudeAuth = 'api_key_env = "E2E_UPSTREAM_KEY"';
  return `version = 1

[codex]
active = "codex-primary"
${cfg('codex', 'codex-primary', { level: 1, base: `${fakeUrl}/fail-always`, auth: codexAuth, provider: 'flaky' })}
${cfg('codex', 'codex-backup', { level: 2, base: `${fakeUrl}/ok`, auth: codexAuth, provider: 'steady' })}
${cfg('codex', 'codex-dead', { level: 1, base: `${deadUrl}/dead`, auth: codexAuth, provider: 'dead', enabled: false })}
${cfg('codex', 'codex-inband', { level: 1, base: `${fakeUrl}/inband-overloaded`, auth: codexAuth, provider: 'overloaded', enabled: false })}

[claude]
active = "claude-primary"
${cfg('claude', 'claude-primary', { level: 1, base: `${fakeUrl}/fail-always`, auth: claudeAuth, provider: 'flaky' })}
${cfg('claude', 'claude-backup', { level: 2, base: `${fakeUrl}/ok`, auth: claudeAuth, provider: 'steady' })}
${cfg('claude', 'claude-inband', { level: 1, base: `${fakeUrl}/inband-overloaded`, auth: claudeAuth, provider: 'overloaded', enabled: false })}

[retry]
profile = "balanced"
# No cooldown, so every request tries the failing config first and each scenario shows the failover again.
transport_cooldown_secs = 0
`;
}

/** A loopback URL nothing listens on (a port just released). */
async function closedPortUrl() {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

const CODEX_COMMON = `model = "gpt-5.5"
approval_policy = "never"
sandbox_mode = "read-only"
check_for_update_on_startup = false

[analytics]
enabled = false
[feedback]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
unbounded_connection_retries = false
`;

/** Codex config with a custom provider pointing at the proxy (top-level keys must precede every table). */
function customProviderToml(proxyUrl) {
  return `model_provider = "mockprov"
${CODEX_COMMON}
[model_providers.mockprov]
name = "proxy under test"
base_url = "${proxyUrl}/v1"
wire_api = "responses"
env_key = "RC_CODEX_API_KEY"
request_max_retries = 0
stream_max_retries = 0
`;
}

/** A throwaway CODEX_HOME + HOME + empty cwd for one codex run. */
function codexWorkspace(tag, providerToml) {
  const dir = join(W, tag);
  for (const d of ['home', 'codex-home', 'cwd']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'codex-home/config.toml'), providerToml);
  return dir;
}

async function runCodex(dir, extraEnv) {
  return runClient(CODEX_BIN, ['exec', '--ephemeral', '--skip-git-repo-check', '--color', 'never', 'say ping'], {
    cwd: join(dir, 'cwd'),
    env: { PATH: PATH_ENV, HOME: join(dir, 'home'), CODEX_HOME: join(dir, 'codex-home'), ...extraEnv },
  });
}

async function runClaude(tag, proxyUrl, extraArgs = []) {
  const dir = join(W, tag);
  for (const d of ['claude-home/.claude', 'cwd']) mkdirSync(join(dir, d), { recursive: true });
  return runClient(CLAUDE_BIN, ['-p', 'say ping', '--output-format', 'text', '--no-session-persistence', ...extraArgs], {
    cwd: join(dir, 'cwd'),
    env: {
      PATH: PATH_ENV,
      HOME: join(dir, 'claude-home'),
      CLAUDE_CONFIG_DIR: join(dir, 'claude-home/.claude'),
      ANTHROPIC_BASE_URL: proxyUrl,
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_MAX_RETRIES: '0',
    },
  });
}

function tail(s, n = 1200) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

function clientOk(name, r) {
  const ok = r.code === 0 && r.stdout.includes(REPLY_TEXT);
  check(`${name}: exit 0 and "${REPLY_TEXT}" on stdout`, ok,
    `rc=${r.code}${r.timedOut ? ' TIMEOUT' : ''} ${r.ms} ms, stdout=${JSON.stringify(r.stdout.trim().slice(0, 80))}`);
  if (!ok || opt.verbose) console.log(`--- stderr of ${name} ---\n${tail(r.stderr)}\n---`);
  return ok;
}

const hits = (fake, since, pred) => fake.log.filter((e) => e.at >= since && pred(e));

// ---------------------------------------------------------------- scenarios

async function scenarioA(fake, codexProxy) {
  const dir = codexWorkspace('a', customProviderToml(codexProxy.url));
  const since = Date.now();
  const r = await runCodex(dir, { RC_CODEX_API_KEY: 'sk-test' });
  info('a codex custom provider: end-to-end time', `${r.ms} ms`);
  clientOk('a codex custom provider', r);
  const posts = hits(fake, since, (e) => e.method === 'POST' && e.url.includes('/codex/'));
  const bad = posts.filter((e) => e.mode === 'fail-always');
  const good = posts.filter((e) => e.mode === 'ok');
  check('a upstream saw 502 config first, then the backup', bad.length >= 1 && good.length === 1 && bad[0].at <= good[0].at,
    `fail-always=${bad.length} ok=${good.length}`);
  check('a upstream got the proxy token, not the client key', good[0]?.headers.authorization === `<${`Bearer ${UPSTREAM_TOKEN}`.length} chars>`,
    good[0]?.headers.authorization);
  // base_url ".../v1" (like https://openrouter.ai/api/v1) and a client that already says /v1/responses.
  check('a upstream path is base_url + /responses (no doubled /v1)', /^\/ok\/codex\/v1\/responses$/.test(good[0]?.url ?? ''), good[0]?.url);
  const sid = good[0]?.headers['session-id'];
  const rec = await recentRequest(codexProxy.url, (x) => x.method === 'POST' && x.path === '/v1/responses', since);
  if (!check('a admin recent: request recorded with status 200', rec?.status_code === 200, rec ? `status=${rec.status_code}` : 'not found')) return;
  check('a admin recent: session_id = Codex session-id header', !!sid && rec.session_id === sid, `${rec.session_id} vs ${sid}`);
  const u = rec.usage ?? {};
  check('a admin recent: usage from the upstream',
    u.input_tokens === OPENAI_USAGE.input_tokens && u.output_tokens === OPENAI_USAGE.output_tokens &&
      u.reasoning_tokens === OPENAI_USAGE.reasoning_tokens && u.total_tokens === OPENAI_USAGE.total_tokens &&
      u.cached_input_tokens === OPENAI_USAGE.cached,
    JSON.stringify(u));
  const chain = rec.retry?.upstream_chain ?? [];
  check('a admin recent: retry chain shows the failover',
    chain.length >= 2 && /codex-primary:.*status=502/.test(chain[0]) && /codex-backup:.*status=200/.test(chain[chain.length - 1]) &&
      rec.config_name === 'codex-backup',
    `attempts=${rec.retry?.attempts} config=${rec.config_name} chain=${JSON.stringify(chain)}`);
  check('a admin recent: ttfb_ms and duration_ms recorded', typeof rec.ttfb_ms === 'number' && rec.duration_ms >= rec.ttfb_ms,
    `ttfb=${rec.ttfb_ms} duration=${rec.duration_ms}`);
}

async function scenarioB(fake, codexProxy) {
  // What reaches Codex when its upgrade is refused decides how long it keeps retrying the WebSocket: 426 makes it
  // fall back to POST+SSE at once; other statuses and resets cost 7 attempts (~6.5 s); 400 is fatal (rc=1).
  const variants = [
    { tag: '426', ws: 426, label: 'upstream answers 426 Upgrade Required' },
    { tag: '404', ws: 404, label: 'upstream answers 404 (a provider without WS)' },
    { tag: '400', ws: 400, label: 'upstream answers 400' },
    { tag: 'reset', ws: 0, label: 'upstream closes the connection' },
    { tag: 'dead', ws: 426, label: 'first config unreachable (proxy refuses the upgrade itself)', dead: true },
  ];
  for (const v of variants) {
    fake.setWsStatus(v.ws);
    if (v.dead) {
      await admin(codexProxy.url, 'overrides/config-meta', { config_name: 'codex-dead', enabled: true });
      await admin(codexProxy.url, 'overrides/config-meta', { config_name: 'codex-primary', level: 3 });
    }
    const logFrom = codexProxy.logs.length;
    const dir = codexWorkspace(`b-${v.tag}`, `openai_base_url = "${codexProxy.url}/v1"\n${CODEX_COMMON}`);
    const since = Date.now();
    const r = await runCodex(dir, { CODEX_API_KEY: 'sk-test' });
    if (v.dead) {
      await admin(codexProxy.url, 'overrides/config-meta', { config_name: 'codex-dead', enabled: null });
      await admin(codexProxy.url, 'overrides/config-meta', { config_name: 'codex-primary', level: null });
    }
    clientOk(`b codex built-in provider, ${v.label}`, r);
    const ws = v.dead
      ? codexProxy.logs.slice(logFrom).join('').match(/websocket tunnel to/g) ?? []
      : hits(fake, since, (e) => e.ws);
    const posts = hits(fake, since, (e) => e.method === 'POST' && e.mode === 'ok');
    info(`b WS ${v.tag}: codex exec end-to-end`, `${r.ms} ms, upgrade attempts=${ws.length}, POSTs answered=${posts.length}`);
    if (!v.dead) {
      check(`b WS ${v.tag}: upgrade tunnelled to the upstream with Codex's headers`,
        ws.length >= 1 && /responses_websockets/.test(String(ws[0].headers['openai-beta'])) && ws[0].headers.upgrade === 'websocket',
        `attempts=${ws.length} openai-beta=${ws[0]?.headers['openai-beta']}`);
    }
    check(`b WS ${v.tag}: Codex falls back to POST+SSE after one upgrade attempt`, ws.length === 1 && posts.length === 1,
      `upgrade attempts=${ws.length}, POSTs=${posts.length}, ${r.ms} ms`);
    const rec = await recentRequest(codexProxy.url, (x) => x.method === 'POST' && x.path === '/v1/responses', since);
    check(`b WS ${v.tag}: fallback POST recorded with status 200 and usage`,
      rec?.status_code === 200 && rec.usage?.total_tokens === OPENAI_USAGE.total_tokens, rec ? `status=${rec.status_code}` : 'not found');
  }
  fake.setWsStatus(426);
}

async function scenarioC(fake, claudeProxy) {
  const since = Date.now();
  const r = await runClaude('c', claudeProxy.url);
  info('c claude -p: end-to-end time', `${r.ms} ms`);
  clientOk('c claude -p', r);
  const posts = hits(fake, since, (e) => e.method === 'POST' && e.url.includes('/claude/'));
  const good = posts.filter((e) => e.mode === 'ok');
  check('c upstream saw the failing config, then the backup',
    posts.some((e) => e.mode === 'fail-always') && good.length === 1, `${posts.map((e) => e.mode).join(',')}`);
  check('c upstream path is base_url + /messages?beta=true (no doubled /v1)', /\/ok\/claude\/v1\/messages\?beta=true$/.test(good[0]?.url ?? ''), good[0]?.url);
  check('c upstream got the proxy x-api-key', good[0]?.headers['x-api-key'] === `<${UPSTREAM_KEY.length} chars>`, good[0]?.headers['x-api-key']);
  const sid = good[0]?.headers['x-claude-code-session-id'];
  const rec = await recentRequest(claudeProxy.url, (x) => x.method === 'POST' && x.path === '/v1/messages', since);
  if (!check('c admin recent: request recorded with status 200', rec?.status_code === 200, rec ? `status=${rec.status_code}` : 'not found')) return;
  check('c admin recent: session_id = x-claude-code-session-id', !!sid && rec.session_id === sid, `${rec.session_id} vs ${sid}`);
  // 8 events 50 ms apart: a buffering proxy would see its first byte only at the end.
  check('c admin recent: streamed (ttfb_ms much smaller than duration_ms)',
    typeof rec.ttfb_ms === 'number' && rec.duration_ms >= 300 && rec.ttfb_ms * 3 < rec.duration_ms,
    `ttfb=${rec.ttfb_ms} duration=${rec.duration_ms}`);
  const u = rec.usage ?? {};
  check('c admin recent: usage = message_start input + message_delta output',
    u.input_tokens === ANTHROPIC_USAGE.input_tokens && u.output_tokens === ANTHROPIC_USAGE.output_tokens &&
      u.cached_input_tokens === ANTHROPIC_USAGE.cache_read && u.cache_creation_input_tokens === ANTHROPIC_USAGE.cache_creation,
    JSON.stringify(u));
  check('c admin recent: retry chain shows the failover',
    rec.config_name === 'claude-backup' && /claude-primary:.*status=502/.test(rec.retry?.upstream_chain?.[0] ?? ''),
    `config=${rec.config_name} chain=${JSON.stringify(rec.retry?.upstream_chain ?? [])}`);
}

async function scenarioD(fake, codexProxy, claudeProxy) {
  // Codex makes a new session per exec, so pin globally instead of per session.
  await admin(codexProxy.url, 'overrides/global-config', { config_name: 'codex-backup' });
  const pinned = await admin(codexProxy.url, 'overrides/global-config');
  check('d admin: global pin set', pinned === 'codex-backup' || pinned?.name === 'codex-backup', JSON.stringify(pinned));
  const dir = codexWorkspace('d', customProviderToml(codexProxy.url));
  const since = Date.now();
  const r = await runCodex(dir, { RC_CODEX_API_KEY: 'sk-test' });
  clientOk('d codex with global pin', r);
  const codexHits = hits(fake, since, (e) => e.url.includes('/codex/'));
  check('d pinned: the failing config was not contacted',
    codexHits.length >= 1 && codexHits.every((e) => e.mode === 'ok'), codexHits.map((e) => `${e.mode} ${e.method}`).join(', '));
  const rec = await recentRequest(codexProxy.url, (x) => x.method === 'POST' && x.path === '/v1/responses', since);
  check('d pinned: recorded on codex-backup with no retry', rec?.config_name === 'codex-backup' && !rec.retry,
    `config=${rec?.config_name} retry=${JSON.stringify(rec?.retry)}`);
  await admin(codexProxy.url, 'overrides/global-config', { config_name: null });

  // Claude accepts a chosen session id, so the per-session effort override can be shown with a real client.
  const sid = '3f0c9a52-7d1e-4c4b-9a61-2b7f1d5e8c01';
  await admin(claudeProxy.url, 'overrides/session/effort', { session_id: sid, effort: 'low' });
  const since2 = Date.now();
  const r2 = await runClaude('d-claude', claudeProxy.url, ['--session-id', sid]);
  clientOk('d claude with session effort override', r2);
  const good = hits(fake, since2, (e) => e.method === 'POST' && e.mode === 'ok' && e.url.includes('/claude/'));
  check('d effort override: upstream body has output_config.effort = "low"',
    good[0]?.headers['x-claude-code-session-id'] === sid && good[0]?.effort === 'low',
    `session=${good[0]?.headers['x-claude-code-session-id']} effort=${good[0]?.effort}`);
  const rec2 = await recentRequest(claudeProxy.url, (x) => x.session_id === sid, since2);
  check('d effort override: recorded reasoning_effort = low', rec2?.reasoning_effort === 'low', `reasoning_effort=${rec2?.reasoning_effort}`);
  await admin(claudeProxy.url, 'overrides/session/effort', { session_id: sid, effort: null });
}

/** Model discovery with the headers each client sends: only the working config's list and names come back. */
async function scenarioE(fake, codexProxy, claudeProxy) {
  const codex = await fetch(`${codexProxy.url}/v1/models?client_version=0.169.0`, { headers: {
    authorization: 'Bearer sk-test', originator: 'codex_exec', 'user-agent': 'codex_exec/0.169.0 (Debian 12.0.0; x86_64)', accept: 'application/json',
  } });
  const cj = await codex.json().catch(() => ({}));
  const cids = (cj.data ?? []).map((m) => m.id);
  check('e codex GET /v1/models: 200, OpenAI list', codex.status === 200 && cj.object === 'list' && (cj.data ?? []).every((m) => m.object === 'model'), `status ${codex.status}`);
  check('e codex models = the working upstream\'s list', JSON.stringify(cids) === JSON.stringify(FAKE_MODELS.codex), cids.join(','));
  check('e codex models name the configs that serve them', (cj.data ?? []).every((m) => JSON.stringify(m.configs) === '["codex-backup"]'), JSON.stringify(cj.data?.[0]));
  const claude = await fetch(`${claudeProxy.url}/v1/models?limit=1000`, { headers: {
    'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219', 'x-app': 'cli',
    'user-agent': 'claude-cli/2.1.332 (external, sdk-cli)', accept: 'application/json',
  } });
  const aj = await claude.json().catch(() => ({}));
  const aids = (aj.data ?? []).map((m) => m.id);
  check('e claude GET /v1/models: 200, Anthropic list', claude.status === 200 && aj.has_more === false && (aj.data ?? []).every((m) => m.type === 'model' && m.display_name && m.created_at), `status ${claude.status}`);
  check('e claude models = the working upstream\'s list', JSON.stringify(aids) === JSON.stringify(FAKE_MODELS.claude), aids.join(','));
  const asked = fake.log.filter((e) => e.method === 'GET' && /\/models/.test(e.url));
  check('e the upstream lists were fetched with the configured credentials', asked.length >= 2 && asked.every((e) => !JSON.stringify(e.headers).includes('sk-test')), `${asked.length} list request(s)`);
}

/** In-band overloaded error before any output: both clients still get the answer from the backup. */
async function scenarioF(fake, codexProxy, claudeProxy) {
  // The overloaded config goes first (level 1), the 502 one last: the first answer each client's request gets is
  // a 200 stream that reports overloaded before any output.
  const runs = [
    { service: 'codex', proxy: codexProxy, path: '/v1/responses', run: () => runCodex(codexWorkspace('f', customProviderToml(codexProxy.url)), { RC_CODEX_API_KEY: 'sk-test' }), event: 'response.failed' },
    { service: 'claude', proxy: claudeProxy, path: '/v1/messages', run: () => runClaude('f-claude', claudeProxy.url), event: 'error' },
  ];
  for (const x of runs) {
    const { service, proxy } = x;
    await admin(proxy.url, 'overrides/config-meta', { config_name: `${service}-inband`, enabled: true });
    await admin(proxy.url, 'overrides/config-meta', { config_name: `${service}-primary`, level: 3 });
    const since = Date.now();
    let r;
    try {
      r = await x.run();
    } finally {
      await admin(proxy.url, 'overrides/config-meta', { config_name: `${service}-inband`, enabled: null });
      await admin(proxy.url, 'overrides/config-meta', { config_name: `${service}-primary`, level: null });
    }
    info(`f ${service}: end-to-end time`, `${r.ms} ms`);
    clientOk(`f ${service} through a 200 + overloaded-before-output upstream`, r);
    const posts = hits(fake, since, (e) => e.method === 'POST' && e.url.includes(`/${service}/`));
    check(`f ${service}: upstream saw the overloaded config first, then the backup`,
      posts[0]?.mode === 'inband-overloaded' && posts.filter((e) => e.mode === 'ok').length === 1,
      posts.map((e) => e.mode).join(','));
    const rec = await recentRequest(proxy.url, (q) => q.method === 'POST' && q.path === x.path, since);
    if (!check(`f ${service} admin recent: recorded 200 from ${service}-backup`, rec?.status_code === 200 && rec.config_name === `${service}-backup` && !rec.error_class,
      rec ? `status=${rec.status_code} config=${rec.config_name} class=${rec.error_class}` : 'not found')) continue;
    const chain = rec.retry?.upstream_chain ?? [];
    check(`f ${service} admin recent: the failover shows the in-band overloaded error`,
      new RegExp(`${service}-inband:.*status=200 class=overloaded in_band=${x.event.replace('.', '\\.')}`).test(chain[0] ?? '') &&
        /failed over from .*-inband#0 \(overloaded\)/.test(rec.route_note ?? ''),
      `route_note=${rec.route_note} chain=${JSON.stringify(chain)}`);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  for (const [name, bin] of [['codex', CODEX_BIN], ['claude', CLAUDE_BIN]]) {
    if (!existsSync(bin)) throw new Error(`${name} is not installed at ${bin}; run scripts/clients/install.sh`);
  }
  if (opt.build && !process.env.PROXY_CLI) {
    const t0 = Date.now();
    const b = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, stdio: 'inherit', timeout: CHILD_TIMEOUT_MS });
    if (b.status !== 0) throw new Error('build failed (node esbuild.mjs)');
    info('build dist/cli.js', `${Date.now() - t0} ms`);
  }
  const fake = await startFakeUpstream({ gapMs: 50, wsStatus: 426 });
  const helperHome = join(W, 'helper-home');
  mkdirSync(helperHome, { recursive: true });
  writeFileSync(join(helperHome, 'config.toml'), proxyConfigToml(fake.url, await closedPortUrl()));
  for (const d of ['proxy-home', 'proxy-codex-home', 'proxy-claude-home']) mkdirSync(join(W, d), { recursive: true });
  const proxyEnv = {
    PATH: PATH_ENV,
    HOME: join(W, 'proxy-home'),
    CODEX_HELPER_HOME: helperHome,
    CODEX_HOME: join(W, 'proxy-codex-home'),
    CLAUDE_HOME: join(W, 'proxy-claude-home'),
    E2E_UPSTREAM_TOKEN: UPSTREAM_TOKEN,
    E2E_UPSTREAM_KEY: UPSTREAM_KEY,
  };
  let codexProxy;
  let claudeProxy;
  try {
    const t0 = Date.now();
    [codexProxy, claudeProxy] = await Promise.all([startProxy('codex', proxyEnv), startProxy('claude', proxyEnv)]);
    info('proxies started', `codex ${codexProxy.url}, claude ${claudeProxy.url} in ${Date.now() - t0} ms`);
    if (wanted('a')) await scenarioA(fake, codexProxy);
    if (wanted('b')) await scenarioB(fake, codexProxy);
    if (wanted('c')) await scenarioC(fake, claudeProxy);
    if (wanted('d')) await scenarioD(fake, codexProxy, claudeProxy);
    if (wanted('e')) await scenarioE(fake, codexProxy, claudeProxy);
    if (wanted('f')) await scenarioF(fake, codexProxy, claudeProxy);
    const leaked = fake.log.filter((e) => /sk-test/.test(JSON.stringify(e.headers)));
    check('no request reached the upstream with the client key', leaked.length === 0, `${leaked.length} leaked`);
  } finally {
    await Promise.all([stopProxy(codexProxy), stopProxy(claudeProxy)]);
    if (opt.verbose || results.some((r) => r.ok === false)) {
      for (const p of [codexProxy, claudeProxy]) if (p) console.log(`--- proxy log ${p.url} ---\n${tail(p.logs.join(''), 4000)}`);
    }
    await fake.close();
  }
}

let crashed;
try {
  await main();
} catch (e) {
  crashed = e;
  check('run completed', false, e.message);
} finally {
  for (const c of children) killGroup(c, 'SIGKILL');
  if (!opt.keep) rmSync(W, { recursive: true, force: true });
  else console.log(`kept ${W}`);
}
const failed = results.filter((r) => r.ok === false).length;
const passed = results.filter((r) => r.ok === true).length;
const width = Math.min(70, Math.max(...results.map((r) => r.name.length)));
console.log('\n' + '='.repeat(width + 8));
for (const r of results) console.log(`${r.ok === undefined ? 'INFO' : r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.ok === false || r.ok === undefined ? r.detail : ''}`);
console.log('='.repeat(width + 8));
console.log(`${passed} passed, ${failed} failed${crashed ? ' (crashed)' : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
