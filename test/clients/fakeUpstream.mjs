// A fake OpenAI Responses + Anthropic Messages upstream on 127.0.0.1:0 for the real-client acceptance run.
// The first path segment picks the behaviour, so one server can play several upstreams:
//   /ok/...          answers normally (SSE, events spaced `gapMs` apart)
//   /fail-always/... answers 502 every time
//   /fail-once/...   answers 502 the first time, then normally
//   /inband-overloaded/... answers 200 text/event-stream, an opening event, then an overloaded error before any
//                    output (Responses `response.failed`, Anthropic `event: error`), as overloaded providers do
// WebSocket upgrades are answered with `wsStatus` (or the socket is destroyed when wsStatus is 0), because
// what a refused upgrade looks like decides how fast Codex falls back to HTTP+SSE.
import { createServer } from 'node:http';

export const REPLY_TEXT = 'pong from mock';
/** Usage the fake sends, so the run can check what the proxy recorded. */
export const OPENAI_USAGE = { input_tokens: 123, cached: 23, output_tokens: 7, reasoning_tokens: 2, total_tokens: 130 };
export const ANTHROPIC_USAGE = { input_tokens: 321, cache_read: 11, cache_creation: 5, output_tokens_start: 1, output_tokens: 9 };

/** What `GET …/models` of a working upstream lists. */
export const FAKE_MODELS = { codex: ['gpt-fake-1', 'gpt-fake-2'], claude: ['claude-fake-1'] };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sse(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function streamResponses(req, res, model, gapMs) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'req_fake_1' });
  const created = Math.floor(Date.now() / 1000);
  const base = { id: 'resp_fake_1', object: 'response', created_at: created, model, output: [] };
  const item = { id: 'msg_fake_1', type: 'message', role: 'assistant' };
  const done = { ...item, status: 'completed', content: [{ type: 'output_text', text: REPLY_TEXT, annotations: [] }] };
  let seq = 0;
  const events = [
    ['response.created', { response: { ...base, status: 'in_progress' } }],
    ['response.in_progress', { response: { ...base, status: 'in_progress' } }],
    ['response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }],
    ['response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }],
    ['response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: 'pong ' }],
    ['response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: 'from mock' }],
    ['response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text: REPLY_TEXT }],
    ['response.output_item.done', { output_index: 0, item: done }],
    ['response.completed', { response: { ...base, status: 'completed', output: [done], usage: {
      input_tokens: OPENAI_USAGE.input_tokens,
      input_tokens_details: { cached_tokens: OPENAI_USAGE.cached },
      output_tokens: OPENAI_USAGE.output_tokens,
      output_tokens_details: { reasoning_tokens: OPENAI_USAGE.reasoning_tokens },
      total_tokens: OPENAI_USAGE.total_tokens,
    } } }],
  ];
  for (const [type, data] of events) {
    if (res.destroyed) return;
    sse(res, type, { type, sequence_number: seq++, ...data });
    await sleep(gapMs);
  }
  res.end();
}

async function streamMessages(req, res, model, gapMs) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_fake_2' });
  const events = [
    ['message_start', { message: { id: 'msg_fake_2', type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: { input_tokens: ANTHROPIC_USAGE.input_tokens,
        cache_read_input_tokens: ANTHROPIC_USAGE.cache_read, cache_creation_input_tokens: ANTHROPIC_USAGE.cache_creation,
        output_tokens: ANTHROPIC_USAGE.output_tokens_start } } }],
    ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', {}],
    ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'pong ' } }],
    ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'from mock' } }],
    ['content_block_stop', { index: 0 }],
    ['message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: ANTHROPIC_USAGE.output_tokens } }],
    ['message_stop', {}],
  ];
  for (const [type, data] of events) {
    if (res.destroyed) return;
    sse(res, type, { type, ...data });
    await sleep(gapMs);
  }
  res.end();
}

/** 200 + the opening event + an overloaded error, before any output. */
async function overloadedStream(res, url, model) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (/\/responses$/.test(url)) {
    const response = { id: 'resp_overloaded', object: 'response', created_at: Math.floor(Date.now() / 1000), model, output: [] };
    sse(res, 'response.created', { type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress' } });
    await sleep(20);
    sse(res, 'response.failed', { type: 'response.failed', sequence_number: 1, response: { ...response, status: 'failed',
      error: { code: 'server_is_overloaded', message: 'Our servers are currently overloaded. Please try again later.' } } });
  } else {
    sse(res, 'message_start', { type: 'message_start', message: { id: 'msg_overloaded', type: 'message', role: 'assistant', model,
      content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } });
    await sleep(20);
    sse(res, 'error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  }
  res.end();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const PICK_HEADERS = ['authorization', 'x-api-key', 'session-id', 'thread-id', 'x-claude-code-session-id', 'upgrade',
  'openai-beta', 'content-type', 'accept'];

/** Starts the fake upstream. `log` collects one entry per request (secrets are replaced by their length). */
export async function startFakeUpstream({ gapMs = 50, wsStatus = 426 } = {}) {
  const log = [];
  const failedOnce = new Set();
  const server = createServer();
  const record = (req, extra) => {
    const headers = {};
    for (const h of PICK_HEADERS) {
      const v = req.headers[h];
      if (v === undefined) continue;
      headers[h] = h === 'authorization' || h === 'x-api-key' ? `<${String(v).length} chars>` : v;
    }
    const entry = { at: Date.now(), method: req.method, url: req.url, mode: (req.url ?? '/').split('/')[1] ?? '', headers, ...extra };
    log.push(entry);
    return entry;
  };
  server.on('request', async (req, res) => {
    let body;
    try {
      body = await readBody(req);
    } catch {
      return;
    }
    const entry = record(req, { bytes: body.length });
    const url = req.url ?? '/';
    if (req.method === 'HEAD') {
      res.writeHead(200);
      return res.end();
    }
    const failing = entry.mode === 'fail-always' || (entry.mode === 'fail-once' && !failedOnce.has(url.split('?')[0]));
    if (entry.mode === 'fail-once') failedOnce.add(url.split('?')[0]);
    if (failing) {
      const text = JSON.stringify({ error: { message: 'fake upstream: bad gateway on purpose', type: 'server_error' } });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      return res.end(text);
    }
    let json = {};
    try {
      json = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      /* keep {} */
    }
    const model = typeof json.model === 'string' ? json.model : 'fake-model';
    entry.effort = json.reasoning?.effort ?? json.output_config?.effort;
    if (req.method === 'POST' && entry.mode === 'inband-overloaded') return overloadedStream(res, url.split('?')[0], model);
    if (req.method === 'POST' && /\/responses$/.test(url.split('?')[0])) return streamResponses(req, res, model, gapMs);
    if (req.method === 'POST' && /\/messages$/.test(url.split('?')[0])) return streamMessages(req, res, model, gapMs);
    if (req.method === 'GET' && /\/models$/.test(url.split('?')[0])) {
      // The provider's own model list, in the shape of the API the path belongs to.
      const anthropic = !!req.headers['anthropic-version'];
      const text = JSON.stringify(anthropic
        ? { data: FAKE_MODELS.claude.map((id) => ({ type: 'model', id, display_name: id.toUpperCase(), created_at: '2025-01-01T00:00:00Z' })), has_more: false }
        : { object: 'list', data: FAKE_MODELS.codex.map((id) => ({ id, object: 'model', created: 1, owned_by: 'fake' })) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      return res.end(text);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `fake upstream: no route ${req.method} ${url}` } }));
  });
  server.on('upgrade', (req, socket) => {
    record(req, { ws: true, answered: wsStatus });
    socket.on('error', () => {});
    if (wsStatus === 0) return socket.destroy();
    const text = JSON.stringify({ error: { message: 'fake upstream: no WebSocket here', type: 'invalid_request_error' } });
    socket.end(`HTTP/1.1 ${wsStatus} No WebSocket\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
      `connection: close\r\n\r\n${text}`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log,
    setWsStatus(s) {
      wsStatus = s;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
