// An upstream that echoes every credential it receives, in headers and in its error body: none of them may reach a
// log file, the admin API or the client's answer.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, json, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';
import type { Logger } from '../../src/proxy/logger';

const TOKEN = 'upstream-token-4f1c9a7e2b';
const ENV_KEY = 'env-api-key-77aa19cc3d';
const CLIENT_KEY = 'client-own-key-5be0d2a9f1';
const QUERY_KEY = 'query-secret-0c3f88e1aa';
const ALL = [TOKEN, ENV_KEY, CLIENT_KEY, QUERY_KEY];

function config(url: string): string {
  return `version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${url}/v1?api-version=2024-10-01&key=${QUERY_KEY}"
auth = { auth_token = "${TOKEN}", api_key_env = "ECHO_KEY" }
[claude.configs.main]
[[claude.configs.main.upstreams]]
base_url = "${url}"
[retry.upstream]
max_attempts = 2
backoff_ms = 1
jitter_ms = 0
`;
}

function assertClean(what: string, text: string): void {
  for (const s of ALL) assert.ok(!text.includes(s), `${what} leaks ${s}:\n${text.slice(0, 2000)}`);
}

describe('secrets are never echoed', () => {
  let up: FakeUpstream;
  let proxy: TestProxy;
  const lines: string[] = [];
  const log: Logger = { debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  before(async () => {
    up = await startUpstream((req, res, body) => {
      const echo = `auth=${req.headers['authorization']} key=${req.headers['x-api-key']} url=${req.url} body=${body.toString()}`;
      const status = req.url?.includes('retry') ? 500 : 401;
      json(res, status, { error: { message: echo } }, { 'x-echo-auth': String(req.headers['authorization']), 'x-echo-key': String(req.headers['x-api-key']) });
    });
    proxy = await startProxy(config(up.url), {
      log,
      env: { ECHO_KEY: ENV_KEY, CODEX_HELPER_HTTP_DEBUG: '1', CODEX_HELPER_HTTP_LOG_REQUEST_BODY: '1', CODEX_HELPER_RETRY_TRACE: '1' },
    });
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('keeps the base_url query (api-version reaches the upstream)', async () => {
    await call(`${proxy.url()}/v1/responses?x=1`, { body: '{"model":"m"}' });
    const got = up.requests.at(-1)!.url;
    assert.equal(got, `/v1/responses?api-version=2024-10-01&key=${QUERY_KEY}&x=1`);
  });

  it('scrubs the resolved token and key, the client\'s own key and secret URL parts everywhere', async () => {
    const codex = await call(`${proxy.url()}/v1/responses?retry=1`, {
      body: `{"model":"m","input":"my key is ${CLIENT_KEY}"}`,
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
    });
    assert.equal(codex.status, 500);
    assert.match(codex.text, /\[REDACTED\]/, 'the echoed body reached the client, scrubbed');
    assertClean('codex answer body', codex.text);
    assertClean('codex answer headers', JSON.stringify(codex.headers));
    assert.match(String(codex.headers['x-codex-helper-upstreams-tried']), /key=\*\*\*/);

    // Claude: the client's own key passes through (no configured credential) and is echoed back.
    const claude = await call(`${proxy.url('claude')}/v1/messages`, {
      body: `{"model":"c","messages":[{"role":"user","content":"${CLIENT_KEY}"}]}`,
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, authorization: `Bearer ${CLIENT_KEY}` },
    });
    assert.equal(claude.status, 401);
    assertClean('claude answer', claude.text + JSON.stringify(claude.headers));
    assert.equal(up.requests.at(-1)!.headers['x-api-key'], CLIENT_KEY, 'the upstream itself still got the key');

    await proxy.host.requestLog?.flush();
    const logs = join(proxy.home, 'logs');
    await until(() => ['requests.jsonl', 'requests_debug.jsonl', 'retry_trace.jsonl'].every((f) => readdirSync(logs).includes(f)));
    for (const f of readdirSync(logs)) {
      const text = readFileSync(join(logs, f), 'utf8');
      assertClean(`logs/${f}`, text);
    }
    const debug = readFileSync(join(logs, 'requests_debug.jsonl'), 'utf8');
    assert.match(debug, /api-version=2024-10-01&key=\*\*\*/, 'target_url is shown with the secret masked');
    assert.match(debug, /client_body/, 'the body preview was written (and scrubbed)');
    assertClean('log lines', lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('x-echo-key')), 'the warn preview was written (and scrubbed)');

    const api = `${proxy.url()}/__codex_helper/api/v1`;
    for (const path of ['configs/detail', 'status/recent', 'snapshot', 'status/lb']) {
      const r = await call(`${api}/${path}`);
      assertClean(`admin ${path}`, r.text);
    }
    assert.match((await call(`${api}/configs/detail`)).text, /api-version=2024-10-01&key=\*\*\*/);
  });
});
