import assert from 'node:assert/strict';
import { extractUsageFromJson, usageFromValue } from '../../src/core/usage';
import { usageAtEnd } from '../../src/core/usageBytes';
import type { UsageMetrics } from '../../src/core/types';

/** What the usage of a JSON answer is, by definition: the parsed answer's `usage`, else `response.usage`. */
function reference(text: string): UsageMetrics | undefined {
  const root = JSON.parse(text) as Record<string, unknown>;
  const response = root['response'];
  return usageFromValue(root['usage'])
    ?? (typeof response === 'object' && response !== null ? usageFromValue((response as Record<string, unknown>)['usage']) : undefined);
}

/** A small deterministic generator (the same bodies every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const COUNT_KEYS = ['prompt_tokens', 'input_tokens', 'completion_tokens', 'output_tokens', 'total_tokens', 'reasoning_tokens',
  'cache_read_input_tokens', 'cache_creation_input_tokens'];
const DETAIL_KEYS: Record<string, string> = {
  output_tokens_details: 'reasoning_tokens', completion_tokens_details: 'reasoning_tokens',
  input_tokens_details: 'cached_tokens', prompt_tokens_details: 'cached_tokens',
};
const OTHER_KEYS = ['server_tool_use', 'service_tier', 'cache_creation', 'web_search_requests', 'x1', 'Tokens'];

describe('usage read from the bytes of an answer', () => {
  const r = rng(20261204);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const ws = (): string => (r() < 0.8 ? '' : pick([' ', '\n', '\t', '\r\n', '  ']));
  const int = (): string => {
    const x = r();
    if (x < 0.05) return '0';
    if (x < 0.08) return '-' + String(Math.floor(r() * 100));
    if (x < 0.1) return '-0';
    if (x < 0.13) return '1234567890123456789'; // longer than the reader takes: JSON.parse rounds it
    return String(Math.floor(r() * 200_000));
  };
  /** A value the reader handles (mostly) or one it must leave to JSON.parse. */
  const value = (depth: number): string => {
    const x = r();
    if (x < 0.6) return int();
    if (x < 0.7) return 'null';
    if (x < 0.78 && depth < 3) return object(depth + 1, [...OTHER_KEYS, 'reasoning_tokens', 'cached_tokens']);
    return pick(['"512"', '1.5', '2e3', '-1E2', '[]', '[1]', 'true', 'false', '" 7 "', '"x"', '{"a":"b"}']);
  };
  const key = (pool: readonly string[]): string => {
    const k = pick(pool);
    const x = r();
    if (x < 0.03) return '"__proto__"';
    if (x < 0.06) return `"${k.replace('t', '\\u0074')}"`; // an escaped key JSON.parse decodes
    return JSON.stringify(k);
  };
  const object = (depth: number, pool: readonly string[]): string => {
    const n = Math.floor(r() * 7);
    const members: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = key(pool);
      const name = JSON.parse(k) as string;
      const inner = Object.hasOwn(DETAIL_KEYS, name) ? DETAIL_KEYS[name] : undefined;
      const v = inner !== undefined && r() < 0.7 ? object(depth + 1, [inner, inner, ...OTHER_KEYS]) : value(depth);
      members.push(`${ws()}${k}${ws()}:${ws()}${v}${ws()}`);
    }
    return `{${members.join(',')}${n === 0 ? ws() : ''}}`;
  };
  const usageObject = (): string => object(1, [...COUNT_KEYS, ...COUNT_KEYS, ...Object.keys(DETAIL_KEYS), ...OTHER_KEYS]);
  /** A whole answer: text that talks about "usage", sometimes a nested usage, the usage last, elsewhere or twice. */
  const answer = (): string => {
    const before = [
      `"id":"resp_1"`,
      `"output":[{"type":"output_text","text":${JSON.stringify('the "usage": {"input_tokens": 9} field, \\ and \u00e9')}}]`,
    ];
    if (r() < 0.2) before.push(`"meta":{"usage":${usageObject()}}`);
    const x = r();
    const parts = [...before];
    if (x < 0.65) parts.push(`"usage"${ws()}:${ws()}${usageObject()}`);
    else if (x < 0.75) parts.push(`"usage":${usageObject()}`, `"usage":${usageObject()}`);
    else if (x < 0.82) parts.push(`"usage":${usageObject()}`, `"status":"completed"`);
    else if (x < 0.9) parts.push(`"response":{"usage":${usageObject()}}`);
    else parts.push(`"usage":${pick(['null', '5', '"x"', '[]'])}`);
    return `${ws()}{${parts.join(`,${ws()}`)}${ws()}}${ws()}`;
  };

  it('gives what parsing the answer gives, on 3,000 generated answers (and reads most usual ones itself)', () => {
    let read = 0;
    let withUsage = 0;
    for (let i = 0; i < 3000; i++) {
      const text = answer();
      const buf = Buffer.from(text);
      const want = reference(text);
      if (want) withUsage++;
      assert.deepEqual(extractUsageFromJson(buf), want, text);
      const fast = usageAtEnd(buf);
      if (fast !== null) {
        read++;
        assert.deepEqual(fast, want, text);
      }
    }
    assert.ok(withUsage > 1000, `answers with usage: ${withUsage}`);
    assert.ok(read > 300, `answers read from their bytes: ${read}`);
  });

  it('reads the answers of both APIs as they are sent', () => {
    const openai = Buffer.from(JSON.stringify({
      id: 'resp_1', output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }],
      usage: { input_tokens: 512, input_tokens_details: { cached_tokens: 128 }, output_tokens: 300,
        output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 812 },
    }));
    assert.deepEqual(usageAtEnd(openai),
      { input_tokens: 512, output_tokens: 300, reasoning_tokens: 64, total_tokens: 812, cached_input_tokens: 128 });
    const anthropic = Buffer.from(JSON.stringify({
      id: 'msg_1', type: 'message', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn',
      usage: { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 7, output_tokens: 3,
        server_tool_use: { web_search_requests: 0 }, service_tier: null },
    }));
    assert.deepEqual(usageAtEnd(anthropic),
      { input_tokens: 10, output_tokens: 3, reasoning_tokens: 0, total_tokens: 13, cached_input_tokens: 7, cache_creation_input_tokens: 5 });
  });

  it('leaves to JSON.parse what it cannot be sure of', () => {
    for (const text of [
      '{"usage":{"input_tokens":"5"}}', // a numeric string
      '{"usage":{"input_tokens":1.5}}',
      '{"usage":{"input_tokens":1234567890123456}}',
      '{"usage":{"__proto__":{"input_tokens":1},"output_tokens":2}}',
      '{"usage":{"input_\\u0074okens":1}}',
      '{"usage":{"input_tokens":1},"id":"x"}', // not the last member
      '{"response":{"usage":{"input_tokens":1}}}', // not the root's
      '{"x":"a"usage":{"input_tokens":1}}', // malformed
      '[{"usage":{"input_tokens":1}}]',
      '{"usage":{}}',
      '{"usage":{"input_tokens":1}',
      // Not JSON: the reader never makes a count of it.
      '{"usage":{"input_tokens":01}}',
      '{"usage":{"input_tokens":-}}',
      '{"usage":{"input_tokens":1.}}',
      '{"usage":{"input_tokens":nul}}',
      '{"usage":{"input_tokens":1,}}',
      '{"usage":{"input_tokens" 1}}',
    ]) {
      assert.equal(usageAtEnd(Buffer.from(text)), null, text);
    }
  });
});
