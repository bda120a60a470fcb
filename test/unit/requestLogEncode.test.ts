import assert from 'node:assert/strict';
import { formatRequestLogLine } from '../../src/core/requestLog';
import type { RequestLogRecord } from '../../src/core/requestLog';
import { encodeRequestLogLine } from '../../src/core/requestLogEncode';

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['main', 'gpt-5-codex', '/v1/responses', 'a"quote', 'back\\slash', 'tab\there', 'nl\n', '\u0001ctl', 'del\u007f',
  'café', '中文路径', '😀', 'lone\ud800', '\udc00x', 'https://api.example/v1?key=[masked]', '', ' ', '-', 'env:OPENAI_API_KEY',
  'C:\\Users\\me\\repo', '</script>', '\u2028sep'];
const NUMBERS = [0, 1, 7, 42, 999, 1000, 65535, 1796350852518, Number.MAX_SAFE_INTEGER, -1, -0, 0.5, 3.14159, 1e21, 1e-7, NaN, Infinity, -Infinity];

function gen(r: () => number): RequestLogRecord {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const str = (): string => Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(PIECES)).join(r() < 0.5 ? '' : '/');
  const maybe = <T>(f: () => T): T | undefined => (r() < 0.5 ? f() : undefined);
  const rec: RequestLogRecord = {
    service: pick(['codex', 'claude'] as const),
    method: pick(['POST', 'GET', str()]),
    path: str(),
    status_code: pick([200, 499, 502, ...NUMBERS]),
    duration_ms: pick(NUMBERS),
  };
  const set = <K extends keyof RequestLogRecord>(k: K, f: () => RequestLogRecord[K]): void => {
    if (r() < 0.5) rec[k] = f();
  };
  set('timestamp_ms', () => pick(NUMBERS));
  set('ttfb_ms', () => pick(NUMBERS));
  set('config_name', str);
  set('provider_id', str);
  set('upstream_base_url', str);
  set('session_id', str);
  set('cwd', str);
  set('reasoning_effort', str);
  set('model', str);
  set('mapped_model', str);
  set('usage', () => {
    const u: Record<string, unknown> = {};
    const keys = ['total_tokens', 'input_tokens', 'output_tokens', 'reasoning_tokens', 'cached_input_tokens', 'cache_creation_input_tokens', '10', 'odd "key"'];
    for (const k of keys) if (r() < 0.7) u[k] = r() < 0.85 ? pick(NUMBERS) : pick([str(), null, undefined, true, { n: pick(NUMBERS) }]);
    return u as unknown as RequestLogRecord['usage'];
  });
  set('http_debug', () => ({ request: { body: str(), headers: [{ name: 'a', value: str() }] }, n: pick(NUMBERS) }));
  set('http_debug_ref', () => ({ id: str(), file: 'requests_debug.jsonl' }));
  set('retry', () => ({ attempts: 2, upstream_chain: [str(), str()], attempt_details: maybe(() => [{ started_at_ms: 1, duration_ms: pick(NUMBERS) }]) }));
  set('error_class', str);
  set('error_message', str);
  set('route_note', str);
  set('auth_resolution', () => ({ authorization: maybe(() => pick(['env:OPENAI_API_KEY', 'client', str()])), x_api_key: maybe(() => pick(['env:ANTHROPIC_API_KEY', str()])) }));
  set('cost', () => ({ amount: pick(NUMBERS), currency: pick(['USD', 'EUR', str()]), rule: r() < 0.8 ? str() : (undefined as unknown as string) }));
  return rec;
}

describe('encodeRequestLogLine', () => {
  it('writes exactly the bytes of the formatted line, for 3,000 records full of escapes, non-ASCII text and odd numbers', () => {
    const buf = Buffer.alloc(64 * 1024);
    for (let seed = 1; seed <= 3000; seed++) {
      const rec = gen(rng(seed));
      const want = Buffer.from(formatRequestLogLine(rec, 1234));
      buf.fill(0xff);
      const end = encodeRequestLogLine(rec, 1234, buf, 100, buf.length);
      assert.notEqual(end, -1, `seed ${seed}`);
      assert.equal(buf.subarray(100, end).toString('utf8'), want.toString('utf8'), `seed ${seed}`);
      assert.ok(buf.subarray(100, end).equals(want), `seed ${seed}: same text, different bytes`);
      assert.equal(buf[99], 0xff, `seed ${seed}: wrote before its start`);
      assert.equal(buf[end], 0xff, `seed ${seed}: wrote past its end`);
    }
  });

  it('returns -1 without writing past the end when the line does not fit', () => {
    const rec = gen(rng(7));
    const len = Buffer.byteLength(formatRequestLogLine(rec, 1));
    const buf = Buffer.alloc(len + 10, 0xee);
    assert.equal(encodeRequestLogLine(rec, 1, buf, 5, 5 + len - 1), -1);
    assert.equal(buf[5 + len - 1], 0xee);
    assert.equal(encodeRequestLogLine(rec, 1, buf, 5, 5 + len), 5 + len);
  });

  it('leaves a record with a missing required number or an unserialisable value to the string formatter', () => {
    const base: RequestLogRecord = { service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 3 };
    const buf = Buffer.alloc(4096);
    assert.equal(encodeRequestLogLine({ ...base, duration_ms: undefined as unknown as number }, 1, buf, 0, buf.length), -1);
    assert.equal(encodeRequestLogLine({ ...base, http_debug: () => 1 }, 1, buf, 0, buf.length), -1);
    assert.ok(encodeRequestLogLine(base, 1, buf, 0, buf.length) > 0);
  });
});
