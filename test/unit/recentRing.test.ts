import assert from 'node:assert/strict';
import { RecentRing } from '../../src/core/recentRing';
import type { FinishedRequest } from '../../src/core/types';

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An entry with a random subset of the optional fields, keys in the order ProxyState.finishRequest sets them. */
function entry(id: number, r: () => number): FinishedRequest {
  const maybe = <T>(v: T): T | undefined => (r() < 0.5 ? v : undefined);
  const int = (max: number): number => Math.floor(r() * max);
  const f: Record<string, unknown> = {
    id,
    service: r() < 0.5 ? 'codex' : 'claude',
    method: r() < 0.9 ? 'POST' : 'GET',
    path: `/v1/${['responses', 'messages', 'models'][int(3)]}${r() < 0.2 ? '?beta=true' : ''}`,
    status_code: [200, 200, 429, 502, 503][int(5)],
    duration_ms: r() < 0.1 ? 0 : r() * 5000,
    ended_at_ms: 1_700_000_000_000 + int(1e9),
  };
  const opt = (k: string, v: unknown): void => {
    const m = maybe(v);
    if (m !== undefined) f[k] = m;
  };
  opt('session_id', `sess-${int(20)}`);
  opt('cwd', `/home/u/project-${int(4)}`);
  opt('model', ['gpt-5', 'gpt-5-codex', 'claude-sonnet-4-5'][int(3)]);
  opt('mapped_model', 'gpt-5-mapped');
  opt('reasoning_effort', ['low', 'high'][int(2)]);
  opt('config_name', `cfg-${int(3)}`);
  opt('provider_id', `prov-${int(3)}`);
  opt('upstream_base_url', `https://up${int(3)}.example/v1`);
  if (r() < 0.6) {
    const u: Record<string, number> = { input_tokens: int(1e6), output_tokens: int(1e5), reasoning_tokens: int(1e4), total_tokens: int(2e6) };
    if (r() < 0.5) u.cached_input_tokens = int(1e6);
    if (r() < 0.3) u.cache_creation_input_tokens = int(1e5);
    f.usage = u;
  }
  opt('retry', { attempts: 2, upstream_chain: ['a#0', 'b#0'], attempt_details: [{ duration_ms: 3 }, {}] });
  opt('ttfb_ms', r() * 300);
  opt('error_class', 'upstream_transport_error');
  opt('error_hint', 'the upstream refused the connection');
  opt('error_message', 'x'.repeat(int(400)));
  opt('route_note', 'failed over from cfg-0#0 (upstream_transport_error)');
  if (r() < 0.3) f.cost = { amount: r() / 10, currency: r() < 0.5 ? 'USD' : 'EUR', rule: 'gpt-5*' };
  return f as unknown as FinishedRequest;
}

describe('RecentRing', () => {
  it('gives back, newest first, exactly the entries it was given (fields, absent fields, key order)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const ring = new RecentRing(50);
      const pushed: FinishedRequest[] = [];
      for (let id = 1; id <= 137; id++) {
        const e = entry(id, r);
        pushed.push(e);
        ring.push(e);
      }
      const want = pushed.slice(-50).reverse();
      const got = ring.list(1000);
      assert.deepStrictEqual(got, want, `seed ${seed}`);
      // The admin API serializes these: the same JSON, key for key.
      assert.equal(JSON.stringify(got), JSON.stringify(want), `seed ${seed}`);
      assert.deepStrictEqual(ring.list(3), want.slice(0, 3));
    }
  });

  it('keeps up to its capacity, lists a limit, and forgets everything on clear', () => {
    const r = rng(9);
    const ring = new RecentRing(4);
    assert.deepStrictEqual(ring.list(10), []);
    for (let id = 1; id <= 6; id++) ring.push(entry(id, r));
    assert.deepStrictEqual(ring.list(10).map((e) => e.id), [6, 5, 4, 3]);
    assert.deepStrictEqual(ring.list(2).map((e) => e.id), [6, 5]);
    assert.deepStrictEqual(ring.list(0), []);
    assert.equal(ring.clear(), 4);
    assert.deepStrictEqual(ring.list(10), []);
    const e = entry(7, r);
    ring.push(e);
    assert.deepStrictEqual(ring.list(10), [e]);
  });

  it('returns new objects: a reader changing an entry does not change the ring', () => {
    const ring = new RecentRing(3);
    ring.push(entry(1, rng(4)));
    const first = ring.list(1)[0]!;
    first.status_code = 999;
    if (first.usage) first.usage.input_tokens = -1;
    assert.notEqual(ring.list(1)[0]!.status_code, 999);
    assert.notEqual(ring.list(1)[0]!.usage?.input_tokens, -1);
  });

  it('keeps many distinct strings apart (the intern table starting over loses nothing)', () => {
    const ring = new RecentRing(10_000);
    for (let id = 1; id <= 10_000; id++) {
      ring.push({ id, service: 'codex', method: 'POST', path: `/v1/responses/${id}`, session_id: `s-${id}`, status_code: 200, duration_ms: 1, ended_at_ms: id });
    }
    const all = ring.list(10_000);
    assert.equal(all.length, 10_000);
    for (const e of all) {
      assert.equal(e.path, `/v1/responses/${e.id}`);
      assert.equal(e.session_id, `s-${e.id}`);
    }
  });
});
