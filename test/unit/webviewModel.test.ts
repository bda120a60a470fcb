import assert from 'node:assert/strict';
import type { ActiveRequest, FinishedRequest, ServiceName } from '../../src/core/types';
import { DEFAULT_FILTERS } from '../../src/webview/protocol';
import type { RequestFilters } from '../../src/webview/protocol';
import {
  matchesFilters,
  redactChainEntry,
  RequestsModel,
  rowFromActive,
  rowFromFinished,
  statusClassOf,
  upstreamHostOf,
} from '../../src/webview/requestsModel';
import type { SourceData } from '../../src/webview/requestsModel';

// A minute boundary plus 30 s, so bucket arithmetic is easy to follow.
const NOW = 1_700_000_040_000 + 30_000;
const MIN = 60_000;

let nextId = 1;
function fin(o: Partial<FinishedRequest> & { ago: number }): FinishedRequest {
  const { ago, ...rest } = o;
  return {
    id: nextId++,
    service: 'codex',
    method: 'POST',
    path: '/v1/responses',
    status_code: 200,
    duration_ms: 1000,
    ended_at_ms: NOW - ago,
    ...rest,
  };
}

function act(o: Partial<ActiveRequest> & { ago: number }): ActiveRequest {
  const { ago, ...rest } = o;
  return { id: nextId++, service: 'codex', method: 'POST', path: '/v1/responses', started_at_ms: NOW - ago, ...rest };
}

function src(service: ServiceName, recent: FinishedRequest[], active: ActiveRequest[] = []): SourceData {
  return { service, ok: true, recent, active };
}

function build(sources: SourceData[], filters: Partial<RequestFilters> = {}, maxRows = 100) {
  return new RequestsModel().build(sources, { filters: { ...DEFAULT_FILTERS, ...filters }, maxRows, nowMs: NOW });
}

describe('webview model: status classes', () => {
  it('buckets statuses, and treats missing statuses and broken 2xx streams as errors', () => {
    assert.equal(statusClassOf(200), '2xx');
    assert.equal(statusClassOf(204), '2xx');
    assert.equal(statusClassOf(200, 'upstream_stream_error'), 'error');
    assert.equal(statusClassOf(304), '3xx');
    assert.equal(statusClassOf(429), '4xx');
    assert.equal(statusClassOf(404, 'client_error_non_retryable'), '4xx');
    assert.equal(statusClassOf(502, 'cloudflare_timeout'), '5xx');
    assert.equal(statusClassOf(599), '5xx');
    assert.equal(statusClassOf(0), 'error');
    assert.equal(statusClassOf(101), 'error');
    assert.equal(statusClassOf(600), 'error');
    assert.equal(statusClassOf(Number.NaN), 'error');
  });
});

describe('webview model: credentials never reach the page', () => {
  it('upstreamHostOf keeps host and port only', () => {
    assert.equal(upstreamHostOf('https://user:sk-secret@relay.example.com:8443/v1?key=abc'), 'relay.example.com:8443');
    assert.equal(upstreamHostOf('https://api.openai.com/v1'), 'api.openai.com');
    assert.equal(upstreamHostOf('not a url'), undefined);
    assert.equal(upstreamHostOf(undefined), undefined);
    assert.equal(upstreamHostOf(''), undefined);
  });

  it('redactChainEntry masks userinfo and key-like query parameters in chain entries', () => {
    assert.equal(
      redactChainEntry('main:https://bob:hunter2@relay.example.com/v1 (idx=0) status=502 class=- model=gpt-5'),
      'main:https://***@relay.example.com/v1 (idx=0) status=502 class=- model=gpt-5',
    );
    assert.equal(
      redactChainEntry('g:https://x.example/v1?api_key=SECRET&v=2 (idx=1) status=429'),
      'g:https://x.example/v1?api_key=***&v=2 (idx=1) status=429',
    );
    const plain = 'main:https://api.openai.com/v1 (idx=0) transport_error=timeout model=gpt-5';
    assert.equal(redactChainEntry(plain), plain);
  });
});

describe('webview model: rows', () => {
  it('maps a finished request with mapping, usage, retries and error hint', () => {
    const r = fin({
      ago: 5000,
      session_id: 'sess-1',
      cwd: '/home/u/proj',
      model: 'gpt-5',
      mapped_model: 'vendor/gpt-5',
      reasoning_effort: 'high',
      config_name: 'main',
      provider_id: 'relay',
      upstream_base_url: 'https://k:v@relay.example.com/v1',
      status_code: 502,
      duration_ms: 3456,
      ttfb_ms: 0,
      usage: { input_tokens: 100, output_tokens: 20, reasoning_tokens: 5, total_tokens: 0, cached_input_tokens: 40 },
      retry: { attempts: 2, upstream_chain: ['main:https://k:v@relay.example.com/v1 (idx=0) status=502', 'backup:https://b.example/v1 (idx=0) status=502'] },
      error_class: 'cloudflare_timeout',
      error_hint: 'Cloudflare timed out waiting for the origin',
    });
    const row = rowFromFinished(r);
    assert.deepEqual(row, {
      key: `f:codex:${r.id}:${r.ended_at_ms}`,
      active: false,
      service: 'codex',
      timeMs: NOW - 5000,
      method: 'POST',
      path: '/v1/responses',
      status: 502,
      statusClass: '5xx',
      durationMs: 3456,
      ttfbMs: 0,
      attempts: 2,
      chain: ['main:https://***@relay.example.com/v1 (idx=0) status=502', 'backup:https://b.example/v1 (idx=0) status=502'],
      attemptRows: [
        { n: 1, config: 'main', upstreamIndex: 0, upstreamHost: 'relay.example.com', status: 502, result: 'failed', outcome: 'HTTP 502' },
        { n: 2, config: 'backup', upstreamIndex: 0, upstreamHost: 'b.example', status: 502, result: 'failed', outcome: 'HTTP 502',
          message: 'Cloudflare timed out waiting for the origin' },
      ],
      triesNote: '2 attempts across upstreams (failover); none succeeded.',
      sessionId: 'sess-1',
      cwd: '/home/u/proj',
      model: 'gpt-5',
      mappedModel: 'vendor/gpt-5',
      effort: 'high',
      config: 'main',
      provider: 'relay',
      upstreamHost: 'relay.example.com',
      errorClass: 'cloudflare_timeout',
      errorHint: 'Cloudflare timed out waiting for the origin',
      // total_tokens 0 from an upstream that did not report it falls back to input + output.
      tokens: { input: 100, output: 20, reasoning: 5, cached: 40, total: 120 },
    });
    assert.ok(!JSON.stringify(row).includes('k:v'));
  });

  it('carries where the request was routed and why', () => {
    const row = rowFromFinished(fin({ ago: 1, route_note: 'failed over from main#0 (status 502)' }));
    assert.equal(row.routeNote, 'failed over from main#0 (status 502)');
    assert.equal(rowFromFinished(fin({ ago: 1 })).routeNote, undefined);
  });

  it('shows the upstream\'s own message of an in-band failure before the class hint', () => {
    const row = rowFromFinished(fin({ ago: 1, status_code: 200, error_class: 'overloaded', error_hint: 'The upstream reported that it is overloaded.',
      error_message: 'server_is_overloaded: Our servers are currently overloaded' }));
    assert.equal(row.statusClass, 'error');
    assert.equal(row.errorHint, 'upstream: server_is_overloaded: Our servers are currently overloaded — The upstream reported that it is overloaded.');
  });

  it('leaves out an identity mapping, empty strings and absent usage; one attempt without a retry record', () => {
    const row = rowFromFinished(fin({ ago: 1, model: 'gpt-5', mapped_model: 'gpt-5', session_id: '', config_name: '', upstream_base_url: 'https://a.example/v1' }));
    assert.equal(row.mappedModel, undefined);
    assert.equal(row.sessionId, undefined);
    assert.equal(row.config, undefined);
    assert.equal(row.tokens, undefined);
    assert.equal(row.attempts, 1);
    assert.deepEqual(row.chain, []);
    assert.equal(row.attemptRows, undefined);
    assert.equal(row.triesNote, 'Answered on the first attempt.');
  });

  it('says "no upstream was tried" for an answer made before any attempt (not "answered on the first attempt")', () => {
    const row = rowFromFinished(fin({ ago: 1, status_code: 502, error_class: 'no_upstream_available',
      error_hint: 'every upstream is cooling down' }));
    assert.equal(row.attempts, 0);
    assert.equal(row.triesNote, 'No upstream was tried: every upstream is cooling down');
    const one = rowFromFinished(fin({ ago: 1, status_code: 401, config_name: 'main', upstream_base_url: 'https://a.example/v1' }));
    assert.match(one.triesNote!, /^One attempt; the upstream answered 401/);
  });

  it('reads every chain entry format into the attempt table, keeping only hosts', () => {
    const row = rowFromFinished(fin({ ago: 1, status_code: 200, config_name: 'backup', upstream_base_url: 'https://c.example/v1', retry: { attempts: 4, upstream_chain: [
      'main:https://user:pw@a.example/v1 (idx=0) status=429 class=- model=gpt-5->relay/gpt-5',
      'main:https://b.example/v1?key=sk-x (idx=1) transport_error=connect ECONNREFUSED 10.0.0.1:443 model=gpt-5',
      'main:https://d.example/v1 (idx=2) skipped_unsupported_model=gpt-5',
      'backup:https://c.example/v1 (idx=0) status=200 class=- model=gpt-5',
    ] } }));
    const a = row.attemptRows!;
    assert.deepEqual(a.map((x) => [x.n, x.config, x.upstreamIndex, x.upstreamHost, x.result, x.outcome]), [
      [1, 'main', 0, 'a.example', 'failed', 'HTTP 429'],
      [2, 'main', 1, 'b.example', 'failed', 'connection error'],
      [3, 'main', 2, 'd.example', 'skipped', 'does not serve gpt-5'],
      [4, 'backup', 0, 'c.example', 'ok', 'HTTP 200'],
    ]);
    assert.equal(a[0]!.model, 'gpt-5->relay/gpt-5');
    assert.equal(a[1]!.message, 'connect ECONNREFUSED 10.0.0.1:443');
    assert.doesNotMatch(JSON.stringify(row), /pw@|sk-x/);
    assert.equal(row.triesNote, '4 attempts across upstreams (failover); the last one succeeded.');
  });

  it('shows per-attempt time, upstream message and Retry-After when the request carries them', () => {
    const row = rowFromFinished(fin({ ago: 1, status_code: 200, config_name: 'main', upstream_base_url: 'https://a.example/v1', retry: {
      attempts: 2,
      upstream_chain: ['main:https://a.example/v1 (idx=0) status=429 class=- model=gpt-5', 'main:https://a.example/v1 (idx=0) status=200 class=- model=gpt-5'],
      attempt_details: [{ started_at_ms: NOW - 900, duration_ms: 120, upstream_message: 'Rate limit reached', retry_after: '2', cooldown_secs: 30 }, { started_at_ms: NOW - 500 }],
    } }));
    const [first] = row.attemptRows!;
    assert.deepEqual([first!.atMs, first!.durationMs, first!.message, first!.retryAfter, first!.cooldownSecs], [NOW - 900, 120, 'Rate limit reached', '2', 30]);
    assert.equal(row.triesNote, '2 attempts on the same upstream; the last one succeeded.');
  });

  it('maps an active request without status fields', () => {
    const a = act({ ago: 2000, session_id: 's', model: 'claude-sonnet', service: 'claude', upstream_base_url: 'https://api.anthropic.com' });
    const row = rowFromActive(a);
    assert.equal(row.key, `a:claude:${a.id}`);
    assert.equal(row.active, true);
    assert.equal(row.timeMs, NOW - 2000);
    assert.equal(row.upstreamHost, 'api.anthropic.com');
    assert.equal(row.status, undefined);
    assert.equal(row.statusClass, undefined);
  });
});

describe('webview model: filters', () => {
  const ok = rowFromFinished(fin({ ago: 1, session_id: 's1' }));
  const notFound = rowFromFinished(fin({ ago: 1, status_code: 404, service: 'claude' }));
  const bad = rowFromFinished(fin({ ago: 1, status_code: 503 }));
  const broken = rowFromFinished(fin({ ago: 1, status_code: 200, error_class: 'upstream_stream_error' }));
  const live = rowFromActive(act({ ago: 1, session_id: 's1' }));
  const f = (o: Partial<RequestFilters>): RequestFilters => ({ ...DEFAULT_FILTERS, ...o });

  it('status: the class itself, and `error` for every failure', () => {
    assert.deepEqual([ok, notFound, bad, broken].map((r) => matchesFilters(r, f({ status: '2xx' }))), [true, false, false, false]);
    assert.deepEqual([ok, notFound, bad, broken].map((r) => matchesFilters(r, f({ status: '4xx' }))), [false, true, false, false]);
    assert.deepEqual([ok, notFound, bad, broken].map((r) => matchesFilters(r, f({ status: '5xx' }))), [false, false, true, false]);
    assert.deepEqual([ok, notFound, bad, broken].map((r) => matchesFilters(r, f({ status: 'error' }))), [false, true, true, true]);
  });

  it('active rows pass service and session filters but no status filter', () => {
    assert.equal(matchesFilters(live, f({})), true);
    assert.equal(matchesFilters(live, f({ session: 's1', service: 'codex' })), true);
    assert.equal(matchesFilters(live, f({ service: 'claude' })), false);
    assert.equal(matchesFilters(live, f({ session: 's2' })), false);
    assert.equal(matchesFilters(live, f({ status: '2xx' })), false);
  });

  it('service and session', () => {
    assert.equal(matchesFilters(notFound, f({ service: 'claude' })), true);
    assert.equal(matchesFilters(ok, f({ service: 'claude' })), false);
    assert.equal(matchesFilters(ok, f({ session: 's1' })), true);
    assert.equal(matchesFilters(notFound, f({ session: 's1' })), false);
  });
});

describe('webview model: build', () => {
  const codexRecent = [
    fin({ ago: 10_000, session_id: 'c1', usage: { input_tokens: 10, output_tokens: 5, reasoning_tokens: 1, total_tokens: 15, cached_input_tokens: 4 } }),
    fin({ ago: 3 * MIN, session_id: 'c2', status_code: 500 }),
    fin({ ago: 2 * 60 * MIN, session_id: 'c1' }),
  ];
  const claudeRecent = [
    fin({ ago: 20_000, service: 'claude', session_id: 'k1', usage: { input_tokens: 100, output_tokens: 50, reasoning_tokens: 0, total_tokens: 150 } }),
    fin({ ago: 3 * MIN + 10_000, service: 'claude', session_id: 'k1', status_code: 429 }),
  ];
  const activeCodex = [act({ ago: 9000, session_id: 'c3' }), act({ ago: 1000, session_id: 'c1' })];
  const activeClaude = [act({ ago: 5000, service: 'claude', session_id: 'k2' })];
  const sources = (): SourceData[] => [src('codex', codexRecent, activeCodex), src('claude', claudeRecent, activeClaude)];

  it('passes the proxies\' URLs (for the empty-table hint) and the shared upstream states through', () => {
    const m = new RequestsModel();
    const u = m.build([
      { service: 'codex', ok: true, active: [], recent: [], url: 'http://127.0.0.1:3211', states: { 'codex/main#0': { kind: 'cooling', text: 'cooling 12 s' } } },
      { service: 'claude', ok: false, message: 'down', url: 'http://127.0.0.1:3210' },
    ], { filters: { service: 'all', status: 'all', session: '' }, maxRows: 10, nowMs: NOW });
    assert.deepEqual(u.sources.map((x) => x.url), ['http://127.0.0.1:3211', 'http://127.0.0.1:3210']);
    assert.deepEqual(u.upstreamStates, { 'codex/main#0': { kind: 'cooling', text: 'cooling 12 s' } });
  });

  it('puts active rows on top (newest first) and merges finished rows of all services newest first', () => {
    const u = build(sources());
    assert.equal(u.type, 'update');
    assert.deepEqual(
      u.rows.map((r) => [r.active, r.service, r.timeMs]),
      [
        [true, 'codex', NOW - 1000],
        [true, 'claude', NOW - 5000],
        [true, 'codex', NOW - 9000],
        [false, 'codex', NOW - 10_000],
        [false, 'claude', NOW - 20_000],
        [false, 'codex', NOW - 3 * MIN],
        [false, 'claude', NOW - 3 * MIN - 10_000],
        [false, 'codex', NOW - 120 * MIN],
      ],
    );
    assert.equal(u.hiddenRows, 0);
    assert.deepEqual(u.sessions, ['c1', 'k2', 'c3', 'k1', 'c2']);
    assert.deepEqual(u.sources, [
      { service: 'codex', ok: true },
      { service: 'claude', ok: true },
    ]);
  });

  it('totals count finished requests, errors and tokens of the filtered set, and active separately', () => {
    const all = build(sources()).totals;
    assert.deepEqual(all, {
      requests: 5,
      active: 3,
      errors: 2,
      inputTokens: 110,
      outputTokens: 55,
      reasoningTokens: 1,
      cachedTokens: 4,
      totalTokens: 165,
    });
    const claudeErrors = build(sources(), { service: 'claude', status: 'error' });
    assert.deepEqual(claudeErrors.rows.map((r) => r.status), [429]);
    assert.equal(claudeErrors.totals.requests, 1);
    assert.equal(claudeErrors.totals.errors, 1);
    assert.equal(claudeErrors.totals.active, 0);
    assert.equal(claudeErrors.totals.totalTokens, 0);
    const session = build(sources(), { session: 'c1' });
    assert.deepEqual(session.rows.map((r) => [r.active, r.timeMs]), [
      [true, NOW - 1000],
      [false, NOW - 10_000],
      [false, NOW - 120 * MIN],
    ]);
    // The session list for the dropdown ignores the filters, so the user can switch sessions.
    assert.deepEqual(session.sessions, ['c1', 'k2', 'c3', 'k1', 'c2']);
  });

  it('chart buckets count requests, errors and tokens per minute over the last hour', () => {
    const u = build(sources());
    assert.equal(u.bucketMs, MIN);
    assert.equal(u.buckets.length, 60);
    const last = u.buckets[59];
    assert.ok(last);
    // The last bucket is the current minute: NOW is 30 s into it.
    assert.equal(last.startMs, NOW - 30_000);
    assert.equal(u.buckets[0]?.startMs, NOW - 30_000 - 59 * MIN);
    // 10 s and 20 s ago both fall in the current minute.
    assert.deepEqual({ r: last.requests, e: last.errors, t: last.tokens }, { r: 2, e: 0, t: 165 });
    // 3 min ago (NOW-180 s = 150 s before the minute start) → bucket 59-3 = 56; 190 s ago also in 56.
    const b56 = u.buckets[56];
    assert.deepEqual({ r: b56?.requests, e: b56?.errors }, { r: 2, e: 2 });
    // The two-hour-old request is outside the window; active requests are not in the chart.
    const sum = u.buckets.reduce((n, b) => n + b.requests, 0);
    assert.equal(sum, 4);
  });

  it('trims to maxRows after filtering, keeping active rows first, and reports the hidden count', () => {
    const u = build(sources(), {}, 4);
    assert.equal(u.rows.length, 4);
    assert.deepEqual(u.rows.map((r) => r.active), [true, true, true, false]);
    assert.equal(u.hiddenRows, 4);
    // Totals and the chart still cover every matching request, not just the visible rows.
    assert.equal(u.totals.requests, 5);
    assert.equal(u.buckets.reduce((n, b) => n + b.requests, 0), 4);
    assert.equal(build(sources(), {}, 0).rows.length, 1);
  });

  it('keeps the other sources when one fails, and reports the failure', () => {
    const u = build([{ service: 'codex', ok: false, message: 'proxy at http://127.0.0.1:3211 is not reachable' }, src('claude', claudeRecent)]);
    assert.deepEqual(u.sources, [
      { service: 'codex', ok: false, message: 'proxy at http://127.0.0.1:3211 is not reachable' },
      { service: 'claude', ok: true },
    ]);
    assert.deepEqual(u.rows.map((r) => r.service), ['claude', 'claude']);
  });

  it('is empty but well-formed without sources', () => {
    const u = build([]);
    assert.deepEqual(u.rows, []);
    assert.equal(u.totals.requests, 0);
    assert.equal(u.buckets.length, 60);
    assert.ok(u.buckets.every((b) => b.requests === 0 && b.tokens === 0));
  });

  it('reuses rows of finished requests between updates and finds rows by key', () => {
    const model = new RequestsModel();
    const opts = { filters: { ...DEFAULT_FILTERS }, maxRows: 100, nowMs: NOW };
    const first = model.build(sources(), opts);
    const second = model.build(sources(), opts);
    const f1 = first.rows.find((r) => !r.active);
    const f2 = second.rows.find((r) => !r.active);
    assert.ok(f1 && f2);
    assert.equal(f1, f2);
    assert.equal(model.row(f1.key), f1);
    assert.equal(model.row('f:codex:nope:0'), undefined);
    // Rows filtered out of the last update are not reachable by key.
    model.build(sources(), { ...opts, filters: { ...DEFAULT_FILTERS, service: 'claude' } });
    assert.equal(model.row(f1.key), undefined);
  });

  it('uses custom bucket sizes', () => {
    const u = new RequestsModel().build(sources(), {
      filters: { ...DEFAULT_FILTERS },
      maxRows: 10,
      nowMs: NOW,
      bucketMs: 5 * MIN,
      bucketCount: 3,
    });
    assert.equal(u.buckets.length, 3);
    // 5-minute buckets aligned to the epoch: every request of the last 190 s lands in the current one.
    assert.deepEqual(u.buckets.map((b) => b.requests), [0, 0, 4]);
  });
});
