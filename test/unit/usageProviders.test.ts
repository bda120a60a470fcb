import assert from 'node:assert/strict';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadBalancer } from '../../src/core/lb';
import type { ServiceConfig, UpstreamConfig } from '../../src/core/types';
import type { Logger } from '../../src/proxy/logger';
import type { ProxyService } from '../../src/proxy/proxyService';
import {
  DEFAULT_USAGE_PROVIDERS,
  USAGE_PROVIDERS_FILE,
  UsageProviderPoller,
  hostMatchesDomain,
  interpretUsageResponse,
} from '../../src/proxy/usageProviders';
import { call, json, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

interface Lines extends Logger {
  lines: string[];
}
function captureLog(): Lines {
  const lines: string[] = [];
  const at = (l: string) => (m: string) => void lines.push(`${l} ${m}`);
  return { lines, debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

describe('usageProviders', () => {
  let proxy: TestProxy;
  let provider: FakeUpstream;
  let llm: FakeUpstream;
  let svc: ProxyService;
  let claudeSvc: ProxyService;
  let cfg: ServiceConfig;
  let noAuthCfg: ServiceConfig;
  let claudeCfg: ServiceConfig;
  let t = 1_000_000;
  const now = () => t;
  const pollers: UsageProviderPoller[] = [];
  const file = () => join(proxy.home, USAGE_PROVIDERS_FILE);

  const writeProviders = (providers: unknown[]) => {
    writeFileSync(file(), JSON.stringify({ providers }));
  };
  const budgetProvider = (extra: Record<string, unknown> = {}) => ({
    id: 'packy',
    kind: 'budget_http_json',
    domains: ['127.0.0.1'],
    endpoint: `${provider.url}/api/users/info`,
    ...extra,
  });
  const newPoller = (log: Logger = captureLog(), fetchTimeoutMs?: number) => {
    const p = new UsageProviderPoller({ home: proxy.home, log, now, fetchTimeoutMs });
    pollers.push(p);
    return p;
  };
  const up0 = (): UpstreamConfig => cfg.upstreams[0]!;
  const exhausted = (c: ServiceConfig, i: number, s: ProxyService = svc) =>
    s.lbStore.state(c.name, c.upstreams.length).usage_exhausted[i];

  before(async () => {
    provider = await startUpstream((_req, res) => json(res, 200, { monthly_budget_usd: 10, monthly_spent_usd: 1 }));
    llm = await startUpstream((_req, res) => json(res, 200, { id: 'resp_1', output: [] }));
    const toml = [
      'version = 1',
      '[codex]',
      'active = "main"',
      '[codex.configs.main]',
      '[[codex.configs.main.upstreams]]',
      `base_url = "${llm.url}/v1"`,
      'auth = { auth_token = "tok-inline-a" }',
      '[[codex.configs.main.upstreams]]',
      'base_url = "http://localhost:9/v1"',
      'auth = { auth_token = "tok-b" }',
      '[codex.configs.noauth]',
      '[[codex.configs.noauth.upstreams]]',
      'base_url = "http://127.0.0.1:9/v1"',
      '[claude]',
      'active = "cl"',
      '[claude.configs.cl]',
      '[[claude.configs.cl.upstreams]]',
      'base_url = "http://127.0.0.1:9"',
      'auth = { api_key = "claude-key" }',
      '',
    ].join('\n');
    proxy = await startProxy(toml, { services: ['codex'], requestLog: false });
    svc = proxy.host.services.codex;
    claudeSvc = proxy.host.services.claude;
    cfg = svc.manager.configs['main']!;
    noAuthCfg = svc.manager.configs['noauth']!;
    claudeCfg = claudeSvc.manager.configs['cl']!;
    assert.equal(cfg.upstreams.length, 2);
  });

  after(async () => {
    for (const p of pollers) p.dispose();
    await proxy.close();
    await provider.close();
    await llm.close();
  });

  beforeEach(() => {
    t += 3_600_000;
    provider.requests.length = 0;
    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 10, monthly_spent_usd: 1 });
    for (const s of [svc, claudeSvc]) {
      for (const c of Object.values(s.manager.configs)) {
        const lb = new LoadBalancer(c, s.lbStore);
        c.upstreams.forEach((_u, i) => lb.setUsageExhausted(i, false));
      }
    }
    delete svc.deps.env['PACKY_TOKEN'];
  });

  it('matches hosts by exact domain or subdomain only', () => {
    assert.ok(hostMatchesDomain('api.packycode.com', 'packycode.com'));
    assert.ok(hostMatchesDomain('packycode.com', 'PackyCode.com'));
    assert.ok(!hostMatchesDomain('evilpackycode.com', 'packycode.com'));
    assert.ok(!hostMatchesDomain('packycode.com.evil', 'packycode.com'));
  });

  it('interprets both provider kinds and rejects an unusable yescode shape', () => {
    assert.equal(interpretUsageResponse('budget_http_json', { monthly_budget_usd: 10, monthly_spent_usd: 10 }).exhausted, true);
    assert.equal(interpretUsageResponse('budget_http_json', { monthly_budget_usd: '10.5', monthly_spent_usd: '3' }).exhausted, false);
    assert.equal(interpretUsageResponse('budget_http_json', { monthly_budget_usd: 0, monthly_spent_usd: 99 }).exhausted, false);
    assert.equal(interpretUsageResponse('yescode_profile', { subscription_balance: 0, pay_as_you_go_balance: 0 }).exhausted, true);
    assert.equal(interpretUsageResponse('yescode_profile', { subscription_balance: -1, pay_as_you_go_balance: 2 }).exhausted, false);
    assert.throws(() => interpretUsageResponse('yescode_profile', { data: {} }), { code: 'BAD_RESPONSE' });
  });

  it('marks an exhausted upstream so the LB prefers the other one, and recovers on the next poll', async () => {
    writeProviders([budgetProvider()]);
    const log = captureLog();
    const poller = newPoller(log);
    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 10, monthly_spent_usd: 12.5 });
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => exhausted(cfg, 0) === true, 3000, 'exhausted flag');
    assert.equal(new LoadBalancer(cfg, svc.lbStore).select(new Set(), false), 1);
    const req = provider.requests[0]!;
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/api/users/info');
    assert.equal(req.headers['authorization'], 'Bearer tok-inline-a');
    const info = log.lines.find((l) => l.startsWith('INFO') && l.includes("'packy'"));
    assert.ok(info && info.includes('exhausted = true') && info.includes('12.50/10.00'), String(info));
    assert.ok(!log.lines.some((l) => l.includes('tok-inline-a')), 'token must never be logged');

    t += 61_000;
    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 10, monthly_spent_usd: 3 });
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => exhausted(cfg, 0) === false, 3000, 'recovery');
    assert.equal(new LoadBalancer(cfg, svc.lbStore).select(new Set(), false), 0);
    assert.equal(provider.requests.length, 2);
  });

  it('throttles each provider to one poll per max(poll_interval_secs, 20) s', async () => {
    writeProviders([budgetProvider({ poll_interval_secs: 5 })]);
    const poller = newPoller();
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => provider.requests.length === 1, 3000, 'first poll');
    await new Promise((r) => setTimeout(r, 50)); // let the first poll finish so only the throttle can stop the next
    t += 10_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    t += 9_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(provider.requests.length, 1, 'calls inside the 20 s floor must not poll');
    t += 1_500;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => provider.requests.length === 2, 3000, 'poll after the interval');
  });

  it('takes the token from token_env when set, else from the upstream credentials; yescode uses X-API-Key', async () => {
    writeProviders([budgetProvider({ token_env: 'PACKY_TOKEN' })]);
    svc.deps.env['PACKY_TOKEN'] = 'env-token';
    newPoller().onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => provider.requests.length === 1);
    assert.equal(provider.requests[0]!.headers['authorization'], 'Bearer env-token');

    delete svc.deps.env['PACKY_TOKEN'];
    newPoller().onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => provider.requests.length === 2);
    assert.equal(provider.requests[1]!.headers['authorization'], 'Bearer tok-inline-a');

    writeProviders([{ id: 'yes', kind: 'yescode_profile', domains: ['127.0.0.1'], endpoint: `${provider.url}/profile` }]);
    provider.handler = (_req, res) => json(res, 200, { subscription_balance: 0, pay_as_you_go_balance: 0 });
    newPoller().onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => exhausted(cfg, 0) === true);
    const yes = provider.requests[2]!;
    assert.equal(yes.headers['x-api-key'], 'tok-inline-a');
    assert.equal(yes.headers['authorization'], undefined);
  });

  it('skips with one debug line when no token resolves', async () => {
    writeProviders([budgetProvider()]);
    const log = captureLog();
    const poller = newPoller(log);
    poller.onUpstreamSuccess(svc, noAuthCfg, 0, noAuthCfg.upstreams[0]!, '/v1/responses');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(provider.requests.length, 0);
    assert.equal(log.lines.filter((l) => l.startsWith('DEBUG') && l.includes('no token')).length, 1);
  });

  it('leaves the flag unchanged on a non-2xx answer and warns once per distinct error', async () => {
    writeProviders([budgetProvider()]);
    const log = captureLog();
    const poller = newPoller(log);
    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 10, monthly_spent_usd: 10 });
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => exhausted(cfg, 0) === true);

    provider.handler = (_req, res) => json(res, 500, { error: 'boom' });
    for (let i = 0; i < 2; i++) {
      t += 61_000;
      poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
      await until(() => provider.requests.length === 2 + i);
      await until(() => log.lines.some((l) => l.startsWith('WARN')));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(exhausted(cfg, 0), true);
    const warns = log.lines.filter((l) => l.startsWith('WARN'));
    assert.equal(warns.length, 1, warns.join('\n'));
    assert.match(warns[0]!, /HTTP_STATUS: HTTP 500/);

    provider.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('not json');
    };
    t += 61_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => log.lines.filter((l) => l.startsWith('WARN')).length === 2);
    assert.equal(exhausted(cfg, 0), true);
  });

  it('does not overwrite an invalid providers file and picks it up once fixed', async () => {
    writeFileSync(file(), '{ "providers": [ oops');
    const log = captureLog();
    const poller = newPoller(log);
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    t += 61_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(readFileSync(file(), 'utf8'), '{ "providers": [ oops');
    assert.equal(provider.requests.length, 0);
    assert.equal(log.lines.filter((l) => l.startsWith('WARN') && l.includes('not valid JSON')).length, 1);

    writeProviders([budgetProvider()]);
    const future = new Date(Date.now() + 10_000);
    utimesSync(file(), future, future);
    t += 5_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => provider.requests.length === 1, 3000, 'poll after the file was fixed');
  });

  it('writes the default providers when the file is missing', () => {
    rmSync(file(), { force: true });
    const poller = newPoller();
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    const written = JSON.parse(readFileSync(file(), 'utf8')) as { providers: Array<{ id: string; domains: string[] }> };
    assert.deepEqual(written.providers.map((p) => p.id), ['packycode', 'yescode']);
    assert.deepEqual(written, { providers: DEFAULT_USAGE_PROVIDERS });
    assert.equal(provider.requests.length, 0);
  });

  it('polls only for user turns: codex POST …/responses, claude …/messages', async () => {
    writeProviders([budgetProvider()]);
    const poller = newPoller();
    for (const path of ['/v1/models', '/v1/responses/compact', '/v1/messages', '/v1/chat/completions']) {
      poller.onUpstreamSuccess(svc, cfg, 0, up0(), path);
    }
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses', 'GET');
    poller.onUpstreamSuccess(claudeSvc, claudeCfg, 0, claudeCfg.upstreams[0]!, '/v1/messages/count_tokens');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(provider.requests.length, 0);

    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 5, monthly_spent_usd: 5 });
    poller.onUpstreamSuccess(claudeSvc, claudeCfg, 0, claudeCfg.upstreams[0]!, '/v1/messages', 'POST');
    await until(() => exhausted(claudeCfg, 0, claudeSvc) === true, 3000, 'claude flag');
    assert.equal(provider.requests[0]!.headers['authorization'], 'Bearer claude-key');
  });

  it('times out a hanging endpoint without blocking the caller', async () => {
    writeProviders([budgetProvider()]);
    const log = captureLog();
    const poller = newPoller(log, 200);
    provider.handler = () => undefined; // never answers
    const ret = poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    assert.equal(ret, undefined);
    await until(() => provider.requests.length === 1, 3000, 'the hanging poll to be in flight after the hook returned');
    await until(() => log.lines.some((l) => l.startsWith('WARN') && l.includes('TIMEOUT')), 3000, 'timeout warning');
    assert.equal(exhausted(cfg, 0), false);

    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 1, monthly_spent_usd: 1 });
    t += 61_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => exhausted(cfg, 0) === true, 3000, 'poll after the timed-out one');
  });

  it('dispose aborts a poll in flight quietly and ignores later successes', async () => {
    writeProviders([budgetProvider()]);
    const log = captureLog();
    const poller = newPoller(log, 60_000);
    provider.handler = () => undefined;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await until(() => provider.requests.length === 1, 3000, 'poll in flight');
    poller.dispose();
    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 1, monthly_spent_usd: 1 });
    t += 61_000;
    poller.onUpstreamSuccess(svc, cfg, 0, up0(), '/v1/responses');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(provider.requests.length, 1);
    assert.equal(exhausted(cfg, 0), false);
    assert.ok(!log.lines.some((l) => l.startsWith('WARN')), log.lines.join('\n'));
  });

  it('polls from real proxy traffic when wired into the pipeline hook', async () => {
    writeProviders([budgetProvider()]);
    const poller = newPoller();
    provider.handler = (_req, res) => json(res, 200, { monthly_budget_usd: 1, monthly_spent_usd: 2 });
    svc.deps.onUpstreamSuccess = (c, i, u, p) => poller.onUpstreamSuccess(svc, c, i, u, p);
    try {
      const r = await call(`${proxy.url('codex')}/v1/responses`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5', input: 'hi' }),
      });
      assert.equal(r.status, 200);
      await until(() => exhausted(cfg, 0) === true, 3000, 'flag from real traffic');
    } finally {
      svc.deps.onUpstreamSuccess = undefined;
    }
  });
});
