import assert from 'node:assert/strict';
import { call, json, serversPerTest, startProxy, until } from '../helpers/servers';
import { TRIED_HEADER } from '../../src/proxy/pipeline';

const FAST_RETRY = `
[retry]
profile = "balanced"
[retry.upstream]
backoff_ms = 1
backoff_max_ms = 5
jitter_ms = 0
`;

function codexConfig(configs: Record<string, { level?: number; upstreams: string[]; enabled?: boolean }>, extra = FAST_RETRY, active?: string): string {
  let out = 'version = 1\n[codex]\n' + (active ? `active = "${active}"\n` : '');
  for (const [name, c] of Object.entries(configs)) {
    out += `[codex.configs.${name}]\nlevel = ${c.level ?? 1}\nenabled = ${c.enabled ?? true}\n`;
    for (const u of c.upstreams) out += `[[codex.configs.${name}.upstreams]]\n${u}\n`;
  }
  return out + extra;
}

const OK_BODY = { id: 'resp_1', output: [], usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 } };
const REQ = JSON.stringify({ model: 'gpt-5', input: [{ role: 'user', content: 'hi' }], stream: false });

describe('proxy routing, retry and failover (real loopback upstreams)', () => {
  const servers = serversPerTest();
  const upstream = servers.upstream;

  it('passes a 2xx answer through with status, headers and body, and records usage', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY, { 'x-request-id': 'abc' }));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}/v1"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses?x=1`, { body: REQ, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-request-id'], 'abc');
    assert.deepEqual(r.json(), OK_BODY);
    assert.equal(up.requests[0]!.url, '/v1/responses?x=1', 'base path not doubled, query kept');
    const recent = servers.proxy.host.services.codex.state.listRecent(10);
    assert.equal(recent.length, 1);
    assert.equal(recent[0]!.usage?.total_tokens, 15);
    assert.equal(recent[0]!.config_name, 'main');
    assert.equal(recent[0]!.status_code, 200);
    assert.equal(servers.proxy.host.services.codex.state.listActive().length, 0);
  });

  it('passes a compressed answer through untouched and still counts its usage', async () => {
    const { gzipSync, gunzipSync } = await import('node:zlib');
    const packed = gzipSync(JSON.stringify(OK_BODY));
    const up = await upstream((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length });
      res.end(packed);
    });
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.ok(r.body.equals(packed));
    assert.deepEqual(JSON.parse(gunzipSync(r.body).toString()), OK_BODY);
    assert.equal(up.requests[0]!.headers['accept-encoding'], 'identity', 'the servers.proxy asks for identity; a compressed answer still passes');
    assert.equal(servers.proxy.host.services.codex.state.listRecent(1)[0]!.usage?.total_tokens, 15);
  });

  it('retries the same upstream on a 502 (upstream layer) and records the chain', async () => {
    const up = await upstream((_q, res, _b, n) => (n === 1 ? json(res, 502, { error: 'bad gateway' }) : json(res, 200, OK_BODY)));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 200);
    assert.equal(up.requests.length, 2);
    const rec = servers.proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.equal(rec.retry?.attempts, 2);
    assert.match(rec.retry!.upstream_chain[0]!, /status=502/);
    assert.match(rec.retry!.upstream_chain[1]!, /status=200/);
  });

  it('fails over to the next upstream of the config, cools the failed one, and sticks to the good one', async () => {
    const bad = await upstream((_q, res) => json(res, 500, { error: { message: 'boom' } }));
    const good = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${bad.url}"`, `base_url = "${good.url}"`] } }));
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).status, 200);
    assert.equal(bad.requests.length, 2, 'two upstream-layer attempts on the bad one');
    assert.equal(good.requests.length, 1);
    const view = servers.proxy.host.services.codex.lbStore.view()['main']!;
    assert.ok((view.upstreams[0]!.cooldown_remaining_secs ?? 0) > 25, 'transport cooldown (30 s) applied to the 500');
    assert.equal(view.last_good_index, 1);
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).status, 200);
    assert.equal(bad.requests.length, 2, 'cooling upstream not tried again');
    assert.equal(good.requests.length, 2);
  });

  it('strategy = "failover" at the upstream layer moves to the next upstream instead of repeating (seed defect)', async () => {
    const a = await upstream((_q, res) => json(res, 503, { error: 'a down' }));
    const b = await upstream((_q, res) => json(res, 200, OK_BODY));
    const retry = `[retry]\n[retry.upstream]\nmax_attempts = 2\nstrategy = "failover"\nbackoff_ms = 1\njitter_ms = 0\n`;
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${a.url}"`, `base_url = "${b.url}"`] } }, retry));
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).status, 200);
    assert.equal(a.requests.length, 1, 'failover strategy does not retry the same upstream');
    assert.equal(b.requests.length, 1);
  });

  it('fails over across configs by level', async () => {
    const l1 = await upstream((_q, res) => json(res, 429, { error: 'rate limited' }, { 'retry-after': '0' }));
    const l2 = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({
      primary: { level: 1, upstreams: [`base_url = "${l1.url}"`] },
      backup: { level: 2, upstreams: [`base_url = "${l2.url}"`] },
    }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 200);
    assert.equal(l1.requests.length, 2);
    assert.equal(servers.proxy.host.services.codex.state.listRecent(1)[0]!.config_name, 'backup');
  });

  it('a cooling config is skipped without using up a provider attempt (seed defect)', async () => {
    const a = await upstream((_q, res) => json(res, 500, {}));
    const b = await upstream((_q, res) => json(res, 500, {}));
    const c = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({
      c1: { level: 1, upstreams: [`base_url = "${a.url}"`] },
      c2: { level: 2, upstreams: [`base_url = "${b.url}"`] },
      c3: { level: 3, upstreams: [`base_url = "${c.url}"`] },
    }));
    // First request: c1 and c2 fail (provider max 2) → final failure, both cool down.
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).status, 500);
    // Second request: c1, c2 are cooling and skipped for free, c3 answers.
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 200);
    assert.equal(c.requests.length, 1);
  });

  it('a final failure returns the last status, body, content-type and the upstreams tried (seed defect)', async () => {
    const a = await upstream((_q, res) => json(res, 502, { error: { message: 'a is down' } }));
    const b = await upstream((_q, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '0', 'x-request-id': 'rq-9' });
      res.end('{"error":{"message":"b is down"}}');
    });
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${a.url}"`, `base_url = "${b.url}"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 503);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.headers['x-request-id'], 'rq-9');
    assert.equal(r.text, '{"error":{"message":"b is down"}}');
    const tried = String(r.headers[TRIED_HEADER]);
    assert.ok(tried.includes(a.url) && tried.includes(b.url), tried);
    const rec = servers.proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.equal(rec.status_code, 503);
    assert.equal(rec.retry?.attempts, 4);
  });

  it('passes an answer neither layer retries through with all its headers (a redirect keeps its location)', async () => {
    const up = await upstream((_q, res) => {
      res.writeHead(302, { location: 'https://elsewhere.example/login', 'x-vendor-trace': 't-1', 'content-type': 'text/plain' });
      res.end('moved');
    });
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/files`);
    assert.equal(r.status, 302);
    assert.equal(r.headers['location'], 'https://elsewhere.example/login');
    assert.equal(r.headers['x-vendor-trace'], 't-1');
    assert.equal(r.text, 'moved');
    assert.equal(up.requests.length, 1);
  });

  it('does not retry a non-retryable client error and passes it through', async () => {
    const up = await upstream((_q, res) =>
      json(res, 400, { error: { type: 'invalid_request_error', message: 'context_length_exceeded' } }));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"`, `base_url = "${up.url}/other"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 400);
    assert.equal(up.requests.length, 1);
    assert.equal(r.json<{ error: { type: string } }>().error.type, 'invalid_request_error');
    assert.equal(servers.proxy.host.services.codex.state.listRecent(1)[0]!.error_class, 'client_error_non_retryable');
  });

  it('a Cloudflare challenge page is retried and cools the upstream for the challenge cooldown (seed defect)', async () => {
    const cf = await upstream((_q, res) => {
      res.writeHead(403, { 'content-type': 'text/html; charset=UTF-8', server: 'cloudflare' });
      res.end('<html><script src="/cdn-cgi/challenge-platform/h/b/orchestrate"></script></html>');
    });
    const ok = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${cf.url}"`, `base_url = "${ok.url}"`] } }));
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).status, 200);
    assert.equal(cf.requests.length, 2, 'challenge class is upstream-retryable');
    const cd = servers.proxy.host.services.codex.lbStore.view()['main']!.upstreams[0]!.cooldown_remaining_secs ?? 0;
    assert.ok(cd > 250 && cd <= 300, `cloudflare_challenge cooldown is 300 s, got ${cd}`);
    const chain = servers.proxy.host.services.codex.state.listRecent(1)[0]!.retry!.upstream_chain;
    assert.match(chain[0]!, /class=cloudflare_challenge/);
  });

  it('answers 502 with the transport error when the upstream is unreachable', async () => {
    const dead = await upstream(() => undefined);
    const deadUrl = dead.url;
    await dead.close();
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${deadUrl}"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 502);
    const err = r.json<{ error: { type: string; message: string; upstreams_tried: string[] } }>().error;
    assert.equal(err.type, 'upstream_transport_error');
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(err.upstreams_tried.length, 1);
    const rec = servers.proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.match(rec.retry!.upstream_chain[0]!, /transport_error=.*flags: .*connect/);
  });

  it('excludes upstreams whose supported_models says false and answers 404 when none supports the model (seed defects)', async () => {
    const a = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'a' }));
    const b = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'b' }));
    servers.proxy = await startProxy(codexConfig({
      main: {
        upstreams: [
          `base_url = "${a.url}"\n[codex.configs.main.upstreams.supported_models]\n"gpt-5" = false\n"gpt-*" = true`,
          `base_url = "${b.url}"\n[codex.configs.main.upstreams.supported_models]\n"gpt-5" = true`,
        ],
      },
    }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.json<{ id: string }>().id, 'b');
    assert.equal(a.requests.length, 0);
    const r2 = await call(`${servers.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'claude-x', input: [] }) });
    assert.equal(r2.status, 404);
    assert.match(r2.text, /no upstream supports model 'claude-x'/);
    assert.equal(servers.proxy.host.services.codex.state.listActive().length, 0, 'request finished, not left active');
    assert.equal(servers.proxy.host.services.codex.state.listRecent(1)[0]!.status_code, 404);
  });

  it('rewrites the model by mapping and keeps every other byte of the body', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({
      main: { upstreams: [`base_url = "${up.url}"\n[codex.configs.main.upstreams.model_mapping]\n"gpt-*" = "vendor/gpt-*"\n"gpt-5*" = "exact-five"`] },
    }));
    const body = '{ "zeta": 1,\n  "model" : "gpt-5-codex", "input": [{"a":"\\"model\\": x"}], "alpha": true }';
    await call(`${servers.proxy.url()}/v1/responses`, { body });
    assert.equal(up.requests[0]!.body.toString(), body.replace('"gpt-5-codex"', '"exact-five"'));
    const rec = servers.proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.equal(rec.model, 'gpt-5-codex');
    assert.equal(rec.mapped_model, 'exact-five');
  });

  it('rejects a body over 10 MiB with 413 and sends nothing upstream', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"`] } }));
    const big = Buffer.alloc(10 * 1024 * 1024 + 10, 0x61);
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: big });
    assert.equal(r.status, 413);
    assert.equal(up.requests.length, 0);
    assert.equal(servers.proxy.host.services.codex.state.listRecent(1)[0]!.status_code, 413);
  });

  it('sends large bodies upstream byte for byte, declared or chunked, rewritten or not', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({
      main: { upstreams: [`base_url = "${up.url}"\n[codex.configs.main.upstreams.model_mapping]\n"gpt-5" = "gpt-5-mapped"`] },
    }));
    // Varied bytes (multi-byte UTF-8 across chunk edges), about 2 MB: many socket chunks.
    const text = Array.from({ length: 80_000 }, (_, i) => `{"t":"é${i}ü\\"${'x'.repeat(i % 17)}"}`).join(',');
    const body = (model: string): Buffer => Buffer.from(`{"model":"${model}","input":[${text}],"stream":false}`);
    const cases: Array<{ model: string; headers: Record<string, string> }> = [
      { model: 'gpt-5-codex', headers: {} },
      { model: 'gpt-5-codex', headers: { 'transfer-encoding': 'chunked' } },
      { model: 'gpt-5', headers: {} },
      { model: 'gpt-5', headers: { 'transfer-encoding': 'chunked' } },
    ];
    for (const [i, c] of cases.entries()) {
      const sent = body(c.model);
      assert.ok(sent.length > 2_000_000);
      assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: sent, headers: c.headers })).status, 200);
      const got = up.requests[i]!.body;
      const want = c.model === 'gpt-5' ? body('gpt-5-mapped') : sent;
      assert.ok(got.equals(want), `case ${i}: ${got.length} bytes upstream, ${want.length} expected`);
    }
  });

  it('without a config file imports Codex\'s own provider (in memory) and serves Claude on the embedded default', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(undefined, {
      env: { MOCK_KEY: 'sk-from-env-0000' },
      prepare: ({ codexHome }) => {
        const { writeFileSync } = require('node:fs') as typeof import('node:fs');
        writeFileSync(`${codexHome}/config.toml`, `model_provider = "mock"\n[model_providers.mock]\nname = "Mock"\nbase_url = "${up.url}/v1"\nenv_key = "MOCK_KEY"\n`);
      },
    });
    const mgr = servers.proxy.host.services.codex.manager;
    assert.deepEqual(Object.keys(mgr.configs), ['mock']);
    assert.equal(servers.proxy.host.services.claude.manager.configs['default']?.upstreams[0]?.base_url, 'https://api.anthropic.com/v1');
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(`${servers.proxy.home}/config.toml`), false, 'nothing written');
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).status, 200);
    assert.equal(up.requests[0]!.headers['authorization'], 'Bearer sk-from-env-0000');
  });

  it('answers 502 saying what to configure when no config has an upstream', async () => {
    servers.proxy = await startProxy('version = 1\n[codex]\n');
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(r.status, 502);
    assert.match(r.text, /no active upstream config for codex: add a config with at least one upstream under \[codex\]/);
  });

  it('strips hop-by-hop headers and the ones named in Connection; applies inline auth over the client\'s', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"\nauth = { auth_token = "sk-inline-secret-1234" }`] } }));
    await call(`${servers.proxy.url()}/v1/responses`, {
      body: REQ,
      headers: { connection: 'x-drop-me, keep-alive', 'x-drop-me': '1', 'x-keep': '2', authorization: 'Bearer client', 'keep-alive': 'timeout=5', te: 'trailers' },
    });
    const h = up.requests[0]!.headers;
    assert.equal(h['x-drop-me'], undefined);
    assert.equal(h['keep-alive'], undefined);
    assert.equal(h['te'], undefined);
    assert.equal(h['x-keep'], '2');
    assert.equal(h['authorization'], 'Bearer sk-inline-secret-1234');
    assert.equal(h['host'], `127.0.0.1:${up.port}`);
    await servers.proxy.host.requestLog!.flush();
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(`${servers.proxy.home}/logs/requests.jsonl`, 'utf8');
    assert.ok(!log.includes('sk-inline-secret-1234'), 'secret never logged');
    assert.match(log, /"authorization":"inline"/);
  });

  it('resolves auth from env, then the Codex auth.json (re-read when it changes), then passes the client\'s through', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    const cfg = codexConfig({ main: { upstreams: [`base_url = "${up.url}"\nauth = { auth_token_env = "MY_KEY" }`] } });
    servers.proxy = await startProxy(cfg, { env: {} });
    const { writeFileSync } = await import('node:fs');
    await call(`${servers.proxy.url()}/v1/responses`, { body: REQ, headers: { authorization: 'Bearer from-client' } });
    assert.equal(up.requests[0]!.headers['authorization'], 'Bearer from-client');
    writeFileSync(`${servers.proxy.codexHome}/auth.json`, JSON.stringify({ MY_KEY: 'file-key-1' }));
    await new Promise((r) => setTimeout(r, 900));
    await call(`${servers.proxy.url()}/v1/responses`, { body: REQ, headers: { authorization: 'Bearer from-client' } });
    assert.equal(up.requests[1]!.headers['authorization'], 'Bearer file-key-1');
    writeFileSync(`${servers.proxy.codexHome}/auth.json`, JSON.stringify({ MY_KEY: 'file-key-2-longer' }));
    await new Promise((r) => setTimeout(r, 900));
    await call(`${servers.proxy.url()}/v1/responses`, { body: REQ });
    assert.equal(up.requests[2]!.headers['authorization'], 'Bearer file-key-2-longer', 're-read after change');
    const envProxy = await startProxy(cfg, { env: { MY_KEY: 'env-key' } });
    try {
      await call(`${envProxy.url()}/v1/responses`, { body: REQ, headers: { authorization: 'Bearer from-client' } });
      assert.equal(up.requests[3]!.headers['authorization'], 'Bearer env-key');
    } finally {
      await envProxy.close();
    }
  });

  it('applies filter.json rules to the request body', async () => {
    const up = await upstream((_q, res) => json(res, 200, OK_BODY));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}"`] } }));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${servers.proxy.home}/filter.json`, JSON.stringify([{ op: 'replace', source: 'secret-project', target: 'project' }]));
    await call(`${servers.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'm', input: 'about secret-project' }) });
    assert.match(up.requests[0]!.body.toString(), /about project/);
  });

  it('reloads the config when the file changes and keeps the last good one when it breaks', async () => {
    const a = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'a' }));
    const b = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'b' }));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${a.url}"`] } }));
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).json<{ id: string }>().id, 'a');
    servers.proxy.writeConfig(codexConfig({ main: { upstreams: [`base_url = "${b.url}"`] } }));
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).json<{ id: string }>().id, 'b');
    servers.proxy.writeConfig('version = 1\n[codex.configs.main]\nlevel = "high"\n');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await call(`${servers.proxy.url()}/v1/responses`, { body: REQ })).json<{ id: string }>().id, 'b', 'last good config kept');
    const reload = await call(`${servers.proxy.url()}/__codex_helper/api/v1/config/reload`, { method: 'POST' });
    assert.equal(reload.status, 422);
    assert.match(reload.text, /config\.toml:3: codex\.configs\.main\.level/);
  });

  it('global pins and runtime enable/level changes apply to the very next request', async () => {
    const a = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'a' }));
    const b = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'b' }));
    servers.proxy = await startProxy(codexConfig({ one: { level: 1, upstreams: [`base_url = "${a.url}"`] }, two: { level: 2, upstreams: [`base_url = "${b.url}"`] } }));
    const admin = `${servers.proxy.url()}/__codex_helper/api/v1`;
    const id = async () => (await call(`${servers.proxy!.url()}/v1/responses`, { body: REQ })).json<{ id: string }>().id;
    assert.equal(await id(), 'a');
    await call(`${admin}/overrides/global-config`, { body: JSON.stringify({ config_name: 'two' }) });
    assert.equal(await id(), 'b');
    await call(`${admin}/overrides/global-config`, { body: JSON.stringify({ config_name: null }) });
    assert.equal(await id(), 'a');
    await call(`${admin}/overrides/config-meta`, { body: JSON.stringify({ config_name: 'one', enabled: false }) });
    assert.equal(await id(), 'b');
    await call(`${admin}/overrides/config-meta`, { body: JSON.stringify({ config_name: 'one', enabled: null, level: 3 }) });
    assert.equal(await id(), 'b', 'one now has the lower priority');
  });

  it('the session config override pins the config and the effort override sets reasoning.effort', async () => {
    const a = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'a' }));
    const b = await upstream((_q, res) => json(res, 200, { ...OK_BODY, id: 'b' }));
    servers.proxy = await startProxy(codexConfig({ one: { upstreams: [`base_url = "${a.url}"`] }, two: { upstreams: [`base_url = "${b.url}"`] } }, FAST_RETRY, 'one'));
    const admin = `${servers.proxy.url()}/__codex_helper/api/v1`;
    assert.equal((await call(`${admin}/overrides/session/config`, { body: JSON.stringify({ session_id: 's-1', config_name: 'two' }) })).status, 204);
    assert.equal((await call(`${admin}/overrides/session/effort`, { body: JSON.stringify({ session_id: 's-1', effort: 'high' }) })).status, 204);
    const body = '{"model":"gpt-5","input":[],"reasoning":{"summary":"auto","effort":"low"},"z":1}';
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body, headers: { 'session-id': 's-1' } });
    assert.equal(r.json<{ id: string }>().id, 'b');
    assert.equal(b.requests[0]!.body.toString(), body.replace('"effort":"low"', '"effort":"high"'));
    // thread-id and x-claude-code-session-id are read too; another session is not affected.
    const r2 = await call(`${servers.proxy.url()}/v1/responses`, { body, headers: { 'thread-id': 's-2' } });
    assert.equal(r2.json<{ id: string }>().id, 'a');
    assert.equal(a.requests[0]!.body.toString(), body);
    const stats = servers.proxy.host.services.codex.state.sessionStats();
    assert.equal(stats['s-1']?.last_reasoning_effort, 'high');
    await until(() => servers.proxy!.host.services.codex.state.listActive().length === 0);
  });
});
