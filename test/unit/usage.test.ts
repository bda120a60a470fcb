import { strict as assert } from 'node:assert';
import { SseUsageScanner, addUsage, extractUsageFromJson, usageFromValue } from '../../src/core/usage';
import type { UsageMetrics } from '../../src/core/types';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

function scan(chunks: Array<string | Buffer>, max?: number): UsageMetrics | undefined {
  const s = new SseUsageScanner(max);
  for (const c of chunks) s.push(typeof c === 'string' ? enc(c) : c);
  s.end();
  return s.usage;
}

const RESPONSES_SSE = [
  'event: response.created',
  'data: {"type":"response.created","response":{"id":"r1","usage":null}}',
  '',
  'event: response.output_text.delta',
  'data: {"type":"response.output_text.delta","delta":"Hel"}',
  '',
  'event: response.completed',
  'data: {"type":"response.completed","response":{"id":"r1","status":"completed","usage":{"input_tokens":1200,' +
    '"input_tokens_details":{"cached_tokens":1024},"output_tokens":300,"output_tokens_details":' +
    '{"reasoning_tokens":128},"total_tokens":1500}}}',
  '',
  '',
].join('\n');
const RESPONSES_USAGE: UsageMetrics = {
  input_tokens: 1200,
  output_tokens: 300,
  reasoning_tokens: 128,
  total_tokens: 1500,
  cached_input_tokens: 1024,
};

const ANTHROPIC_SSE = [
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],' +
    '"usage":{"input_tokens":25,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":1}}}',
  '',
  'event: content_block_delta',
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}',
  '',
  'event: message_delta',
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}',
  '',
  'event: message_stop',
  'data: {"type":"message_stop"}',
  '',
  '',
].join('\r\n');
const ANTHROPIC_USAGE: UsageMetrics = {
  input_tokens: 25,
  output_tokens: 42,
  reasoning_tokens: 0,
  total_tokens: 67,
  cached_input_tokens: 2000,
  cache_creation_input_tokens: 100,
};

describe('usage', () => {
  describe('usageFromValue', () => {
    it('maps Chat Completions fields with details', () => {
      assert.deepEqual(
        usageFromValue({
          prompt_tokens: 10,
          completion_tokens: '5',
          prompt_tokens_details: { cached_tokens: 4 },
          completion_tokens_details: { reasoning_tokens: 2 },
        }),
        { input_tokens: 10, output_tokens: 5, reasoning_tokens: 2, total_tokens: 15, cached_input_tokens: 4 },
      );
    });
    it('keeps an explicit total and truncates numeric strings', () => {
      assert.deepEqual(usageFromValue({ input_tokens: '7.9', output_tokens: 1, total_tokens: 99 }), {
        input_tokens: 7,
        output_tokens: 1,
        reasoning_tokens: 0,
        total_tokens: 99,
      });
    });
    it('returns undefined without a recognised field', () => {
      assert.equal(usageFromValue(null), undefined);
      assert.equal(usageFromValue({ foo: 123 }), undefined);
      assert.equal(usageFromValue([1]), undefined);
    });
  });

  describe('extractUsageFromJson', () => {
    it('reads a Responses non-stream body', () => {
      const body = JSON.stringify({
        id: 'r',
        output: [],
        usage: {
          input_tokens: 1200,
          input_tokens_details: { cached_tokens: 1024 },
          output_tokens: 300,
          output_tokens_details: { reasoning_tokens: 128 },
          total_tokens: 1500,
        },
      });
      assert.deepEqual(extractUsageFromJson(enc(body)), RESPONSES_USAGE);
      assert.deepEqual(extractUsageFromJson(body), RESPONSES_USAGE);
    });
    it('reads response.usage', () => {
      const body = `  {"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}\n`;
      assert.equal(extractUsageFromJson(new Uint8Array(enc(body)))?.total_tokens, 3);
    });
    it('reads an Anthropic non-stream message with cache tokens', () => {
      const body = JSON.stringify({
        type: 'message',
        content: [{ type: 'text', text: 'hi' }],
        usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 42 },
      });
      assert.deepEqual(extractUsageFromJson(enc(body)), ANTHROPIC_USAGE);
    });
    it('returns undefined for bodies without usage or invalid JSON', () => {
      assert.equal(extractUsageFromJson(enc('{"id":1}')), undefined);
      assert.equal(extractUsageFromJson(enc('{"usage":')), undefined);
      assert.equal(extractUsageFromJson(enc('{"usage":null}')), undefined);
    });
  });

  describe('SseUsageScanner', () => {
    it('finds Responses usage in response.completed (reasoning and cached)', () => {
      assert.deepEqual(scan([RESPONSES_SSE]), RESPONSES_USAGE);
    });

    it('finds Chat Completions usage in the final chunk and skips [DONE]', () => {
      const sse =
        'data: {"choices":[{"delta":{"content":"x"}}],"usage":null}\n\n' +
        'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,' +
        '"prompt_tokens_details":{"cached_tokens":8}}}\n\ndata: [DONE]\n\n';
      assert.deepEqual(scan([sse]), {
        input_tokens: 9,
        output_tokens: 3,
        reasoning_tokens: 0,
        total_tokens: 12,
        cached_input_tokens: 8,
      });
    });

    it('merges Anthropic message_start and message_delta usage', () => {
      assert.deepEqual(scan([ANTHROPIC_SSE]), ANTHROPIC_USAGE);
    });

    it('keeps scanning after the first usage: the last OpenAI usage wins', () => {
      const sse =
        'data: {"usage":{"input_tokens":1,"output_tokens":1}}\n' + 'data: {"usage":{"input_tokens":5,"output_tokens":6}}\n';
      assert.equal(scan([sse])?.total_tokens, 11);
    });

    it('handles lines split across chunks at every byte position', () => {
      for (const [text, expected] of [
        [RESPONSES_SSE, RESPONSES_USAGE],
        [ANTHROPIC_SSE, ANTHROPIC_USAGE],
      ] as const) {
        const bytes = enc(text);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const got = scan([bytes.subarray(0, cut), bytes.subarray(cut)]);
          assert.deepEqual(got, expected, `cut at ${cut}`);
        }
        for (let cut = 1; cut < bytes.length; cut += 7) {
          const got = scan([bytes.subarray(0, cut), bytes.subarray(cut, cut + 3), bytes.subarray(cut + 3)]);
          assert.deepEqual(got, expected, `cuts at ${cut}/${cut + 3}`);
        }
      }
    });

    it('splits multi-byte UTF-8 characters safely', () => {
      const sse = 'data: {"text":"héllo ✓","usage":{"input_tokens":2,"output_tokens":3}}\n';
      const bytes = enc(sse);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.equal(scan([bytes.subarray(0, cut), bytes.subarray(cut)])?.total_tokens, 5);
      }
    });

    it('handles a final line without a newline, and data: without a space', () => {
      assert.equal(scan(['data:{"usage":{"input_tokens":1,"output_tokens":2}}'])?.total_tokens, 3);
      const s = new SseUsageScanner();
      s.push(enc('data: {"usage":{"input_tokens":1,"output_tokens":2}}'));
      assert.equal(s.usage, undefined);
      s.end();
      // Read through a function: TS would keep the `undefined` narrowing of `s.usage` across end().
      const read = (x: SseUsageScanner): UsageMetrics | undefined => x.usage;
      assert.equal(read(s)?.total_tokens, 3);
    });

    it('ignores non-data lines, blank payloads and broken JSON', () => {
      assert.equal(scan([': usage comment\nevent: usage\ndata:\ndata: \ndata: {"usage": \n\n']), undefined);
    });

    it('finds usage at the end of a 2 MB stream', () => {
      const delta = `data: {"type":"response.output_text.delta","delta":"${'x'.repeat(1000)}"}\n\n`;
      const chunks: Buffer[] = [];
      let size = 0;
      while (size < 2 * 1024 * 1024) {
        const c = enc(delta.repeat(16));
        chunks.push(c);
        size += c.length;
      }
      chunks.push(enc(RESPONSES_SSE));
      assert.deepEqual(scan(chunks), RESPONSES_USAGE);
    });

    it('recovers usage from one event longer than the buffer cap', () => {
      const hugeText = 'y'.repeat(300_000) + ' a \\"usage\\": {\\"input_tokens\\":999} \\"usage\\":{}';
      const line =
        `data: {"type":"response.completed","response":{"output":[{"text":"${hugeText}"}],` +
        `"usage":{"input_tokens":10,"output_tokens":20,"total_tokens":30},"metadata":{}}}\n\n`;
      const bytes = enc(line);
      const usage = { input_tokens: 10, output_tokens: 20, reasoning_tokens: 0, total_tokens: 30 };
      // One chunk bigger than the cap, and many small chunks.
      assert.deepEqual(scan([bytes], 64 * 1024), usage);
      const small: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 4096) small.push(bytes.subarray(i, i + 4096));
      assert.deepEqual(scan(small, 64 * 1024), usage);
      // And a normal event after an oversized one is parsed as usual.
      assert.equal(scan([bytes, 'data: {"usage":{"input_tokens":1,"output_tokens":1}}\n'], 64 * 1024)?.total_tokens, 2);
    });
  });

  describe('SseUsageScanner: opening events with "usage": null', () => {
    // Codex's requests carry their instructions and tools; the Responses API repeats them in response.created and
    // response.in_progress, beside `"usage": null`.
    const instructions = 'You are a coding agent. Mind your token usage; \\"usage\\": {\\"input_tokens\\": 7} '
      .repeat(400);
    const opening = (type: string, usage = 'null'): string =>
      `data: {"type":"${type}","sequence_number":0,"response":{"id":"r1","instructions":"${instructions}",` +
      `"tools":[{"type":"function","name":"shell"}],"output":[],"usage" : ${usage},"metadata":{}}}\n\n`;

    /** Counts the JSON.parse calls `fn` makes. */
    function parses(fn: () => void): number {
      const real = JSON.parse;
      let n = 0;
      JSON.parse = ((text: string, reviver?: (k: string, v: unknown) => unknown) => {
        n++;
        return real(text, reviver);
      }) as typeof JSON.parse;
      try {
        fn();
      } finally {
        JSON.parse = real;
      }
      return n;
    }

    it('reads the usage of the stream without decoding its opening events', () => {
      let got: UsageMetrics | undefined;
      const n = parses(() => {
        got = scan([opening('response.created'), opening('response.in_progress'), RESPONSES_SSE]);
      });
      assert.deepEqual(got, RESPONSES_USAGE);
      // RESPONSES_SSE's own response.created is `"usage":null` too: only response.completed is parsed.
      assert.equal(n, 1);
    });

    it('reads a Chat Completions stream\'s usage without decoding its chunks that carry "usage": null', () => {
      const chunk = (delta: string): string =>
        `data: {"choices":[{"index":0,"delta":{"content":"${delta}"}}],"usage":null}\n\n`;
      let got: UsageMetrics | undefined;
      const n = parses(() => {
        got = scan([chunk('usage'), chunk('x'), chunk('y'),
          'data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":3}}\n\ndata: [DONE]\n\n']);
      });
      assert.deepEqual(got, { input_tokens: 4, output_tokens: 3, reasoning_tokens: 0, total_tokens: 7 });
      assert.equal(n, 1);
    });

    it('still reads an opening event whose usage is not null', () => {
      const usage = '{"input_tokens":3,"output_tokens":4}';
      assert.deepEqual(scan([opening('response.created', usage)]),
        { input_tokens: 3, output_tokens: 4, reasoning_tokens: 0, total_tokens: 7 });
    });

    it('gives what a parse of every line gives, for lines that mention usage every way', () => {
      // The reference: every data line parsed, its usage found where the scanner looks (last one wins).
      const reference = (lines: string[]): UsageMetrics | undefined => {
        let last: UsageMetrics | undefined;
        for (const l of lines) {
          let root: Record<string, Record<string, unknown> | undefined> | undefined;
          try {
            root = JSON.parse(l.slice('data: '.length));
          } catch {
            continue;
          }
          const u = usageFromValue(root?.['usage']) ?? usageFromValue(root?.['response']?.['usage'])
            ?? usageFromValue(root?.['message']?.['usage']);
          if (u) last = u;
        }
        return last;
      };
      const members = [
        '"usage":null', '"usage" : null', '"usage":\tnull', '"usage":{"input_tokens":2,"output_tokens":5}',
        '"usage":{}', '"usage":"null"', '"text":"\\"usage\\": null"', '"text":"usage"', '"my usage":null',
        '"usage_note":null', '"usage":nul', '"kind":"usage"', '"usage":null}', '"response":{"usage":null}',
        '"response":{"usage":{"output_tokens":9}}', '"x\\"usage":null', '"x\\"usage":{"input_tokens":1}',
        '"p":"\\\\"', '"usage":\rnull', '"usage":\r{"input_tokens":6}',
        '"message":{"usage":null,"id":"m"}',
      ];
      for (const a of members) {
        for (const b of members) {
          const lines = [`data: {"type":"x",${a},${b}}`, `data: {${a}}`, `data: {"type":"y","n":1,${b}`];
          for (const line of lines) assert.deepEqual(scan([`${line}\n`]), reference([line]), line);
        }
      }
    });
  });

  it('addUsage sums fields including optional cache fields', () => {
    const into: UsageMetrics = { input_tokens: 1, output_tokens: 2, reasoning_tokens: 0, total_tokens: 3 };
    addUsage(into, { input_tokens: 10, output_tokens: 20, reasoning_tokens: 5, total_tokens: 30, cached_input_tokens: 7 });
    addUsage(into, { ...ANTHROPIC_USAGE });
    assert.deepEqual(into, {
      input_tokens: 36,
      output_tokens: 64,
      reasoning_tokens: 5,
      total_tokens: 100,
      cached_input_tokens: 2007,
      cache_creation_input_tokens: 100,
    });
  });
});
