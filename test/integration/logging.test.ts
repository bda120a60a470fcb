import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { call, json, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';
import type { Logger } from '../../src/proxy/logger';

const SECRET = 'sk-upstream-secret-abcdef123456';

function config(url: string): string {
  return `version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${url}"
auth = { auth_token = "${SECRET}" }
[retry.upstream]
backoff_ms = 1
jitter_ms = 0
`;
}

describe('request log, http_debug previews and retry trace', () => {
  let up: FakeUpstream;
  let proxy: TestProxy | undefined;
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url === '/ok') return json(res, 200, { usage: { input_tokens: 1, output_tokens: 2 } });
      json(res, 500, { error: { message: `upstream exploded; echo ${req.headers['authorization']}` } }, { 'cf-ray': 'ray-1' });
    });
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    warnings.length = 0;
  });
  after(() => up.close());

  it('writes one requests.jsonl line per request with the seed fields and no secrets', async () => {
    proxy = await startProxy(config(up.url), { log });
    await call(`${proxy.url()}/ok`, { body: '{"model":"m","reasoning":{"effort":"low"}}', headers: { 'session-id': 's9', authorization: 'Bearer client-secret-token-xyz' } });
    await call(`${proxy.url()}/fail`, { body: '{"model":"m"}' });
    await proxy.host.requestLog!.flush();
    const lines = readFileSync(`${proxy.home}/logs/requests.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    const [ok, fail] = lines;
    assert.deepEqual(Object.keys(ok!).slice(0, 6), ['timestamp_ms', 'service', 'method', 'path', 'status_code', 'duration_ms']);
    assert.equal(ok!['session_id'], 's9');
    assert.equal(ok!['reasoning_effort'], 'low');
    assert.deepEqual(ok!['usage'], { input_tokens: 1, output_tokens: 2, reasoning_tokens: 0, total_tokens: 3 });
    assert.equal(fail!['status_code'], 500);
    assert.equal((fail!['retry'] as { attempts: number }).attempts, 2);
    const all = readFileSync(`${proxy.home}/logs/requests.jsonl`, 'utf8');
    assert.ok(!all.includes(SECRET) && !all.includes('client-secret-token-xyz'));
  });

  it('rebuilds the usage rollups at start from the tail of requests.jsonl', async () => {
    proxy = await startProxy(config(up.url), { log });
    for (let i = 0; i < 3; i++) await call(`${proxy.url()}/ok`, { body: '{"model":"m"}' });
    await proxy.host.requestLog!.flush();
    const { ProxyHost } = await import('../../src/proxy/proxyHost');
    const again = new ProxyHost({ home: proxy.home, codexHome: proxy.codexHome, claudeHome: proxy.claudeHome, env: {}, log, requestLog: false });
    try {
      assert.equal(again.services.codex.replayUsage(), 3);
      const view = again.services.codex.state.usageRollupView(12, 60);
      assert.equal(view.since_start.requests_total, 3);
      assert.equal(view.since_start.usage.total_tokens, 9);
      assert.equal(again.services.claude.replayUsage(), 0, 'only its own service lines');
    } finally {
      await again.dispose(0);
    }
  });

  it('warns with a redacted preview of a failed exchange by default', async () => {
    proxy = await startProxy(config(up.url), { log });
    await call(`${proxy.url()}/fail`, { body: '{"model":"m"}' });
    await until(() => warnings.some((w) => w.includes('→ 500')));
    const w = warnings.find((x) => x.includes('→ 500'))!;
    assert.match(w, /upstream exploded/);
    assert.match(w, /"upstream_cf_ray":"ray-1"/);
    assert.ok(!w.includes(SECRET), 'token scrubbed from the echoed body and headers');
    assert.match(w, /\[REDACTED\]/);
  });

  it('splits http_debug into requests_debug.jsonl when CODEX_HELPER_HTTP_DEBUG is on, and traces retries', async () => {
    proxy = await startProxy(config(up.url), { log, env: { CODEX_HELPER_HTTP_DEBUG: '1', CODEX_HELPER_RETRY_TRACE: '1' } });
    await call(`${proxy.url()}/fail`, { body: '{"model":"m"}' });
    await call(`${proxy.url()}/ok`, { body: '{"model":"m"}' });
    await proxy.host.dispose(0);
    const main = readFileSync(`${proxy.home}/logs/requests.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ref = main[0]!['http_debug_ref'] as { id: string; file: string };
    assert.equal(ref.file, 'requests_debug.jsonl');
    assert.equal(main[1]!['http_debug_ref'], undefined, '2xx answers carry no debug blob');
    const dbg = readFileSync(`${proxy.home}/logs/requests_debug.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; http_debug: Record<string, unknown> });
    assert.equal(dbg.length, 1);
    assert.equal(dbg[0]!.id, ref.id);
    const h = dbg[0]!.http_debug;
    assert.equal(h['target_url'], `${up.url}/fail`);
    assert.deepEqual((h['upstream_request_headers'] as Array<{ name: string; value: string }>).find((x) => x.name === 'authorization'), { name: 'authorization', value: '[REDACTED]' });
    assert.equal((h['upstream_response_body'] as { encoding: string }).encoding, 'utf8');
    assert.equal((h['auth_resolution'] as { authorization: string }).authorization, 'inline');
    assert.ok(!readFileSync(`${proxy.home}/logs/requests_debug.jsonl`, 'utf8').includes(SECRET));
    const trace = readFileSync(`${proxy.home}/logs/retry_trace.jsonl`, 'utf8');
    assert.match(trace, /"event":"lbs_for_request"/);
    assert.match(trace, /"event":"attempt_select"/);
    assert.match(trace, /"event":"attempt_result".*"status":500/);
  });
});
