// Mock upstream for the benchmark: OpenAI Responses (`/v1/responses`) and Anthropic Messages (`/v1/messages`),
// JSON or SSE. The query string shapes the answer so direct, proxied and nginx runs hit identical work:
//   ?sse=N      stream N events (0 or absent: one JSON answer)
//   &gap=MS     milliseconds between events (0: written back-to-back in one burst)
//   &size=B     payload bytes per delta event (default 64)
//   &open=1     start with the content-free opening events (response.created + response.in_progress, or
//               message_start + ping), the first output event following one gap later
//   &instr=B    with open=1: the opening events carry B bytes of instructions, as the Responses API repeats a
//               request's instructions (and tools: ~9 KB for Codex) in response.created and response.in_progress
// Bodies are always read to the end (as a real upstream does) and never parsed. Answers are built once per shape.
// Run as a child process: prints `mock listening on <port>` and serves until SIGTERM; on the message
// {cmd:'closeIdle'} it closes idle keep-alive sockets (used by the leak check) and answers {ok:true}.
import { createServer } from 'node:http';

const cache = new Map();

function responsesJson() {
  const text = 'x'.repeat(1200);
  return Buffer.from(JSON.stringify({
    id: 'resp_bench', object: 'response', created_at: 1700000000, status: 'completed', model: 'gpt-5',
    output: [{ type: 'message', id: 'msg_bench', role: 'assistant', status: 'completed',
      content: [{ type: 'output_text', text, annotations: [] }] }],
    usage: { input_tokens: 512, input_tokens_details: { cached_tokens: 128 }, output_tokens: 300,
      output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 812 },
  }));
}

function messagesJson() {
  const text = 'x'.repeat(1200);
  return Buffer.from(JSON.stringify({
    id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
    content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 512, cache_creation_input_tokens: 0, cache_read_input_tokens: 128, output_tokens: 300 },
  }));
}

function sseEvent(name, data) {
  return Buffer.from(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The list of SSE frames for `n` events: deltas then a final event carrying usage. */
function sseFrames(kind, n, size, open, instr = 0) {
  const delta = 'y'.repeat(size);
  const frames = [];
  if (open && kind === 'messages') {
    // message_start is already the first frame; the ping goes with it, as one opening burst.
    const [start, ...rest] = sseFrames(kind, n, size, false);
    return [Buffer.concat([start, sseEvent('ping', { type: 'ping' })]), ...rest];
  }
  if (open) {
    const sentence = 'You are a coding agent: read the repository, make the change, mind your token usage. ';
    const instructions = instr > 0 ? sentence.repeat(Math.ceil(instr / sentence.length)).slice(0, instr) : undefined;
    const response = { id: 'resp_bench', object: 'response', status: 'in_progress', model: 'gpt-5', instructions,
      output: [], usage: null };
    frames.push(Buffer.concat([sseEvent('response.created', { type: 'response.created', response }),
      sseEvent('response.in_progress', { type: 'response.in_progress', response })]));
  }
  if (kind === 'messages') {
    frames.push(sseEvent('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message',
      role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 512, output_tokens: 1 } } }));
    for (let i = 1; i < n - 1; i++) {
      frames.push(sseEvent('content_block_delta', { type: 'content_block_delta', index: 0,
        delta: { type: 'text_delta', text: delta } }));
    }
    // message_delta and message_stop in one frame: a stream without its terminal event is a failed stream.
    frames.push(Buffer.concat([sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 300 } }), sseEvent('message_stop', { type: 'message_stop' })]));
  } else {
    for (let i = 0; i < n - 1; i++) {
      frames.push(sseEvent('response.output_text.delta', { type: 'response.output_text.delta', item_id: 'msg_bench',
        output_index: 0, content_index: 0, delta }));
    }
    frames.push(sseEvent('response.completed', { type: 'response.completed', response: { id: 'resp_bench',
      status: 'completed', usage: { input_tokens: 512, output_tokens: 300, total_tokens: 812 } } }));
  }
  return frames;
}

function shape(url) {
  let s = cache.get(url);
  if (s) return s;
  const u = new URL(url, 'http://mock');
  const kind = u.pathname.endsWith('/messages') ? 'messages' : 'responses';
  const n = Number(u.searchParams.get('sse') ?? 0);
  const gap = Number(u.searchParams.get('gap') ?? 0);
  const size = Number(u.searchParams.get('size') ?? 64);
  if (n > 0) {
    const frames = sseFrames(kind, Math.max(n, 2), size, u.searchParams.get('open') === '1',
      Number(u.searchParams.get('instr') ?? 0));
    s = { sse: true, gap, frames, burst: Buffer.concat(frames) };
  } else {
    s = { sse: false, body: kind === 'messages' ? messagesJson() : responsesJson() };
  }
  if (cache.size < 256) cache.set(url, s);
  return s;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

function serve(req, res) {
  const s = shape(req.url ?? '/');
  req.on('data', () => {});
  req.on('end', () => {
    if (!s.sse) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': s.body.length });
      res.end(s.body);
      return;
    }
    res.writeHead(200, SSE_HEADERS);
    if (s.gap <= 0) {
      res.end(s.burst);
      return;
    }
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      res.write(s.frames[i++]);
      if (i >= s.frames.length) res.end();
      else setTimeout(next, s.gap);
    };
    next();
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, serve);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`mock listening on ${server.address().port}\n`);
});
process.on('message', (m) => {
  if (m?.cmd === 'closeIdle') {
    server.closeIdleConnections();
    process.send?.({ ok: true });
  }
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
