import assert from 'node:assert/strict';
import { ActivityLog } from '../../src/host/activityLog';
import { channelLines, cooldownLines, failoverLine, requestLine } from '../../src/host/logFormat';
import type { FinishedRequest } from '../../src/core/types';
import type { Logger } from '../../src/proxy/logger';
import { warnLine } from '../../src/proxy/httpDebug';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyController } from '../../src/host/proxyController';
import { ServiceStore } from '../../src/host/serviceStore';
import { HealthChecker } from '../../src/proxy/healthcheck';
import { ProxyHost } from '../../src/proxy/proxyHost';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';

const fin = (o: Partial<FinishedRequest>): FinishedRequest => ({
  id: 1, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 1234, ended_at_ms: 0, ...o,
});

describe('log formatter', () => {
  it('keeps only the first line of a message at its level; the details go to debug', () => {
    assert.deepEqual(channelLines('warn', 'codex POST /v1/responses → 502 from a.example\n  details: {"x":1}'), [
      { level: 'warn', text: 'codex POST /v1/responses → 502 from a.example' },
      { level: 'debug', text: 'details: {"x":1}' },
    ]);
    assert.deepEqual(channelLines('info', 'one line'), [{ level: 'info', text: 'one line' }]);
  });

  it('turns a failed exchange into one readable warning line plus JSON details', () => {
    const w = warnLine('codex', 'POST', 429, {
      client_uri: '/v1/responses', target_url: 'https://relay.example.com/v1/responses', upstream_error_class: 'rate_limited',
      upstream_response_body: { encoding: 'utf8', data: '{"error":{"message":"Rate limit reached for gpt-5"}}' },
    });
    const [first, second] = w.split('\n');
    assert.equal(first, 'codex POST /v1/responses → 429 from relay.example.com (rate_limited); upstream said: Rate limit reached for gpt-5');
    assert.match(second!, /^ {2}details: \{"client_uri"/);
  });

  it('describes a finished request with its route, timing and attempts on one line', () => {
    assert.equal(requestLine(fin({ config_name: 'main', upstream_base_url: 'https://api.openai.com/v1', ttfb_ms: 210, model: 'gpt-5',
      retry: { attempts: 2, upstream_chain: [] }, session_id: 's-1' })),
    'codex POST /v1/responses → 200 via main/api.openai.com in 1.23 s (first byte 210 ms), 2 attempts, gpt-5, session s-1');
    assert.equal(requestLine(fin({ status_code: 502, error_class: 'no_upstream_available', duration_ms: 3 })), 'codex POST /v1/responses → 502 (no_upstream_available) in 3 ms');
  });

  it('names a failover only when the request moved to another upstream', () => {
    const moved = fin({ retry: { attempts: 2, upstream_chain: ['main:https://a.example/v1 (idx=0) status=502 class=- model=m', 'backup:https://c.example/v1 (idx=0) status=200 class=- model=m'] } });
    assert.equal(failoverLine(moved), 'codex failover: main/a.example (HTTP 502) → backup/c.example (HTTP 200)');
    const same = fin({ retry: { attempts: 2, upstream_chain: ['main:https://a.example/v1 (idx=0) status=502 class=- model=m', 'main:https://a.example/v1 (idx=0) status=200 class=- model=m'] } });
    assert.equal(failoverLine(same), undefined);
  });

  it('reports cooldowns starting (with why and how long) and ending', () => {
    const cool = { upstreams: [{ failure_count: 3, usage_exhausted: false, penalty_streak: 1, cooldown_remaining_secs: 30, last_error: 'status_502', last_status: 502 }] };
    const calm = { upstreams: [{ failure_count: 0, usage_exhausted: false, penalty_streak: 1 }] };
    assert.deepEqual(cooldownLines('codex', 'main', calm, cool, ['a.example']), ['codex cooldown: main/a.example for 30 s after HTTP 502']);
    assert.deepEqual(cooldownLines('codex', 'main', cool, calm, ['a.example']), ['codex cooldown over: main/a.example gets requests again']);
    assert.deepEqual(cooldownLines('codex', 'main', cool, cool, ['a.example']), [], 'an unchanged cooldown is not repeated');
  });
});

describe('activity log on a real proxy', () => {
  let up: FakeUpstream;
  let root: string;
  let ctl: ProxyController<ProxyHost>;
  let store: ServiceStore;
  let activity: ActivityLog;
  let url: string;
  const lines: string[] = [];
  // One channel for both, as in VS Code: the proxy's own lines and the activity log's.
  const log: Logger = { debug: (m) => lines.push(`DEBUG ${m}`), info: (m) => lines.push(`INFO ${m}`), warn() {}, error() {} };
  before(async () => {
    up = await startUpstream((req, res) => (req.url?.startsWith('/bad') ? json(res, 502, { error: { message: 'down' } }) : json(res, 200, { id: 'r', output: [] })));
    root = mkdtempSync(join(tmpdir(), 'chp-activity-'));
    const home = join(root, 'helper');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'config.toml'), `version = 1
[codex.configs.main]
level = 1
[[codex.configs.main.upstreams]]
base_url = "${up.url}/bad/v1"
[codex.configs.backup]
level = 2
[[codex.configs.backup.upstreams]]
base_url = "${up.url}/good/v1"
[retry]
profile = "aggressive-failover"
[retry.upstream]
max_attempts = 1
backoff_ms = 0
jitter_ms = 0
`);
    ctl = new ProxyController<ProxyHost>({
      log,
      throttleMs: 20,
      createHost: () => new ProxyHost({ home, codexHome: join(root, 'codex'), claudeHome: join(root, 'claude'), env: {}, log,
        requestLog: false, healthChecks: new HealthChecker({}, log) }),
    });
    store = new ServiceStore(ctl);
    activity = new ActivityLog(store, log);
    const st = await ctl.start('codex', 0);
    assert.equal(st.kind, 'running');
    url = (st as { url: string }).url;
  });
  after(async () => {
    activity.dispose();
    store.dispose();
    await ctl.dispose();
    await up.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('logs the request at debug, the failover and the cooldown at info once each, and no JSON at info', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await call(`${url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-5","input":"x"}' });
      assert.equal(r.status, 200);
    }
    await until(() => lines.some((l) => /^DEBUG codex POST \/v1\/responses → 200 via backup\//.test(l)), 3000, 'a request line');
    assert.equal(lines.filter((l) => /^INFO codex failover: main#0 \(status 502\) → backup#0 \(127\.0\.0\.1:\d+\)$/.test(l)).length, 1, lines.join('\n'));
    assert.equal(lines.filter((l) => /^INFO codex cooldown: main#0 \(127\.0\.0\.1:\d+\) for \d+ s after status_502/.test(l)).length, 1, lines.join('\n'));
    assert.equal(lines.filter((l) => /failover/.test(l) && l.startsWith('INFO')).length, 1, 'one line per failover, not one from each side');
    assert.ok(lines.filter((l) => l.startsWith('INFO')).every((l) => !l.includes('{')), 'no JSON at info');
    await ctl.client('codex')!.resetCooldown('main');
    await until(() => lines.some((l) => /^INFO codex cooldown over: main\//.test(l)), 3000, 'a cooldown-over line');
  });
});
