import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { call, json, startProxy, startUpstream } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';
import { LoadBalancer } from '../../src/core/lb';
import { ENDPOINTS } from '../../src/proxy/admin';
import { ADMIN_PATHS, ADMIN_PREFIX } from '../../src/core/adminContract';
import type { Capabilities } from '../../src/core/adminContract';

const CONFIG = (url: string) => `version = 1
[codex]
active = "alpha"
[codex.configs.alpha]
alias = "Alpha"
level = 2
[[codex.configs.alpha.upstreams]]
base_url = "${url}/v1"
auth = { auth_token = "sk-very-secret-token-123456" }
[codex.configs.alpha.upstreams.tags]
provider_id = "openai"
[codex.configs.beta]
level = 1
[[codex.configs.beta.upstreams]]
base_url = "${url}/v1"
auth = { api_key_env = "BETA_KEY" }
[retry]
profile = "cost-primary"
`;

/** A raw request with full control over Host and Origin headers. */
function rawCall(url: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent: false, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('admin API and local safety', () => {
  let up: FakeUpstream;
  let proxy: TestProxy;
  let api: string;
  before(async () => {
    up = await startUpstream((_q, res) => json(res, 200, { object: 'list', data: [] }));
    proxy = await startProxy(CONFIG(up.url), { env: { BETA_KEY: 'sk-beta-secret-value-999' } });
    api = `${proxy.url()}/__codex_helper/api/v1`;
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('capabilities lists exactly the routes served, and every listed route answers', async () => {
    const caps = (await call(`${api}/capabilities`)).json<Capabilities>();
    assert.equal(caps.api_version, 1);
    assert.equal(caps.service_name, 'codex');
    assert.deepEqual(caps.endpoints, ENDPOINTS);
    // The server serves exactly the contract's paths (src/core/adminContract.ts).
    assert.deepEqual(caps.endpoints, ADMIN_PATHS.map((p) => ADMIN_PREFIX + p));
    for (const seedPath of ['api/v1/snapshot', 'api/v1/status/active', 'api/v1/status/recent', 'api/v1/status/session-stats',
      'api/v1/status/health-checks', 'api/v1/status/config-health', 'api/v1/config/runtime', 'api/v1/config/reload',
      'api/v1/configs', 'api/v1/overrides/session/effort', 'api/v1/overrides/session/config', 'api/v1/overrides/global-config',
      'api/v1/healthcheck/start', 'api/v1/healthcheck/cancel', 'override/session', 'config/runtime', 'config/reload',
      'status/active', 'status/recent']) {
      assert.ok(caps.endpoints.includes(`/__codex_helper/${seedPath}`), seedPath);
    }
    for (const p of caps.endpoints) {
      const r = await call(`${proxy.url()}${p}`);
      assert.ok(r.status === 200 || r.status === 405, `${p} → ${r.status}`);
    }
  });

  it('configs are sorted by level then name, with clamped levels', async () => {
    const configs = (await call(`${api}/configs`)).json<Array<{ name: string; level: number; alias?: string }>>();
    assert.deepEqual(configs.map((c) => [c.name, c.level]), [['beta', 1], ['alpha', 2]]);
    assert.equal(configs[1]!.alias, 'Alpha');
  });

  it('config/runtime reports the resolved retry of the profile (and the legacy route too)', async () => {
    for (const path of [`${api}/config/runtime`, `${proxy.url()}/__codex_helper/config/runtime`]) {
      const rt = (await call(path)).json<{ config_path: string; loaded_at_ms: number; retry: { provider: { max_attempts: number }; cooldown_backoff_factor: number } }>();
      assert.match(rt.config_path, /config\.toml$/);
      assert.equal(rt.retry.cooldown_backoff_factor, 2);
      assert.equal(rt.retry.provider.max_attempts, 2);
      assert.ok(!('profile' in rt.retry));
    }
  });

  it('override endpoints validate input with the seed texts and change nothing on errors', async () => {
    const post = (path: string, body: string) => call(`${api}/${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.deepEqual([(await post('overrides/session/effort', '{"effort":"high"}')).status, (await post('overrides/session/effort', '{"effort":"high"}')).text], [400, 'session_id is required']);
    assert.equal((await post('overrides/session/effort', '{"session_id":"  ","effort":"high"}')).text, 'session_id is required');
    assert.equal((await post('overrides/session/effort', '{"session_id":"s","effort":" "}')).text, 'effort is empty');
    assert.equal((await post('overrides/session/config', '{"session_id":"s","config_name":""}')).text, 'config_name is empty');
    assert.equal((await post('overrides/global-config', '{"config_name":""}')).text, 'config_name is empty');
    const bad = await post('overrides/global-config', '{"config_name":"nope"}');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /unknown config 'nope'/);
    assert.equal((await post('overrides/session/effort', '{not json')).status, 400);
    assert.match((await post('overrides/session/effort', '[1]')).text, /expected a JSON object/);
    assert.match((await post('overrides/session/effort', '{"session_id":5}')).text, /session_id must be a string/);
    assert.deepEqual((await call(`${api}/overrides/session/effort`)).json(), {});
    assert.equal((await call(`${api}/overrides/global-config`)).json(), null);

    assert.equal((await post('overrides/session/effort', '{"session_id":"s1","effort":"xhigh"}')).status, 204);
    assert.deepEqual((await call(`${api}/overrides/session/effort`)).json(), { s1: 'xhigh' });
    assert.deepEqual((await call(`${proxy.url()}/__codex_helper/override/session`)).json(), { s1: 'xhigh' });
    assert.equal((await post('overrides/session/effort', '{"session_id":"s1","effort":null}')).status, 204);
    assert.deepEqual((await call(`${api}/overrides/session/effort`)).json(), {});
    assert.equal((await post('overrides/global-config', '{"config_name":"alpha"}')).status, 204);
    assert.equal((await call(`${api}/overrides/global-config`)).json(), 'alpha');
    assert.equal((await post('overrides/global-config', '{"config_name":null}')).status, 204);
    assert.equal((await call(`${api}/overrides/global-config`)).json(), null);
  });

  it('unknown routes answer 404 and wrong methods 405 with a reason', async () => {
    const r = await call(`${api}/nope`);
    assert.equal(r.status, 404);
    assert.match(r.text, /unknown admin endpoint/);
    const m = await call(`${api}/configs`, { method: 'POST', body: '{}' });
    assert.equal(m.status, 405);
  });

  it('status/recent clamps its limit; snapshot has the seed shape', async () => {
    for (let i = 0; i < 3; i++) await call(`${proxy.url()}/v1/files`);
    assert.equal((await call(`${api}/status/recent?limit=0`)).json<unknown[]>().length, 1);
    assert.equal((await call(`${api}/status/recent?limit=500`)).json<unknown[]>().length, 3);
    assert.equal((await call(`${api}/status/recent?limit=abc`)).status, 400);
    const snap = (await call(`${api}/snapshot?recent_limit=2`)).json<{ api_version: number; configs: unknown[]; snapshot: Record<string, unknown> }>();
    assert.equal(snap.api_version, 1);
    assert.equal((snap.snapshot['recent'] as unknown[]).length, 2);
    for (const k of ['refreshed_at_ms', 'active', 'recent', 'session_config_overrides', 'session_effort_overrides', 'session_stats', 'config_health', 'health_checks', 'lb_view', 'usage_rollup', 'stats_5m', 'stats_1h']) {
      assert.ok(k in snap.snapshot, k);
    }
  });

  it('no admin answer ever contains a secret value', async () => {
    const caps = (await call(`${api}/capabilities`)).json<{ endpoints: string[] }>();
    for (const p of [...caps.endpoints, '/__codex_helper/api/v1/configs/detail']) {
      const r = await call(`${proxy.url()}${p}`);
      assert.ok(!r.text.includes('sk-very-secret-token-123456') && !r.text.includes('sk-beta-secret-value-999'), p);
    }
    const detail = (await call(`${api}/configs/detail`)).json<{ configs: Array<{ name: string; upstreams: Array<{ auth_source: string }> }> }>();
    const sources = Object.fromEntries(detail.configs.map((c) => [c.name, c.upstreams[0]!.auth_source]));
    assert.deepEqual(sources, { alpha: 'inline', beta: 'env:BETA_KEY' });
  });

  it('config meta overrides (enable/level) are validated, applied to routing and survive a restart', async () => {
    const post = (body: string) => call(`${api}/overrides/config-meta`, { method: 'POST', body });
    assert.equal((await post('{"config_name":"alpha","level":11}')).status, 400);
    assert.equal((await post('{"config_name":"ghost","level":1}')).status, 400);
    assert.equal((await post('{"config_name":"alpha"}')).status, 400);
    assert.equal((await post('{"config_name":"beta","enabled":false}')).status, 204);
    assert.equal((await post('{"config_name":"alpha","level":1}')).status, 204);
    assert.equal((await call(`${api}/overrides/global-config`, { method: 'POST', body: '{"config_name":"alpha"}' })).status, 204);
    assert.deepEqual((await call(`${api}/overrides/config-meta`)).json(), { beta: { enabled: false }, alpha: { level: 1 } });
    // Restart: a new host on the same home restores meta and the global pin; config.toml untouched.
    const { readFileSync } = await import('node:fs');
    const before = readFileSync(`${proxy.home}/config.toml`, 'utf8');
    const { ProxyHost } = await import('../../src/proxy/proxyHost');
    const { silentLogger } = await import('../../src/proxy/logger');
    const again = new ProxyHost({ home: proxy.home, codexHome: proxy.codexHome, claudeHome: proxy.claudeHome, env: {}, log: silentLogger, requestLog: false });
    try {
      assert.deepEqual(again.services.codex.state.getConfigMeta(), { beta: { enabled: false }, alpha: { level: 1 } });
      assert.equal(again.services.codex.state.getGlobalConfig(), 'alpha');
    } finally {
      await again.dispose(0);
    }
    assert.equal(readFileSync(`${proxy.home}/config.toml`, 'utf8'), before);
    await call(`${api}/overrides/global-config`, { method: 'POST', body: '{"config_name":null}' });
    await post('{"config_name":"beta","enabled":null}');
    await post('{"config_name":"alpha","level":null}');
  });

  it('refuses requests whose Host is not loopback (DNS rebinding) and cross-origin browser requests', async () => {
    const port = new URL(proxy.url()).port;
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await rawCall(`${base}/v1/models`, { host: 'evil.example:80' })).status, 403);
    assert.equal((await rawCall(`${base}/__codex_helper/api/v1/configs`, { host: 'attacker.test' })).status, 403);
    assert.equal((await rawCall(`${base}/v1/models`, { host: `localhost:${port}`, origin: 'https://evil.example' })).status, 403);
    assert.equal((await rawCall(`${base}/__codex_helper/api/v1/overrides/global-config`, { host: `127.0.0.1:${port}`, origin: 'null' }, 'POST', '{"config_name":"alpha"}')).status, 403);
    assert.equal((await call(`${api}/overrides/global-config`)).json(), null, 'refused POST changed nothing');
    assert.equal((await rawCall(`${base}/v1/models`, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status, 200);
    assert.equal((await rawCall(`${base}/v1/models`, { host: `[::1]:${port}` })).status, 200);
  });

  it('health checks probe GET <base>/models with the same credentials as traffic', async () => {
    const r = await call(`${api}/healthcheck/start`, { method: 'POST', body: '{"all":true}' });
    const res = r.json<{ started: string[] }>();
    assert.deepEqual(res.started, ['alpha', 'beta']);
    assert.equal((await call(`${api}/healthcheck/start`, { method: 'POST', body: '{}' })).status, 400);
    const deadline = Date.now() + 3000;
    let health: Record<string, { upstreams: Array<{ ok?: boolean; status_code?: number; latency_ms?: number }> }> = {};
    while (Date.now() < deadline) {
      health = (await call(`${api}/status/config-health`)).json();
      if (health['alpha']?.upstreams.length && health['beta']?.upstreams.length) break;
      await new Promise((res2) => setTimeout(res2, 20));
    }
    assert.equal(health['alpha']!.upstreams[0]!.ok, true);
    assert.equal(health['alpha']!.upstreams[0]!.status_code, 200);
    const probes = up.requests.filter((q) => q.url === '/v1/models' && q.headers['accept'] === 'application/json');
    assert.ok(probes.some((q) => q.headers['authorization'] === 'Bearer sk-very-secret-token-123456'));
    assert.ok(probes.some((q) => q.headers['x-api-key'] === 'sk-beta-secret-value-999'));
    const cancel = (await call(`${api}/healthcheck/cancel`, { method: 'POST', body: '{"config_names":["alpha","ghost"]}' })).json<{ missing: string[]; not_running: string[] }>();
    assert.deepEqual(cancel.missing, ['ghost']);
    assert.deepEqual(cancel.not_running, ['alpha']);
  });
});

/** A proxy (CONFIG) in front of an upstream answering a small Responses object, started for one describe block. */
function proxyForBlock(): { readonly up: FakeUpstream; readonly proxy: TestProxy; readonly api: string } {
  const s = {} as { up: FakeUpstream; proxy: TestProxy; api: string };
  before(async () => {
    s.up = await startUpstream((_q, res) => json(res, 200, { id: 'r', object: 'response', output: [] }));
    s.proxy = await startProxy(CONFIG(s.up.url), { env: { BETA_KEY: 'k' } });
    s.api = `${s.proxy.url()}/__codex_helper/api/v1`;
  });
  after(async () => {
    await s.proxy.close();
    await s.up.close();
  });
  return s;
}

describe('admin API: requests in flight', () => {
  const s = proxyForBlock();

  it('lists a request as active the moment its upstream has it (its record waits for the burst, the admin API does not)', async () => {
    let release!: () => void;
    const seen = new Promise<unknown[]>((resolveSeen) => {
      s.up.handler = (_q, res) => {
        // Asked from the upstream's own handler: well within the wait the proxy gives a record's beginning.
        void call(`${s.api}/status/active`).then((r) => {
          resolveSeen(r.json<unknown[]>());
          release = () => json(res, 200, { id: 'r', object: 'response', output: [] });
        });
      };
    });
    const answer = call(`${s.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }) });
    const active = (await seen) as Array<{ path: string; model?: string }>;
    assert.equal(active.length, 1);
    assert.equal(active[0]!.path, '/v1/responses');
    assert.equal(active[0]!.model, 'gpt-5');
    release();
    assert.equal((await answer).status, 200);
  });

  it('a graceful stop waits for a request that arrived just before it (its record had not begun yet)', async () => {
    let arrived!: () => void;
    const atUpstream = new Promise<void>((r) => (arrived = r));
    s.up.handler = (_q, res) => {
      arrived();
      setTimeout(() => json(res, 200, { id: 'r', object: 'response', output: [] }), 150);
    };
    const answer = call(`${s.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }) });
    await atUpstream;
    await s.proxy.host.stop('codex', 3000);
    assert.equal((await answer).status, 200);
  });
});

describe('admin API: the records of clean answers', () => {
  const s = proxyForBlock();

  it('are seen the moment the answers ended, in the order they ended, though they are written with the burst', async () => {
    s.up.handler = (_q, res, raw) => {
      const body = JSON.parse(raw.toString()) as { model: string; bad?: boolean };
      if (body.bad) return json(res, 400, { error: { message: 'bad request' } });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const usage = { input_tokens: 3, output_tokens: 4, total_tokens: 7 };
      res.end(`event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi"}\n\nevent: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: { id: 'r', usage } })}\n\n`);
    };
    const state = s.proxy.host.services.codex.state;
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const ok = await call(`${s.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: `ok-${i}`, stream: true, input: 'hi' }) });
      const seenAt = Date.now();
      assert.equal(ok.status, 200);
      // Read straight away, in the client's own turn: the state settles what waits before it answers.
      const rec = state.listRecent(1)[0]!;
      assert.equal(rec.model, `ok-${i}`);
      assert.equal(rec.usage?.total_tokens, 7);
      assert.ok(rec.ended_at_ms <= seenAt, 'the record keeps the time the answer ended, not the time it was written');
      const bad = await call(`${s.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: `bad-${i}`, bad: true }) });
      assert.equal(bad.status, 400);
      sent.push(`ok-${i}`, `bad-${i}`);
    }
    // A clean answer that ends right before a failed one (the upstream ends it as the other request comes in): the
    // failed one's record is made at once, while the clean one's still waits.
    let endOk!: () => void;
    const held = s.up.handler;
    s.up.handler = (q, res, raw) => {
      const body = JSON.parse(raw.toString()) as { bad?: boolean };
      if (!body.bad) {
        endOk = () => held(q, res, raw, 0);
        return;
      }
      endOk();
      setImmediate(() => void held(q, res, raw, 0));
    };
    const last = call(`${s.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'ok-last', stream: true, input: 'hi' }) });
    while (endOk === undefined) await new Promise((r) => setTimeout(r, 5));
    const bad = await call(`${s.proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'bad-last', bad: true }) });
    assert.equal(bad.status, 400);
    assert.equal((await last).status, 200);
    sent.push('ok-last', 'bad-last');
    const recent = (await call(`${s.api}/status/recent?limit=${sent.length}`)).json<Array<{ model: string }>>();
    assert.deepEqual(recent.map((r) => r.model), [...sent].reverse());
    await s.proxy.host.requestLog!.flush();
    const logged = readFileSync(`${s.proxy.home}/logs/requests.jsonl`, 'utf8').trim().split('\n')
      .map((l) => (JSON.parse(l) as { model?: string }).model).filter((m) => m !== undefined);
    assert.deepEqual(logged.slice(-sent.length), sent);
  });
});

describe('graceful stop', () => {
  const s = proxyForBlock();

  it('waits for a request whose body is still arriving (no record, no upstream call yet)', async () => {
    const body = JSON.stringify({ model: 'gpt-5', input: 'x'.repeat(4096) });
    // The proxy's server has parsed the request's head: the only request in flight in this process.
    const headIn = new Promise<void>((resolve) => {
      const on = () => {
        diagnostics.unsubscribe('http.server.request.start', on);
        resolve();
      };
      diagnostics.subscribe('http.server.request.start', on);
    });
    let stopped: Promise<void> | undefined;
    const answer = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${s.proxy.url()}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.slice(0, 100));
      void headIn.then(async () => {
        stopped = s.proxy.host.stop('codex', 3000);
        await new Promise((r) => setTimeout(r, 100));
        req.end(body.slice(100));
      });
    });
    assert.equal(await answer, 200);
    await stopped;
  });
});

describe('graceful stop with an idle client', () => {
  const s = proxyForBlock();

  it('is not held by a connection with no request on it', async () => {
    const u = new URL(s.proxy.url());
    const idle = connect(Number(u.port), u.hostname);
    idle.on('error', () => undefined);
    await new Promise((r) => idle.once('connect', r));
    try {
      const t0 = Date.now();
      await s.proxy.host.stop('codex', 5000);
      assert.ok(Date.now() - t0 < 2500, `stopped after ${Date.now() - t0} ms; the grace is 5000`);
    } finally {
      idle.destroy();
    }
  });
});

describe('admin API: reset cooldown', () => {
  const s = proxyForBlock();

  const cool = (name: string) => {
    const svc = s.proxy.host.services.codex;
    new LoadBalancer(svc.manager.configs[name]!, svc.lbStore).penalize(0, 600, 'upstream_transport_error', { factor: 2, max_secs: 600 }, 502);
  };
  const post = (body: string) => call(`${s.api}/lb/reset`, { method: 'POST', body });

  it('is listed in capabilities and only answers POST', async () => {
    const caps = (await call(`${s.api}/capabilities`)).json<{ endpoints: string[] }>();
    assert.ok(caps.endpoints.includes('/__codex_helper/api/v1/lb/reset'));
    assert.equal((await call(`${s.api}/lb/reset`)).status, 405);
  });

  it('clears one upstream (or a whole config) so requests flow to it again at once', async () => {
    cool('alpha');
    cool('beta');
    const lb = () => call(`${s.api}/status/lb`).then((r) => r.json<Record<string, { upstreams: Array<{ failure_count: number; cooldown_remaining_secs?: number }> }>>());
    assert.ok((await lb())['alpha']!.upstreams[0]!.cooldown_remaining_secs! > 0);
    const one = await post('{"config_name":"alpha","upstream_index":0}');
    assert.equal(one.status, 200);
    assert.deepEqual(one.json(), { config_name: 'alpha', upstream_index: 0, cleared: 1 });
    const all = await post('{"config_name":"beta"}');
    assert.deepEqual(all.json(), { config_name: 'beta', upstream_index: null, cleared: 1 });
    const after = await lb();
    for (const n of ['alpha', 'beta']) {
      const u = after[n]!.upstreams[0] as Record<string, unknown>;
      assert.deepEqual([u['failure_count'], u['cooldown_remaining_secs'], u['penalty_streak'], u['last_error'], u['last_status']], [0, undefined, 0, undefined, 502]);
    }
    const r = await call(`${s.proxy.url()}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-5","input":"hi"}' });
    assert.equal(r.status, 200);
    assert.equal((await post('{"config_name":"beta"}')).json<{ cleared: number }>().cleared, 0, 'nothing left to clear');
  });

  it('answers 4xx with a reason and changes nothing for bad input', async () => {
    cool('alpha');
    const cases: Array<[string, number, RegExp]> = [
      ['{}', 400, /config_name is required/],
      ['{"config_name":"ghost"}', 400, /unknown config 'ghost' \(known: alpha, beta\)/],
      ['{"config_name":"alpha","upstream_index":3}', 400, /upstream_index 3 is out of range \(config 'alpha' has 1 upstream\)/],
      ['{"config_name":"alpha","upstream_index":"0"}', 400, /upstream_index must be an integer/],
      ['{"config_name":"alpha","upstream_index":0.5}', 400, /upstream_index must be an integer/],
      ['[1]', 400, /expected a JSON object/],
      ['{bad', 400, /malformed JSON/],
    ];
    for (const [body, status, reason] of cases) {
      const r = await post(body);
      assert.equal(r.status, status, body);
      assert.match(r.text, reason, body);
    }
    const v = (await call(`${s.api}/status/lb`)).json<Record<string, { upstreams: Array<{ cooldown_remaining_secs?: number }> }>>();
    assert.ok(v['alpha']!.upstreams[0]!.cooldown_remaining_secs! > 0, 'still cooling');
  });
});

describe('admin API: credential sources of the embedded default', () => {
  it('says the client\'s own key is used, not that a key is missing, when OPENAI_API_KEY is unset', async () => {
    const proxy = await startProxy(undefined, { services: ['codex'] });
    try {
      const d = (await call(`${proxy.url()}/__codex_helper/api/v1/configs/detail`)).json<{ configs: Array<{ upstreams: Array<{ auth_source: string }> }> }>();
      const src = d.configs[0]!.upstreams[0]!.auth_source;
      assert.equal(src, 'client_passthrough');
      assert.doesNotMatch(src, /missing_/);
    } finally {
      await proxy.close();
    }
  });
});

describe('proxy host lifecycle', () => {
  it('a listener that finishes binding after dispose is closed, never left running', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { ProxyHost, ListenError } = await import('../../src/proxy/proxyHost');
    const { silentLogger } = await import('../../src/proxy/logger');
    const root = mkdtempSync(join(tmpdir(), 'chp-life-'));
    const host = new ProxyHost({ home: root, codexHome: root, claudeHome: root, env: {}, log: silentLogger, requestLog: false });
    try {
      const pending = host.listen('codex', { port: 0 });
      await host.dispose(0);
      await assert.rejects(pending, (e: unknown) => e instanceof ListenError && e.code === 'DISPOSED');
      assert.deepEqual(host.listeners, []);
      await assert.rejects(host.listen('claude', { port: 0 }), (e: unknown) => e instanceof ListenError && e.code === 'DISPOSED');
      const other = new ProxyHost({ home: root, codexHome: root, claudeHome: root, env: {}, log: silentLogger, requestLog: false });
      const both = await Promise.allSettled([other.listen('codex', { port: 0 }), other.listen('codex', { port: 0 })]);
      assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal(other.listeners.length, 1, 'two concurrent starts leave exactly one listener');
      await other.dispose(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
