import assert from 'node:assert/strict';
import { ActivityLog } from '../../src/host/activityLog';
import { channelLines, cooldownLines, failoverLine, requestLine } from '../../src/host/logFormat';
import type { FinishedRequest } from '../../src/core/types';
import type { Logger } from '../../src/proxy/logger';
import { warnLine } from '../../src/proxy/httpDebug';
import { call, json, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

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
  let proxy: TestProxy;
  const lines: string[] = [];
  const log: Logger = { debug: (m) => lines.push(`DEBUG ${m}`), info: (m) => lines.push(`INFO ${m}`), warn() {}, error() {} };
  before(async () => {
    up = await startUpstream((req, res) => (req.url?.startsWith('/bad') ? json(res, 502, { error: { message: 'down' } }) : json(res, 200, { id: 'r', output: [] })));
    proxy = await startProxy(`version = 1
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
`, { services: ['codex'] });
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('logs the request at debug, the failover and the cooldown at info, and no JSON at info', async () => {
    const activity = new ActivityLog(proxy.host, log);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await call(`${proxy.url()}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-5","input":"x"}' });
        assert.equal(r.status, 200);
      }
      await until(() => lines.some((l) => l.startsWith('INFO codex cooldown: main/')), 3000, 'a cooldown line');
      assert.ok(lines.some((l) => /^DEBUG codex POST \/v1\/responses → 200 via backup\//.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /^INFO codex failover: main\/127\.0\.0\.1:\d+ \(HTTP 502\) → backup\/127\.0\.0\.1:\d+ \(HTTP 200\)$/.test(l)), lines.join('\n'));
      assert.ok(lines.filter((l) => l.startsWith('INFO')).every((l) => !l.includes('{')), 'no JSON at info');
      proxy.host.services.codex.lbStore.reset('main');
      assert.ok(lines.some((l) => /^INFO codex cooldown over: main\//.test(l)), 'a reset ends the cooldown in the log too');
    } finally {
      activity.dispose();
    }
  });
});
