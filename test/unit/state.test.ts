import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProxyState } from '../../src/core/state';
import { SessionCwdResolver } from '../../src/io/sessionCwd';
import type { UsageMetrics } from '../../src/core/types';
import { tailOf } from '../../src/io/tailLines';

const DAY = 86_400_000;
const MIN = 60_000;

function clock(start = 10 * DAY): { now: () => number; t: number; advance(ms: number): void } {
  const c = {
    t: start,
    now: () => c.t,
    advance(ms: number) {
      c.t += ms;
    },
  };
  return c;
}

function usage(input: number, output: number): UsageMetrics {
  return { input_tokens: input, output_tokens: output, reasoning_tokens: 0, total_tokens: input + output };
}

function run(
  s: ProxyState,
  o: { sid?: string; start: number; dur?: number; status?: number; cfg?: string; prov?: string; usage?: UsageMetrics; ttfb?: number },
): number {
  const id = s.beginRequest({ session_id: o.sid, method: 'POST', path: '/v1/responses', started_at_ms: o.start, model: 'gpt-5' });
  if (o.cfg) s.updateRequestRoute(id, o.cfg, o.prov, `https://${o.cfg}.example/v1`);
  s.finishRequest({ id, status_code: o.status ?? 200, duration_ms: o.dur ?? 100, usage: o.usage, ttfb_ms: o.ttfb });
  return id;
}

describe('ProxyState', () => {
  describe('requests', () => {
    it('assigns ids from 1 and lists active oldest first', () => {
      const s = new ProxyState('codex', { now: () => 0 });
      const a = s.beginRequest({ method: 'POST', path: '/a', started_at_ms: 500 });
      const b = s.beginRequest({ method: 'POST', path: '/b', started_at_ms: 100 });
      assert.equal(a, 1);
      assert.equal(b, 2);
      assert.deepEqual(s.listActive().map((r) => r.id), [2, 1]);
      assert.equal(s.activeCount, 2);
    });

    it('records the latest route and lets finish override it', () => {
      const s = new ProxyState('codex');
      const id = s.beginRequest({ session_id: 's', method: 'POST', path: '/v1/responses', started_at_ms: 1000 });
      s.updateRequestRoute(id, 'a', 'pa', 'https://a');
      s.updateRequestRoute(id, 'b', undefined, 'https://b');
      assert.equal(s.listActive()[0]?.config_name, 'b');
      assert.equal(s.listActive()[0]?.provider_id, undefined);
      const f = s.finishRequest({ id, status_code: 502, duration_ms: 40, config_name: '-', upstream_base_url: '-' });
      assert.equal(f?.config_name, '-');
      assert.equal(f?.upstream_base_url, '-');
      assert.equal(f?.ended_at_ms, 1040);
      assert.equal(s.activeCount, 0);
    });

    it('finish is idempotent and ignores unknown ids', () => {
      const s = new ProxyState('codex');
      const id = s.beginRequest({ session_id: 's', method: 'POST', path: '/x', started_at_ms: 0 });
      assert.ok(s.finishRequest({ id, status_code: 200, duration_ms: 5, usage: usage(1, 1) }));
      assert.equal(s.finishRequest({ id, status_code: 200, duration_ms: 5, usage: usage(1, 1) }), undefined);
      assert.equal(s.finishRequest({ id: 999, status_code: 200, duration_ms: 5 }), undefined);
      assert.equal(s.listRecent(10).length, 1);
      assert.equal(s.sessionStats().s?.turns_total, 1);
      assert.equal(s.usageRollupView(10, 10).since_start.requests_total, 1);
    });

    it('keeps the recent ring newest first and clamps its size to 200..20000', () => {
      const s = new ProxyState('codex', { recentMax: 5 });
      assert.equal(s.recentCapacity, 200);
      for (let i = 0; i < 205; i++) run(s, { start: i });
      const all = s.listRecent(1000);
      assert.equal(all.length, 200);
      assert.equal(all[0]?.id, 205);
      assert.equal(all[199]?.id, 6);
      assert.deepEqual(s.listRecent(2).map((r) => r.id), [205, 204]);
      assert.equal(new ProxyState('codex', { recentMax: 1e9 }).recentCapacity, 20_000);
    });
  });

  describe('accounting that waits (finishRequestSoon with scheduleFlush)', () => {
    /** A state whose flushes run only when the test says so. */
    function deferred(extra: { price?: () => { currency: string; amount: number; rule: string } | undefined; onFlushError?: (e: unknown) => void } = {}) {
      const flushes: Array<() => void> = [];
      const c = clock();
      const s = new ProxyState('codex', { now: c.now, scheduleFlush: (f) => flushes.push(f), ...extra });
      return { s, flushes, c };
    }
    function begin(s: ProxyState, sid = 'sess', start = 10 * DAY): number {
      return s.beginRequest({ session_id: sid, method: 'POST', path: '/v1/responses', started_at_ms: start, model: 'gpt-5' });
    }

    it('accounts at the flush it asked for, once per batch, in the order the requests finished', () => {
      const { s, flushes } = deferred();
      const a = begin(s);
      const b = begin(s);
      const seen: number[] = [];
      s.finishRequestSoon({ id: b, status_code: 200, duration_ms: 5, usage: usage(3, 4) }, (f) => seen.push(f!.id));
      s.finishRequestSoon({ id: a, status_code: 502, duration_ms: 7 }, (f) => seen.push(f!.id));
      assert.equal(flushes.length, 1, 'one flush asked for the whole batch');
      assert.deepEqual(seen, [], 'nothing accounted before the flush');
      flushes[0]!();
      assert.deepEqual(seen, [b, a]);
      flushes[0]!();
      assert.deepEqual(seen, [b, a], 'a second flush finds nothing left');
      const c = begin(s);
      s.finishRequestSoon({ id: c, status_code: 200, duration_ms: 1 });
      assert.equal(flushes.length, 2, 'the next finish asks for a flush of its own');
    });

    it('every read accounts first: active, recent, counts, session totals, stats, rollups, prune, clear', () => {
      const reads: Array<[string, (s: ProxyState) => unknown, (s: ProxyState, id: number) => void]> = [
        ['listActive', (s) => s.listActive(), (s) => assert.deepEqual(s.listActive(), [])],
        ['activeCount', (s) => s.activeCount, (s) => assert.equal(s.activeCount, 0)],
        ['listRecent', (s) => s.listRecent(10), (s, id) => assert.deepEqual(s.listRecent(10).map((r) => r.id), [id])],
        ['sessionStats', (s) => s.sessionStats(), (s) => assert.equal(s.sessionStats()['sess']?.total_usage.total_tokens, 7)],
        ['statsData', (s) => s.statsData(1), (s) => assert.equal(s.statsData(1).minute.reduce((n, c) => n + c.requests, 0), 1)],
        ['usageRollupView', (s) => s.usageRollupView(5, 1), (s) => assert.equal(s.usageRollupView(5, 1).since_start.usage.total_tokens, 7)],
        ['prune', (s) => s.prune(), (s) => assert.equal(s.activeCount, 0)],
        ['clearRecent', (s) => s.clearRecent(), (s) => assert.deepEqual(s.listRecent(10), [])],
      ];
      for (const [name, read, check] of reads) {
        const { s } = deferred();
        const id = begin(s);
        let then = 0;
        s.finishRequestSoon({ id, status_code: 200, duration_ms: 5, usage: usage(3, 4) }, () => then++);
        read(s);
        assert.equal(then, 1, `${name} accounted the waiting finish`);
        check(s, id);
      }
    });

    it('hands the finished entry (with its price) to `then`, and a throwing `then` stops nothing else', () => {
      const errors: unknown[] = [];
      const { s, flushes } = deferred({ price: () => ({ currency: 'USD', amount: 0.5, rule: 'gpt-*' }), onFlushError: (e) => errors.push(e) });
      const a = begin(s);
      const b = begin(s);
      const got: Array<number | undefined> = [];
      s.finishRequestSoon({ id: a, status_code: 200, duration_ms: 5, usage: usage(1, 1) }, () => {
        throw new Error('boom');
      });
      s.finishRequestSoon({ id: b, status_code: 200, duration_ms: 5, usage: usage(1, 1) }, (f) => got.push(f?.cost?.amount));
      flushes[0]!();
      assert.deepEqual(got, [0.5]);
      assert.equal(errors.length, 1);
      assert.equal(s.listRecent(10).length, 2, 'both are accounted');
    });

    it('a direct finishRequest accounts the waiting ones first; without scheduleFlush nothing waits', () => {
      const { s } = deferred();
      const a = begin(s);
      const b = begin(s);
      s.finishRequestSoon({ id: a, status_code: 200, duration_ms: 5 });
      s.finishRequestSoon({ id: a, status_code: 500, duration_ms: 9 });
      s.finishRequest({ id: b, status_code: 200, duration_ms: 5 });
      assert.deepEqual(s.listRecent(10).map((r) => [r.id, r.status_code]), [[b, 200], [a, 200]], 'the first finish of a wins, and before b');

      const now = new ProxyState('codex');
      const id = begin(now);
      let f: unknown;
      now.finishRequestSoon({ id, status_code: 200, duration_ms: 5 }, (x) => (f = x));
      assert.equal((f as { id?: number } | undefined)?.id, id, 'accounted at once');
    });
  });

  describe('session stats', () => {
    it('counts every turn, keeps last_* when absent and sums usage', () => {
      const s = new ProxyState('codex');
      const id1 = s.beginRequest({ session_id: 's', cwd: '/w', model: 'gpt-5', reasoning_effort: 'high', method: 'POST', path: '/v1/responses', started_at_ms: 0 });
      s.updateRequestRoute(id1, 'main', 'openai', 'https://a');
      s.finishRequest({ id: id1, status_code: 200, duration_ms: 10, usage: usage(10, 5) });
      const id2 = s.beginRequest({ session_id: 's', method: 'GET', path: '/v1/models', started_at_ms: 100 });
      s.finishRequest({ id: id2, status_code: 500, duration_ms: 7 });
      const id3 = s.beginRequest({ session_id: 's', method: 'POST', path: '/v1/responses', started_at_ms: 200 });
      s.finishRequest({ id: id3, status_code: 200, duration_ms: 3, usage: usage(1, 2) });
      const st = s.sessionStats().s;
      assert.ok(st);
      assert.equal(st.turns_total, 3);
      assert.equal(st.turns_with_usage, 2);
      assert.equal(st.last_model, 'gpt-5');
      assert.equal(st.last_reasoning_effort, 'high');
      assert.equal(st.last_config_name, 'main');
      assert.equal(st.last_provider_id, 'openai');
      assert.equal(st.cwd, '/w');
      assert.deepEqual(st.last_usage, usage(1, 2));
      assert.deepEqual(st.total_usage, usage(11, 7));
      assert.equal(st.last_status, 200);
      assert.equal(st.last_duration_ms, 3);
      assert.equal(st.last_ended_at_ms, 203);
      assert.equal(st.last_seen_ms, 203);
    });

    it('ignores requests without a session id', () => {
      const s = new ProxyState('codex');
      run(s, { start: 0 });
      assert.deepEqual(s.sessionStats(), {});
    });
  });

  describe('overrides', () => {
    it('sets, lists, clears and pins with session before global', () => {
      const s = new ProxyState('codex');
      s.setSessionEffort('a', 'high');
      s.setSessionConfig('a', 'cfg-a');
      s.setGlobalConfig('glob');
      assert.equal(s.getSessionEffort('a'), 'high');
      assert.deepEqual(s.listSessionEfforts(), { a: 'high' });
      assert.deepEqual(s.listSessionConfigs(), { a: 'cfg-a' });
      assert.deepEqual(s.pinnedConfig('a'), { name: 'cfg-a', source: 'session' });
      assert.deepEqual(s.pinnedConfig('b'), { name: 'glob', source: 'global' });
      assert.deepEqual(s.pinnedConfig(), { name: 'glob', source: 'global' });
      s.setSessionConfig('a', undefined);
      s.setSessionEffort('a', '  ');
      s.setGlobalConfig(undefined);
      assert.equal(s.getSessionEffort('a'), undefined);
      assert.equal(s.pinnedConfig('a'), undefined);
    });

    it('expires overrides and stats after the TTL; touch keeps them alive; global never expires', () => {
      const c = clock();
      const s = new ProxyState('codex', { now: c.now, sessionTtlMs: 30 * MIN });
      s.setSessionEffort('a', 'low');
      s.setSessionConfig('a', 'x');
      s.setSessionEffort('b', 'high');
      s.setGlobalConfig('g');
      run(s, { sid: 'c', start: c.t, dur: 0 });
      c.advance(20 * MIN);
      s.touchSession('a');
      s.touchSession('nobody');
      c.advance(20 * MIN);
      s.prune();
      assert.deepEqual(s.listSessionEfforts(), { a: 'low' });
      assert.deepEqual(s.listSessionConfigs(), { a: 'x' });
      assert.equal(s.getSessionEffort('nobody'), undefined);
      assert.deepEqual(Object.keys(s.sessionStats()), []);
      c.advance(31 * MIN);
      s.prune();
      assert.deepEqual(s.listSessionEfforts(), {});
      assert.equal(s.getGlobalConfig(), 'g');
    });

    it('spares sessions with active requests from pruning', () => {
      const c = clock();
      const s = new ProxyState('codex', { now: c.now, sessionTtlMs: 30 * MIN });
      s.setSessionConfig('busy', 'x');
      run(s, { sid: 'busy', start: c.t, dur: 0 });
      const id = s.beginRequest({ session_id: 'busy', method: 'POST', path: '/x', started_at_ms: c.t });
      c.advance(60 * MIN);
      s.prune();
      assert.equal(s.getSessionConfig('busy'), 'x');
      assert.ok(s.sessionStats().busy);
      s.finishRequest({ id, status_code: 200, duration_ms: 1, ended_at_ms: c.t - 59 * MIN });
      s.prune();
      assert.equal(s.getSessionConfig('busy'), undefined);
      assert.equal(s.sessionStats().busy, undefined);
    });

    it('prunes the cwd cache through prune() but keeps active sessions', async () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'state-cwd-'));
      try {
        const c = clock();
        const r = new SessionCwdResolver(home, { now: c.now, ttlMs: 10 * MIN });
        const s = new ProxyState('codex', { now: c.now, cwdResolver: r });
        await r.resolve('idle');
        await r.resolve('busy');
        s.beginRequest({ session_id: 'busy', method: 'POST', path: '/x', started_at_ms: c.t });
        c.advance(11 * MIN);
        s.prune();
        assert.equal(r.size, 1);
      } finally {
        fs.rmSync(home, { recursive: true, force: true });
      }
    });
  });

  describe('config meta', () => {
    it('clamps levels, clears fields and round-trips through export/import', () => {
      const s = new ProxyState('codex');
      s.setConfigEnabled('a', false);
      s.setConfigLevel('a', 42);
      s.setConfigLevel('b', 0);
      assert.deepEqual(s.getConfigMeta(), { a: { enabled: false, level: 10 }, b: { level: 1 } });
      s.setConfigLevel('b', undefined);
      assert.deepEqual(s.getConfigMeta(), { a: { enabled: false, level: 10 } });
      s.setGlobalConfig('g');
      const p = s.exportPersistent();
      assert.deepEqual(p, { global_config: 'g', config_meta: { a: { enabled: false, level: 10 } } });
      const t = new ProxyState('codex');
      t.importPersistent(JSON.parse(JSON.stringify(p)) as typeof p);
      assert.deepEqual(t.exportPersistent(), p);
      t.importPersistent({ config_meta: { bad: { level: 'x' } as unknown as { level: number } } });
      assert.deepEqual(t.exportPersistent(), { config_meta: {} });
    });
  });

  describe('usage rollups', () => {
    it('buckets by UTC day, config and provider with the seed counters', () => {
      const s = new ProxyState('codex');
      const d0 = 20_000 * DAY;
      run(s, { start: d0 + 1000, dur: 1000, cfg: 'a', prov: 'pa', usage: usage(100, 50), ttfb: 200 });
      run(s, { start: d0 + 2000, dur: 500, cfg: 'a', prov: 'pa', status: 429 });
      run(s, { start: d0 + DAY, dur: 300, cfg: 'b', usage: usage(1000, 1), ttfb: 400 });
      const v = s.usageRollupView(12, 30);
      assert.equal(v.since_start.requests_total, 3);
      assert.equal(v.since_start.requests_error, 1);
      assert.equal(v.since_start.duration_ms_total, 1800);
      assert.equal(v.since_start.requests_with_usage, 2);
      assert.equal(v.since_start.duration_ms_with_usage_total, 1300);
      // 1000-200 for the first; ttfb 400 ≥ duration 300 counts the whole duration.
      assert.equal(v.since_start.generation_ms_total, 800 + 300);
      assert.equal(v.since_start.ttfb_ms_total, 600);
      assert.equal(v.since_start.ttfb_samples, 2);
      assert.deepEqual(v.since_start.usage, usage(1100, 51));
      assert.deepEqual(v.by_day.map(([d, b]) => [d, b.requests_total]), [[20_000, 2], [20_001, 1]]);
      assert.deepEqual(v.by_config.map(([k]) => k), ['b', 'a']);
      assert.deepEqual(v.by_provider.map(([k, b]) => [k, b.requests_total]), [['-', 1], ['pa', 2]]);
      assert.deepEqual(v.by_config_day.a?.map(([d]) => d), [20_000]);
      assert.deepEqual(v.by_provider_day['-']?.map(([d]) => d), [20_001]);
      const top1 = s.usageRollupView(1, 1);
      assert.deepEqual(top1.by_config.map(([k]) => k), ['b']);
      assert.deepEqual(Object.keys(top1.by_config_day), ['b']);
      assert.deepEqual(top1.by_day.map(([d]) => d), [20_001]);
    });

    it('prunes days beyond the retention but never since_start or by_config', () => {
      const c = clock(100 * DAY);
      const s = new ProxyState('codex', { now: c.now, rollupKeepDays: 2 });
      run(s, { start: 97 * DAY, cfg: 'old', usage: usage(1, 1) });
      run(s, { start: 99 * DAY, cfg: 'new', usage: usage(1, 1) });
      s.prune();
      const v = s.usageRollupView(10, 100);
      assert.deepEqual(v.by_day.map(([d]) => d), [99]);
      assert.equal(v.since_start.requests_total, 2);
      assert.deepEqual(v.by_config.map(([k]) => k).sort(), ['new', 'old']);
      assert.deepEqual(v.by_config_day.old, []);
    });
  });

  describe('replayRequestsLog', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-replay-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const line = (o: Record<string, unknown>): string =>
      JSON.stringify({ timestamp_ms: 5 * DAY, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 10, config_name: 'a', upstream_base_url: 'https://u', ...o });

    it('replays only this service, maps providers by base url and drops the partial first line', () => {
      const file = path.join(dir, 'requests.jsonl');
      const first = line({ config_name: 'cut', usage: usage(7, 7) });
      const body = [
        first,
        line({ usage: usage(10, 5), ttfb_ms: 3 }),
        line({ service: 'claude', config_name: 'claude-cfg' }),
        'not json',
        '',
        line({ provider_id: 'explicit', status_code: 503 }),
        line({ upstream_base_url: 'https://unknown' }),
      ].join('\n') + '\n';
      fs.writeFileSync(file, body);
      const s = new ProxyState('codex');
      // Start inside the first line so it must be discarded.
      const n = s.replayRequestsLog(tailOf(file), { 'https://u': 'mapped' }, { maxBytes: Buffer.byteLength(body) - 5 });
      assert.equal(n, 3);
      const v = s.usageRollupView(10, 10);
      assert.equal(v.since_start.requests_total, 3);
      assert.equal(v.since_start.requests_error, 1);
      assert.deepEqual(v.since_start.usage, usage(10, 5));
      assert.deepEqual(Object.fromEntries(v.by_provider.map(([k, b]) => [k, b.requests_total])), { mapped: 1, explicit: 1, '-': 1 });
      assert.ok(!v.by_config.some(([k]) => k === 'cut' || k === 'claude-cfg'));
      assert.equal(s.listRecent(10).length, 0);
      assert.deepEqual(s.sessionStats(), {});
      // A second replay is skipped because the rollup already holds requests.
      assert.equal(s.replayRequestsLog(tailOf(file), {}), 0);
    });

    it('keeps only the last maxLines lines and tolerates a missing file', () => {
      const file = path.join(dir, 'many.jsonl');
      fs.writeFileSync(file, Array.from({ length: 10 }, (_, i) => line({ duration_ms: i })).join('\n'));
      const s = new ProxyState('codex');
      assert.equal(s.replayRequestsLog(tailOf(file), {}, { maxLines: 4 }), 4);
      assert.equal(s.usageRollupView(1, 1).since_start.duration_ms_total, 6 + 7 + 8 + 9);
      assert.equal(new ProxyState('codex').replayRequestsLog(tailOf(path.join(dir, 'missing.jsonl')), {}), 0);
    });

    it('does not replay when requests were already recorded', () => {
      const file = path.join(dir, 'one.jsonl');
      fs.writeFileSync(file, line({}) + '\n');
      const s = new ProxyState('codex');
      run(s, { start: 0 });
      assert.equal(s.replayRequestsLog(tailOf(file), {}), 0);
      assert.equal(s.usageRollupView(1, 1).since_start.requests_total, 1);
    });
  });

  describe('health checks', () => {
    it('tracks progress, caps records at 200 and honours cancel', () => {
      const c = clock();
      const s = new ProxyState('codex', { now: c.now });
      assert.equal(s.requestCancelHealthCheck('a'), false);
      assert.equal(s.tryBeginHealthCheck('a', 3), true);
      assert.equal(s.tryBeginHealthCheck('a', 3), false);
      c.advance(10);
      s.recordHealthCheckResult('a', { base_url: 'u1', ok: true, status_code: 200, latency_ms: 5 });
      s.recordHealthCheckResult('a', { base_url: 'u2', ok: false, error: 'boom' });
      s.recordHealthCheckResult('a', { base_url: 'u3', ok: false, error: 'second' });
      s.recordHealthCheckResult('a', { base_url: 'u4' });
      const st = s.healthChecks().a;
      assert.ok(st);
      assert.deepEqual([st.completed, st.ok, st.err, st.last_error], [4, 1, 2, 'boom']);
      assert.equal(s.configHealth().a?.checked_at_ms, c.t);
      assert.equal(s.requestCancelHealthCheck('a'), true);
      assert.equal(s.isHealthCheckCancelRequested('a'), true);
      s.finishHealthCheck('a', true);
      assert.equal(s.isHealthCheckCancelRequested('a'), false);
      assert.deepEqual([s.healthChecks().a?.done, s.healthChecks().a?.canceled], [true, true]);
      assert.equal(s.requestCancelHealthCheck('a'), false);
      // A new run starts fresh and resets the records.
      assert.equal(s.tryBeginHealthCheck('a', 1), true);
      assert.deepEqual(s.configHealth().a?.upstreams, []);
      for (let i = 0; i < 205; i++) s.recordHealthCheckResult('a', { base_url: `u${i}`, ok: true });
      const ups = s.configHealth().a?.upstreams ?? [];
      assert.equal(ups.length, 200);
      assert.equal(ups[0]?.base_url, 'u5');
    });
  });

  describe('onDidChange', () => {
    it('notifies listeners until unsubscribed and survives a throwing listener', () => {
      const s = new ProxyState('codex');
      const kinds: string[] = [];
      s.onDidChange(() => {
        throw new Error('ui bug');
      });
      const off = s.onDidChange((e) => kinds.push(e.kind));
      const id = s.beginRequest({ method: 'GET', path: '/', started_at_ms: 0 });
      s.updateRequestRoute(id, 'a', undefined, 'u');
      s.finishRequest({ id, status_code: 200, duration_ms: 1 });
      s.setSessionEffort('x', 'high');
      s.setConfigLevel('a', 2);
      off.dispose();
      s.setGlobalConfig('z');
      assert.deepEqual(kinds, ['begin', 'route', 'finish', 'override', 'meta']);
    });
  });
});
