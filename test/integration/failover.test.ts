// Failover under real failure patterns, on real loopback servers: several configs, one down, one rate-limited,
// one that hangs, one that goes silent mid-stream.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { call, json, serversPerTest, sse, startProxy, until } from '../helpers/servers';
import { ATTEMPTS_HEADER, ROUTE_HEADER } from '../../src/proxy/pipeline';
import { LoadBalancer } from '../../src/core/lb';
import type { RouteEvent } from '../../src/core/routes';
import type { HealthChecker } from '../../src/proxy/healthcheck';

/** Fast retries; `retryLines` go into [retry] itself. */
const fast = (retryLines = '') => `
[retry]
profile = "balanced"
${retryLines}
[retry.upstream]
backoff_ms = 1
backoff_max_ms = 5
jitter_ms = 0
`;
const FAST = fast();

type Cfg = { level?: number; upstreams: string[] };

function codexConfig(configs: Record<string, Cfg>, extra = FAST): string {
  let out = 'version = 1\n[codex]\n';
  for (const [name, c] of Object.entries(configs)) {
    out += `[codex.configs.${name}]\nlevel = ${c.level ?? 1}\n`;
    for (const u of c.upstreams) out += `[[codex.configs.${name}.upstreams]]\n${u}\n`;
  }
  return out + extra;
}

const OK = { id: 'resp_1', output: [], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } };
const req = (model = 'gpt-5', stream = false) => JSON.stringify({ model, input: 'hi', stream });
const H = { 'content-type': 'application/json' };

/** A port nothing listens on (connections are refused at once). */
async function deadPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/v1`;
}

describe('failover that never strands the user (real loopback upstreams)', () => {
  const servers = serversPerTest();
  const upstream = servers.upstream;
  const codex = () => servers.proxy!.host.services.codex;
  const lbView = (config: string) => codex().lbStore.view()[config]!;

  it('two configs, the first down and a 429 from the second: no request gets an instant "no upstreams" 502', async () => {
    const dead = await deadPort();
    let n429 = 2;
    const healthy = await upstream((_q, res) => (n429-- > 0 ? json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' }) : json(res, 200, OK)));
    servers.proxy = await startProxy(codexConfig({
      relay: { level: 1, upstreams: [`base_url = "${dead}"`] },
      direct: { level: 2, upstreams: [`base_url = "${healthy.url}/v1"`] },
    }));
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
      statuses.push(r.status);
      assert.notEqual(r.json<{ error?: { type?: string } }>().error?.type, 'no_upstream_available');
    }
    // The first request gets the upstream's own 429 (both layers spent); every later one is served.
    assert.deepEqual(statuses, [429, ...new Array(10).fill(200)]);
    assert.ok(!statuses.includes(502));
    // The rate limit cooled the model on the healthy upstream, never the whole upstream.
    assert.equal(lbView('direct').upstreams[0]!.cooldown_remaining_secs, undefined);
    // The dead relay stays cooled (a failed trial re-opens it with backoff).
    assert.ok((lbView('relay').upstreams[0]!.cooldown_remaining_secs ?? 0) > 0);
  });

  it('an upstream that accepts and then says nothing is failed over within first_byte_ms', async () => {
    const hang = await upstream(() => undefined);
    const ok = await upstream((_q, res) => json(res, 200, OK));
    servers.proxy = await startProxy(codexConfig({
      a: { level: 1, upstreams: [`base_url = "${hang.url}/v1"`] },
      b: { level: 2, upstreams: [`base_url = "${ok.url}/v1"`] },
    }, FAST + '\n[timeouts]\nfirst_byte_ms = 400\nstream_first_byte_ms = 400\n'));
    const t0 = Date.now();
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    const took = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.ok(took >= 350 && took < 3000, `took ${took} ms`);
    assert.equal(hang.requests.length, 1, 'a hung upstream is not retried in place');
    assert.match(String(r.headers[ROUTE_HEADER]), /^config=b; upstream=0; host=127\.0\.0\.1%3A\d+$/);
    assert.equal(r.headers[ATTEMPTS_HEADER], '2');
    const rec = codex().state.listRecent(1)[0]!;
    assert.equal(rec.config_name, 'b');
    assert.match(rec.route_note ?? '', /failed over from a#0 \(upstream_timeout\)/);
    assert.ok((rec.retry?.attempt_details?.[0]?.duration_ms ?? 0) >= 350, 'the hung attempt took first_byte_ms');
    assert.match(lbView('a').upstreams[0]!.last_error ?? '', /upstream_timeout/);
  });

  it('a final timeout answers 504 (a refused upstream stays 502)', async () => {
    const hang = await upstream(() => undefined);
    servers.proxy = await startProxy(codexConfig({ only: { upstreams: [`base_url = "${hang.url}/v1"`] } }, FAST + '\n[timeouts]\nfirst_byte_ms = 300\n'));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    assert.equal(r.status, 504);
    assert.equal(r.json<{ error: { type: string } }>().error.type, 'upstream_timeout');
    assert.equal(codex().state.listRecent(1)[0]!.error_class, 'upstream_timeout');

    const dead = await deadPort();
    servers.proxy.writeConfig(codexConfig({ only2: { upstreams: [`base_url = "${dead}"`] } }));
    servers.proxy.host.runtime.forceReload();
    const r2 = await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    assert.equal(r2.status, 502);
    assert.equal(r2.json<{ error: { type: string } }>().error.type, 'upstream_transport_error');
  });

  it('a per-upstream timeout overrides [timeouts]', async () => {
    const hang = await upstream(() => undefined);
    servers.proxy = await startProxy(codexConfig({ only: { upstreams: [`base_url = "${hang.url}/v1"\ntimeouts = { first_byte_ms = 200 }`] } },
      FAST + '\n[timeouts]\nfirst_byte_ms = 60000\n'));
    const t0 = Date.now();
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    assert.equal(r.status, 504);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('a stream that goes silent ends within idle_ms with the terminal error event and cools the upstream', async () => {
    const up = await upstream((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: response.created\ndata: {"type":"response.created"}\n\n');
      res.write('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hel"}\n\n');
      // …and nothing more.
    });
    servers.proxy = await startProxy(codexConfig({ only: { upstreams: [`base_url = "${up.url}/v1"`] } }, FAST + '\n[timeouts]\nidle_ms = 300\n'));
    const t0 = Date.now();
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req('gpt-5', true), headers: H });
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(r.status, 200);
    assert.match(r.text, /"delta":"Hel"/);
    assert.match(r.text, /event: response\.failed\ndata: .*idle timeout/);
    const rec = codex().state.listRecent(1)[0]!;
    assert.equal(rec.error_class, 'upstream_timeout');
    assert.ok((lbView('only').upstreams[0]!.cooldown_remaining_secs ?? 0) > 0);
  });

  it('a trial after the cooldown closes the breaker; a failed trial re-opens it with backoff', async () => {
    let primaryDown = true;
    const primary = await upstream((_q, res) => (primaryDown ? json(res, 500, { error: { message: 'boom' } }) : json(res, 200, OK)));
    const backup = await upstream((_q, res) => json(res, 200, OK));
    servers.proxy = await startProxy(codexConfig({
      primary: { level: 1, upstreams: [`base_url = "${primary.url}/v1"`] },
      backup: { level: 2, upstreams: [`base_url = "${backup.url}/v1"`] },
    }, fast('transport_cooldown_secs = 1\ncooldown_backoff_factor = 2\ncooldown_backoff_max_secs = 60')));
    const events: RouteEvent[] = [];
    codex().routes.onDidRoute((e) => events.push(e));
    const send = () => call(`${servers.proxy!.url()}/v1/responses`, { body: req(), headers: H });
    assert.equal((await send()).status, 200);
    assert.equal(codex().routes.failover?.to.config, 'backup');
    assert.match(codex().routes.failover?.reason ?? '', /status_500/);
    assert.equal(lbView('primary').upstreams[0]!.cooldown_remaining_secs, 1);
    // Still cooling: straight to the backup, the primary is not asked.
    const before = primary.requests.length;
    assert.equal((await send()).status, 200);
    assert.equal(primary.requests.length, before);
    // Cooldown over, still broken: one failure re-opens the breaker, with a doubled cooldown.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await send()).status, 200);
    assert.equal(primary.requests.length, before + 1, 'the trial is a single request, not a retry burst');
    assert.equal(lbView('primary').upstreams[0]!.cooldown_remaining_secs, 2);
    // Cooldown over and fixed: the trial closes the breaker and traffic fails back.
    primaryDown = false;
    await new Promise((r) => setTimeout(r, 2100));
    const r = await send();
    assert.equal(r.status, 200);
    assert.match(String(r.headers[ROUTE_HEADER]), /^config=primary;/);
    const v = lbView('primary').upstreams[0]!;
    assert.deepEqual([v.failure_count, v.cooldown_remaining_secs, v.penalty_streak, v.half_open], [0, undefined, 0, undefined]);
    assert.equal(codex().routes.failover, undefined);
    assert.deepEqual(events.map((e) => e.kind), ['failover', 'recovered']);
  });

  it('a passing health probe closes the breaker at once; a failing one changes nothing', async () => {
    let models = 200;
    const up = await upstream((q, res) => (q.url?.endsWith('/models') ? json(res, models, { data: [] }) : json(res, 500, {})));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}/v1"`] } }));
    await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    assert.ok((lbView('main').upstreams[0]!.cooldown_remaining_secs ?? 0) > 0);
    const checker = servers.proxy.host.opts.healthChecks as HealthChecker;
    models = 503;
    checker.start(codex(), ['main']);
    await checker.waitFor(codex(), 'main', 10);
    assert.ok((lbView('main').upstreams[0]!.cooldown_remaining_secs ?? 0) > 0, 'a failing probe leaves the cooldown');
    models = 200;
    checker.start(codex(), ['main']);
    await checker.waitFor(codex(), 'main', 10);
    const v = lbView('main').upstreams[0]!;
    assert.deepEqual([v.failure_count, v.cooldown_remaining_secs], [0, undefined]);
  });

  it('a 429 for one model cools only that (upstream, model): other models keep flowing', async () => {
    const a = await upstream((_q, res, body) => {
      const model = (JSON.parse(body.toString()) as { model: string }).model;
      if (model === 'gpt-5') json(res, 429, { error: { message: 'rate limit for gpt-5' } });
      else json(res, 200, OK);
    });
    const b = await upstream((_q, res) => json(res, 200, OK));
    servers.proxy = await startProxy(codexConfig({
      a: { level: 1, upstreams: [`base_url = "${a.url}/v1"`] },
      b: { level: 2, upstreams: [`base_url = "${b.url}/v1"`] },
    }));
    const send = (m: string) => call(`${servers.proxy!.url()}/v1/responses`, { body: req(m), headers: H });
    const r1 = await send('gpt-5');
    assert.equal(r1.status, 200);
    assert.match(String(r1.headers[ROUTE_HEADER]), /^config=b;/);
    const v = lbView('a').upstreams[0]!;
    assert.equal(v.cooldown_remaining_secs, undefined, 'the upstream itself is not cooled');
    // Each attempt says what it took and what the upstream said; the one that cooled the model says for how long.
    const details = codex().state.listRecent(1)[0]!.retry?.attempt_details ?? [];
    assert.equal(details.length, 3);
    assert.deepEqual(details.map((d) => d.upstream_message), ['rate limit for gpt-5', 'rate limit for gpt-5', undefined]);
    assert.deepEqual(details.map((d) => d.cooldown_secs), [undefined, 30, undefined]);
    assert.ok(details.every((d) => typeof d.started_at_ms === 'number' && (d.duration_ms ?? -1) >= 0));
    assert.deepEqual(v.model_cooldowns?.map((c) => c.model), ['gpt-5']);
    const r2 = await send('gpt-4.1');
    assert.match(String(r2.headers[ROUTE_HEADER]), /^config=a;/, 'another model still goes to the preferred upstream');
    const aBefore = a.requests.length;
    const r3 = await send('gpt-5');
    assert.match(String(r3.headers[ROUTE_HEADER]), /^config=b;/);
    assert.equal(a.requests.length, aBefore, 'the cooled model is not sent to a again');
  });

  it('a stream that ends a moment after its first event is on record before its client can ask again', async () => {
    const primary = await upstream((_q, res) => json(res, 500, { error: { message: 'boom' } }));
    // The answer's head and first event, then its end in a later turn: well within the wait the proxy gives its
    // bookkeeping, so only the end itself can have recorded where it was served.
    const backup = await upstream((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hel"}\n\n');
      setImmediate(() => res.end('event: response.completed\ndata: {"type":"response.completed","response":{"id":"r","usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5}}}\n\n'));
    });
    servers.proxy = await startProxy(codexConfig({
      primary: { level: 1, upstreams: [`base_url = "${primary.url}/v1"`] },
      backup: { level: 2, upstreams: [`base_url = "${backup.url}/v1"`] },
    }, fast('transport_cooldown_secs = 30')));
    let asked: number | undefined;
    for (const sid of ['s1', 's2', 's3']) {
      const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req('gpt-5', true), headers: { ...H, 'session-id': sid } });
      assert.equal(r.status, 200);
      assert.match(r.text, /response\.completed/);
      // Read in the client's own turn, before anything of the proxy's could run after the answer's end.
      assert.equal(codex().routes.failover?.to.config, 'backup');
      assert.equal(codex().routes.stickyFor(sid)?.config, 'backup');
      assert.equal(lbView('backup').upstreams[0]!.last_status, 200);
      asked ??= primary.requests.length;
    }
    assert.equal(primary.requests.length, asked, 'the cooled primary is not asked again');
    const recent = codex().state.listRecent(3);
    assert.deepEqual(recent.map((x) => x.status_code), [200, 200, 200]);
    assert.deepEqual(recent.map((x) => x.usage?.total_tokens), [5, 5, 5]);
  });

  it('a session that failed over stays where it was served while the preferred config is down, then fails back', async () => {
    let pDown = true;
    let bDown = false;
    const p = await upstream((_q, res) => (pDown ? json(res, 503, {}) : json(res, 200, OK)));
    const b = await upstream((_q, res) => (bDown ? json(res, 500, {}) : json(res, 200, OK)));
    const c = await upstream((_q, res) => json(res, 200, OK));
    servers.proxy = await startProxy(codexConfig({
      p: { level: 1, upstreams: [`base_url = "${p.url}/v1"`] },
      b: { level: 2, upstreams: [`base_url = "${b.url}/v1"`] },
      c: { level: 3, upstreams: [`base_url = "${c.url}/v1"`] },
    }, FAST + '[retry.provider]\nmax_attempts = 3\n'));
    const send = (sid: string) => call(`${servers.proxy!.url()}/v1/responses`, { body: req(), headers: { ...H, 'session-id': sid } });
    const routeOf = async (sid: string) => String((await send(sid)).headers[ROUTE_HEADER]).split(';')[0];
    bDown = true;
    assert.equal(await routeOf('s1'), 'config=c');
    // b is back (reset by hand), p is still cooling: a new session goes to b, s1 stays on c (its prompt cache).
    bDown = false;
    codex().lbStore.reset('b');
    assert.equal(await routeOf('s2'), 'config=b');
    assert.equal(await routeOf('s1'), 'config=c');
    assert.match(codex().state.listRecent(1)[0]!.route_note ?? '', /kept on c/);
    // p recovers: new sessions and the sticky one go back to it at once.
    pDown = false;
    codex().lbStore.reset('p');
    assert.equal(await routeOf('s3'), 'config=p');
    assert.equal(await routeOf('s1'), 'config=p');
    assert.equal(await routeOf('s1'), 'config=p');
  });

  it('when nothing can serve: 503 with Retry-After and every upstream named with its state', async () => {
    const a = await upstream((_q, res) => json(res, 200, OK));
    const b = await upstream((_q, res) => json(res, 200, OK));
    servers.proxy = await startProxy(codexConfig({
      a: { level: 1, upstreams: [`base_url = "${a.url}/v1"`] },
      b: { level: 2, upstreams: [`base_url = "${b.url}/v1"`] },
    }));
    const cfgs = servers.proxy.host.runtime.loaded.config.codex.configs;
    const lbA = new LoadBalancer(cfgs['a']!, codex().lbStore);
    const lbB = new LoadBalancer(cfgs['b']!, codex().lbStore);
    lbA.setUsageExhausted(0, true);
    lbB.setUsageExhausted(0, true);
    lbB.penalize(0, 20, 'status_500', { factor: 1, max_secs: 0 }, 500);
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '20');
    const body = r.json<{ error: { type: string; message: string; upstreams: Array<{ config: string; state: string; retry_in_secs?: number }> } }>();
    assert.equal(body.error.type, 'no_upstream_available');
    assert.deepEqual(body.error.upstreams.map((u) => [u.config, u.state, u.retry_in_secs]), [['a', 'usage_exhausted', undefined], ['b', 'usage_exhausted', 20]]);
    assert.match(body.error.message, /retry in 20 s/);
    assert.equal(a.requests.length + b.requests.length, 0);
  });

  it('a request sent upstream is listed as active, with its route and effort, before its answer comes', async () => {
    // The record of a sent request is begun at the end of the turn that sent it: it must still be begun then.
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    const a = await upstream(async (_q, res) => {
      await answered;
      json(res, 200, OK);
    });
    servers.proxy = await startProxy(codexConfig({ a: { upstreams: [`base_url = "${a.url}/v1"`] } }));
    const pending = call(`${servers.proxy.url()}/v1/responses`, {
      body: JSON.stringify({ model: 'gpt-5', input: 'hi', reasoning: { effort: 'low' } }), headers: H,
    });
    await until(() => a.requests.length === 1 && codex().state.listActive().length === 1, 2000, 'the sent request among the active ones');
    const active = codex().state.listActive()[0]!;
    assert.equal(active.config_name, 'a');
    assert.equal(active.reasoning_effort, 'low');
    assert.equal(active.upstream_base_url, `${a.url}/v1`);
    release();
    assert.equal((await pending).status, 200);
    await until(() => codex().state.listActive().length === 0);
  });

  it('waits for a cooldown that ends within max_wait_ms instead of failing', async () => {
    const a = await upstream((_q, res) => json(res, 200, OK));
    servers.proxy = await startProxy(codexConfig({ a: { upstreams: [`base_url = "${a.url}/v1"`] }, b: { level: 2, upstreams: [`base_url = "${a.url}/v2"`] } }, fast('max_wait_ms = 3000')));
    const cfgs = servers.proxy.host.runtime.loaded.config.codex.configs;
    new LoadBalancer(cfgs['a']!, codex().lbStore).penalize(0, 1, 'test', { factor: 1, max_secs: 0 });
    new LoadBalancer(cfgs['b']!, codex().lbStore).penalize(0, 2, 'test', { factor: 1, max_secs: 0 });
    const t0 = Date.now();
    const pending = call(`${servers.proxy.url()}/v1/responses`, { body: req(), headers: H });
    // While it waits, the request is in flight: it shows among the active ones.
    await until(() => codex().state.listActive().length === 1, 500, 'the waiting request among the active ones');
    assert.equal(codex().state.listActive()[0]!.model, 'gpt-5');
    const r = await pending;
    const took = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.match(String(r.headers[ROUTE_HEADER]), /^config=a;/, 'the soonest cooldown end wins');
    assert.ok(took >= 900, `waited ${took} ms`);
    await until(() => codex().state.listRecent(1).length === 1);
    assert.match(codex().state.listRecent(1)[0]!.route_note ?? '', /waited \d+ ms for a#0's cooldown to end/);
  });

  it('answers carry x-codex-helper-route and x-codex-helper-attempts, streamed ones too', async () => {
    const up = await upstream((_q, res) => void sse(res, ['event: response.completed\ndata: {"type":"response.completed"}\n\n']));
    servers.proxy = await startProxy(codexConfig({ main: { upstreams: [`base_url = "${up.url}/v1"`] } }));
    const r = await call(`${servers.proxy.url()}/v1/responses`, { body: req('gpt-5', true), headers: H });
    assert.equal(r.status, 200);
    assert.match(String(r.headers[ROUTE_HEADER]), /^config=main; upstream=0; host=/);
    assert.equal(r.headers[ATTEMPTS_HEADER], '1');
  });
});
