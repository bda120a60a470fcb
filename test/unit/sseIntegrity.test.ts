import assert from 'node:assert/strict';
import { classifyErrorObject } from '../../src/core/classify';
import { errorFieldsOf, inBandErrorFromJson, StreamIntegrity, wireFormatFor } from '../../src/core/sseIntegrity';
import type { WireFormat } from '../../src/core/sseIntegrity';
import { SseUsageScanner } from '../../src/core/usage';

/** Feeds `text` in pieces of `size` bytes through one usage+integrity scanner. */
function scan(format: WireFormat | undefined, text: string, size = 7): { g: StreamIntegrity; s: SseUsageScanner } {
  const g = new StreamIntegrity(format);
  const s = new SseUsageScanner(undefined, g);
  const b = Buffer.from(text);
  for (let i = 0; i < b.length; i += size) s.push(b.subarray(i, i + size));
  s.end();
  return { g, s };
}

const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

describe('stream integrity detector (one pass with the usage scanner)', () => {
  it('names the wire format of a request path', () => {
    assert.equal(wireFormatFor('codex', '/v1/responses'), 'responses');
    assert.equal(wireFormatFor('codex', '/v1/chat/completions'), 'chat');
    assert.equal(wireFormatFor('claude', '/v1/messages'), 'anthropic');
    assert.equal(wireFormatFor('claude', '/v1/messages/count_tokens'), undefined);
    assert.equal(wireFormatFor('codex', '/v1/models'), undefined);
  });

  it('Responses: opening events carry no output; a failure before output is flagged with its class and message', () => {
    const { g } = scan('responses', ev('response.created', { type: 'response.created' }) +
      ev('response.failed', { type: 'response.failed', response: { error: { code: 'server_is_overloaded', message: 'Our servers are currently overloaded' } } }));
    assert.equal(g.outputStarted, false);
    assert.equal(g.errorBeforeOutput, true);
    assert.deepEqual({ cls: g.error?.cls, status: g.error?.status, source: g.error?.source }, { cls: 'overloaded', status: 503, source: 'response.failed' });
    assert.equal(g.error?.message, 'server_is_overloaded: Our servers are currently overloaded');
  });

  it('Responses without event lines are read from the data type; usage is counted in the same pass', () => {
    const text = `data: ${JSON.stringify({ type: 'response.created', response: { usage: null } })}\n\n` +
      `data: ${JSON.stringify({ type: 'response.output_text.delta', delta: 'x' })}\n\n` +
      `data: ${JSON.stringify({ type: 'response.completed', response: { usage: { input_tokens: 2, output_tokens: 3, total_tokens: 5 } } })}\n\n`;
    const { g, s } = scan('responses', text, 5);
    assert.equal(g.outputStarted, true);
    assert.equal(g.terminal, true);
    assert.equal(g.error, undefined);
    assert.equal(s.usage?.total_tokens, 5);
  });

  it('Anthropic: message_start and ping hold; an error after output is not "before output"', () => {
    const { g, s } = scan('anthropic', ev('message_start', { type: 'message_start', message: { usage: { input_tokens: 4, output_tokens: 1 } } }) +
      ev('ping', { type: 'ping' }) + ev('content_block_delta', { type: 'content_block_delta', delta: { text: 'hi' } }) +
      ev('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), 3);
    assert.equal(g.outputStarted, true);
    assert.equal(g.terminal, false);
    assert.equal(g.error?.cls, 'overloaded');
    assert.equal(g.errorBeforeOutput, false);
    assert.equal(s.usage?.input_tokens, 4);
  });

  it('event names are known by their bytes across streams, past the shared cache of names too', () => {
    // More distinct names than the shared cache holds, on several streams, each ending with a known name.
    const names = Array.from({ length: 100 }, (_, i) => `custom.event_${i}`);
    for (const [i, last] of [['0', 'response.completed'], ['1', 'response.failed'], ['2', 'response.created']] as const) {
      const text = names.map((n) => ev(n, { type: n, i })).join('') + ev(last, { type: last, response: { error: { message: 'boom' } } });
      const { g } = scan('responses', text, 13);
      assert.equal(g.outputStarted, true, i);
      assert.equal(g.terminal, last === 'response.completed', i);
      assert.equal(g.error !== undefined, last === 'response.failed', i);
    }
    // A name that shares a prefix with a cached one is not mistaken for it.
    const { g } = scan('responses', ev('response.created', { type: 'response.created' }) + ev('response.create', { type: 'x' }), 5);
    assert.equal(g.outputStarted, true);
  });

  it('Anthropic: an `event: error` without data still counts', () => {
    const { g } = scan('anthropic', ev('message_start', { type: 'message_start' }) + 'event: error\n\n');
    assert.equal(g.error?.cls, 'server_error');
    assert.equal(g.errorBeforeOutput, true);
  });

  it('Chat Completions: a role-only chunk holds, text (with spaces around the colon) is output, [DONE] or finish_reason ends it', () => {
    const role = 'data: {"choices":[{"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n';
    let { g } = scan('chat', role);
    assert.equal(g.outputStarted, false);
    assert.equal(g.terminal, false);
    ({ g } = scan('chat', role + 'data: {"choices":[{"delta":{"content": "hi"}}]}\n\n'));
    assert.equal(g.outputStarted, true);
    ({ g } = scan('chat', role + 'data: {"choices":[{"delta":{"tool_calls":[{"id":"t"}]}}]}\n\n'));
    assert.equal(g.outputStarted, true);
    ({ g } = scan('chat', role + 'data: {"choices":[{"delta":{},"finish_reason": "stop"}]}\n\n'));
    assert.equal(g.terminal, true);
    ({ g } = scan('chat', role + 'data: [DONE]\n\n'));
    assert.equal(g.terminal, true);
  });

  it('Chat Completions: `data: {"error": …}` is a failure, `"error": null` is not', () => {
    let { g } = scan('chat', 'data: {"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}\n\n');
    assert.equal(g.error?.cls, 'rate_limited');
    assert.equal(g.error?.status, 429);
    ({ g } = scan('chat', 'data: {"error":null,"choices":[{"delta":{"content":"x"}}]}\n\n'));
    assert.equal(g.error, undefined);
    assert.equal(g.outputStarted, true);
  });

  it('unknown events carry output (nothing unknown is held); comments and CRLF lines are fine', () => {
    const { g } = scan('responses', ': hi\r\n\r\nevent: response.output_item.added\r\ndata: {}\r\n\r\n');
    assert.equal(g.outputStarted, true);
  });

  it('an error event longer than the scan buffer is still recognised by its name', () => {
    const big = 'x'.repeat(3000);
    const g = new StreamIntegrity('responses');
    const s = new SseUsageScanner(1024, g);
    s.push(Buffer.from(`event: error\ndata: {"type":"error","message":"${big}"}`));
    s.push(Buffer.from('\n\n'));
    s.end();
    assert.equal(g.errorBeforeOutput, true);
    assert.equal(g.error?.source, 'error');
  });

  it('a walk stopped at the first output line and resumed reads the stream as one walk does, at every split', () => {
    const streams: Array<[WireFormat, string]> = [
      ['responses', ev('response.created', { type: 'response.created', response: { usage: null } }) +
        ev('response.output_text.delta', { type: 'response.output_text.delta', delta: 'x' }) +
        ev('response.completed', { type: 'response.completed', response: { usage: { input_tokens: 2, output_tokens: 3 } } })],
      ['responses', `data: ${JSON.stringify({ type: 'response.created' })}\r\n\r\n` +
        `data: ${JSON.stringify({ type: 'response.output_text.delta', delta: 'y' })}\r\n\r\n` +
        ev('error', { type: 'error', error: { type: 'server_error', message: 'boom' } })],
      ['anthropic', ev('message_start', { type: 'message_start', message: { usage: { input_tokens: 4, output_tokens: 1 } } }) +
        ev('ping', { type: 'ping' }) + ev('content_block_delta', { type: 'content_block_delta', delta: { text: 'hi' } }) +
        ev('message_delta', { type: 'message_delta', usage: { output_tokens: 9 } }) + ev('message_stop', { type: 'message_stop' })],
      ['chat', 'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\ndata: {"choices":[{"delta":{"content":"a"}}]}\n\n' +
        'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\ndata: [DONE]\n\n'],
    ];
    const state = (g: StreamIntegrity, s: SseUsageScanner): unknown =>
      ({ out: g.outputStarted, end: g.terminal, err: g.error?.cls, before: g.errorBeforeOutput, usage: s.usage });
    for (const [format, text] of streams) {
      const whole = scan(format, text, text.length);
      assert.equal(whole.g.outputStarted, true, text);
      const b = Buffer.from(text);
      // Fed whole, the walk stops inside the stream: just past the first output line.
      const read = new SseUsageScanner(undefined, new StreamIntegrity(format)).push(b, true);
      assert.ok(read < b.length && b[read - 1] === 0x0a, `${format}: stopped at ${read} of ${b.length}`);
      // Two and three pieces, with the default buffer and with one so small that long lines are cut down to their
      // tails: each time against the same pieces fed without stopping.
      const splits: number[][] = [];
      for (let cut = 0; cut <= b.length; cut++) splits.push([cut]);
      for (let cut = 1; cut < b.length; cut += 5) splits.push([cut, Math.min(b.length, cut + 9)]);
      for (const max of [undefined, 64]) {
        for (const cuts of splits) {
          const pieces = [0, ...cuts].map((from, k) => b.subarray(from, k < cuts.length ? cuts[k] : b.length));
          const plainG = new StreamIntegrity(format);
          const plain = new SseUsageScanner(max, plainG);
          for (const piece of pieces) plain.push(piece);
          plain.end();
          const g = new StreamIntegrity(format);
          const s = new SseUsageScanner(max, g);
          for (const piece of pieces) {
            const wasOut = g.outputStarted;
            const read = s.push(piece, true);
            if (read < piece.length) {
              // Stopped just past the line that started the output, and only there.
              assert.equal(wasOut, false);
              assert.equal(g.outputStarted, true);
              assert.equal(piece[read - 1], 0x0a);
              s.push(piece.subarray(read));
            } else assert.equal(read, piece.length);
          }
          s.end();
          const where = `${format}, buffer ${max ?? 'default'}, cuts at ${cuts.join('/')}`;
          assert.deepEqual(state(g, s), state(plainG, plain), where);
          if (max === undefined) assert.deepEqual(state(g, s), state(whole.g, whole.s), where);
        }
      }
    }
  });

  it('classifies error objects with the classes of HTTP failures', () => {
    const t = (type: string | undefined, code: string | undefined, message: string) => classifyErrorObject({ type, code, message }).cls;
    assert.equal(t('overloaded_error', undefined, 'Overloaded'), 'overloaded');
    assert.equal(t(undefined, 'server_is_overloaded', 'x'), 'overloaded');
    assert.equal(t('rate_limit_error', undefined, 'slow down'), 'rate_limited');
    assert.equal(t('insufficient_quota', 'insufficient_quota', 'You exceeded your current quota'), 'insufficient_quota');
    assert.equal(t('invalid_request_error', 'model_not_found', 'The model `x` does not exist'), 'model_not_available');
    assert.equal(t('invalid_request_error', 'context_length_exceeded', 'too long'), 'client_error_non_retryable');
    assert.equal(t('api_error', undefined, 'Internal server error'), 'server_error');
    assert.deepEqual(errorFieldsOf({ type: 'error', code: 'x', message: 'm' }), { type: undefined, code: 'x', message: 'm' });
    assert.equal(inBandErrorFromJson('{"id":"r1"}', 'body'), undefined);
    assert.equal(inBandErrorFromJson('not json', 'body'), undefined);
  });
});
