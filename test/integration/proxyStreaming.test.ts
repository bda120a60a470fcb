import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { call, json, sse, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

function config(service: 'codex' | 'claude', urls: string[]): string {
  let out = `version = 1\n[${service}]\nactive = "main"\n[${service}.configs.main]\n`;
  for (const u of urls) out += `[[${service}.configs.main.upstreams]]\nbase_url = "${u}"\n`;
  return out + '[retry.upstream]\nbackoff_ms = 1\njitter_ms = 0\n';
}

const RESPONSES_EVENTS = [
  'event: response.created\ndata: {"type":"response.created","response":{"id":"r1","usage":null}}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"po"}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"ng"}\n\n',
  'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1","usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":19}}}\n\n',
];

/** Opens a streaming request and reports each chunk with its arrival time. */
function openStream(url: string, body: string, headers: Record<string, string>): Promise<{ res: IncomingMessage; chunks: Array<{ at: number; text: string }>; done: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Array<{ at: number; text: string }> = [];
      const done = new Promise<void>((r) => {
        res.on('data', (c: Buffer) => chunks.push({ at: Date.now(), text: c.toString() }));
        res.on('end', () => r());
        res.on('error', () => r());
        res.on('close', () => r());
      });
      resolve({ res, chunks, done });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('proxy streaming (SSE through, usage, aborts, mid-stream failures)', () => {
  const ups: FakeUpstream[] = [];
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await Promise.all(ups.splice(0).map((u) => u.close()));
  });

  it('forwards each SSE event as it arrives (no coalescing) and counts Responses usage with cached and reasoning tokens', async () => {
    const sentAt: number[] = [];
    const up = await startUpstream(async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of RESPONSES_EVENTS) {
        sentAt.push(Date.now());
        res.write(e);
        await new Promise((r) => setTimeout(r, 150));
      }
      res.end();
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url + '/v1']));
    const s = await openStream(`${proxy.url()}/v1/responses`, JSON.stringify({ model: 'gpt-5', stream: true, input: [] }), {
      accept: 'text/event-stream', 'content-type': 'application/json', 'session-id': 'sess-stream',
    });
    await s.done;
    assert.equal(s.chunks.map((c) => c.text).join(''), RESPONSES_EVENTS.join(''));
    // The first event reached the client long before the upstream sent the last one.
    assert.ok(s.chunks[0]!.at < sentAt[sentAt.length - 1]!, 'first chunk was not held back');
    assert.ok(s.chunks.length >= RESPONSES_EVENTS.length - 1, `events arrived separately (${s.chunks.length} chunks)`);
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    const rec = proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.deepEqual(
      { i: rec.usage?.input_tokens, o: rec.usage?.output_tokens, r: rec.usage?.reasoning_tokens, c: rec.usage?.cached_input_tokens, t: rec.usage?.total_tokens },
      { i: 12, o: 7, r: 3, c: 4, t: 19 },
    );
    assert.ok(rec.ttfb_ms !== undefined && rec.ttfb_ms < 140, `ttfb ${rec.ttfb_ms}`);
    assert.equal(rec.session_id, 'sess-stream');
  });

  it('streams Claude Code answers although it sends accept: application/json, and merges Anthropic usage (seed defect)', async () => {
    const events = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","usage":{"input_tokens":30,"cache_read_input_tokens":20,"cache_creation_input_tokens":5,"output_tokens":1}}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"pong"}}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ];
    const up = await startUpstream((_q, res) => sse(res, events, 60));
    ups.push(up);
    proxy = await startProxy(config('claude', [up.url]), { services: ['claude'] });
    const s = await openStream(`${proxy.url('claude')}/v1/messages?beta=true`, JSON.stringify({ model: 'claude-x', stream: true, messages: [] }), {
      accept: 'application/json', 'content-type': 'application/json', 'x-claude-code-session-id': 'cc-1', 'x-api-key': 'sk-client',
    });
    assert.match(String(s.res.headers['content-type']), /text\/event-stream/);
    await s.done;
    assert.equal(s.chunks.map((c) => c.text).join(''), events.join(''));
    assert.ok(s.chunks.length >= 3);
    assert.equal(up.requests[0]!.url, '/v1/messages?beta=true');
    assert.equal(up.requests[0]!.headers['x-api-key'], 'sk-client');
    await until(() => proxy!.host.services.claude.state.listRecent(1).length === 1);
    const u = proxy.host.services.claude.state.listRecent(1)[0]!.usage!;
    assert.equal(u.input_tokens, 30);
    assert.equal(u.output_tokens, 9);
    assert.equal(u.cached_input_tokens, 20);
    assert.equal(u.cache_creation_input_tokens, 5);
    assert.equal(proxy.host.services.claude.state.sessionStats()['cc-1']?.turns_total, 1);
  });

  it('a streamed success after a retry has the same retry chain as a buffered one (seed defect)', async () => {
    const up = await startUpstream((_q, res, _b, n) => (n === 1 ? json(res, 502, { error: 'x' }) : sse(res, RESPONSES_EVENTS)));
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]));
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}', headers: { accept: 'text/event-stream' } });
    assert.equal(r.text, RESPONSES_EVENTS.join(''));
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    const retry = proxy.host.services.codex.state.listRecent(1)[0]!.retry!;
    assert.equal(retry.attempts, 2);
    assert.match(retry.upstream_chain[0]!, /status=502/);
    assert.match(retry.upstream_chain[1]!, /status=200/);
  });

  it('counts usage of an event stream labelled application/json, and of a JSON answer whose text holds "data:" lines', async () => {
    const answers = [
      // A relay that streams SSE under a JSON content type.
      { ctype: 'application/json', body: RESPONSES_EVENTS.join('') },
      // A JSON answer whose output text quotes SSE lines (escaped newlines: still one JSON object).
      { ctype: 'application/json', body: JSON.stringify({ id: 'r2', output_text: 'see:\ndata: {"usage":1}\n', usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 } }) },
    ];
    let n = 0;
    const up = await startUpstream((_q, res) => {
      const a = answers[n++]!;
      res.writeHead(200, { 'content-type': a.ctype, 'content-length': Buffer.byteLength(a.body) });
      res.end(a.body);
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url + '/v1']));
    for (const a of answers) {
      const r = await call(`${proxy.url()}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: [] }), headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 200);
      assert.equal(r.text, a.body, 'the answer goes through unchanged');
    }
    await until(() => proxy!.host.services.codex.state.listRecent(2).length === 2);
    const [second, first] = proxy.host.services.codex.state.listRecent(2);
    assert.deepEqual([first!.usage?.input_tokens, first!.usage?.output_tokens], [12, 7]);
    assert.deepEqual([second!.usage?.input_tokens, second!.usage?.output_tokens], [5, 2]);
  });

  it('finds usage at the end of a stream larger than 1 MB', async () => {
    const filler = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"' + 'x'.repeat(8000) + '"}\n\n';
    const up = await startUpstream((_q, res) => sse(res, [...Array(160).fill(filler), RESPONSES_EVENTS[3]!]));
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]));
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}', headers: { accept: 'text/event-stream' } });
    assert.ok(r.body.length > 1_200_000);
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    assert.equal(proxy.host.services.codex.state.listRecent(1)[0]!.usage?.total_tokens, 19);
  });

  it('holds the upstream back while its client does not read, then delivers every byte and the usage', async () => {
    // 48 MB of events, written as fast as the upstream's socket takes them: far more than the sockets and buffers
    // between the two ends hold, so an upstream that still gets to write them all was read into memory by the proxy.
    const event = Buffer.from('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"' + 'x'.repeat(64 * 1024) + '"}\n\n');
    const count = 768;
    const total = event.length * count + Buffer.byteLength(RESPONSES_EVENTS[3]!);
    let written = 0;
    const up = await startUpstream(async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < count; i++) {
        written += event.length;
        if (!res.write(event)) await new Promise((r) => res.once('drain', r));
      }
      written += Buffer.byteLength(RESPONSES_EVENTS[3]!);
      res.end(RESPONSES_EVENTS[3]);
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]));
    const got = await new Promise<{ res: IncomingMessage; held: number }>((resolve, reject) => {
      const req = httpRequest(`${proxy!.url()}/v1/responses`, { method: 'POST', headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
        res.pause();
        // The client reads nothing for a while: the upstream must stop, with most of the answer still unwritten.
        setTimeout(() => resolve({ res, held: written }), 400);
      });
      req.on('error', reject);
      req.end('{"model":"m"}');
    });
    assert.ok(got.held < total / 2, `the upstream wrote ${got.held} of ${total} bytes while the client read nothing`);
    let size = 0;
    let tail = '';
    await new Promise<void>((resolve, reject) => {
      got.res.on('data', (c: Buffer) => {
        size += c.length;
        tail = (tail + c.toString('latin1')).slice(-400);
      });
      got.res.on('end', resolve);
      got.res.on('error', reject);
      got.res.resume();
    });
    assert.equal(size, total);
    assert.ok(tail.endsWith(RESPONSES_EVENTS[3]!));
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    const row = proxy.host.services.codex.state.listRecent(1)[0]!;
    assert.equal(row.status_code, 200);
    assert.equal(row.error_class, undefined);
    assert.equal(row.usage?.total_tokens, 19);
  });

  it('aborts the upstream request at once when the client goes away', async () => {
    let upstreamClosed = false;
    const up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(RESPONSES_EVENTS[0]);
      req.socket.on('close', () => (upstreamClosed = true));
      // never ends
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]));
    const ac = new AbortController();
    const p = call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}', headers: { accept: 'text/event-stream' }, signal: ac.signal }).catch(() => undefined);
    await until(() => up.requests.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await p;
    await until(() => upstreamClosed, 2000, 'upstream socket closed');
    await until(() => proxy!.host.services.codex.state.listActive().length === 0, 2000, 'request finished');
    assert.equal(proxy.host.services.codex.state.listRecent(1)[0]!.error_class, 'client_disconnected');
  });

  it('aborts a hanging upstream when the client goes away before any answer', async () => {
    let upstreamClosed = false;
    const up = await startUpstream((req) => {
      req.socket.on('close', () => (upstreamClosed = true));
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]));
    const ac = new AbortController();
    const p = call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}', signal: ac.signal }).catch(() => undefined);
    await until(() => up.requests.length === 1);
    ac.abort();
    await p;
    await until(() => upstreamClosed, 2000, 'upstream socket closed');
    await until(() => proxy!.host.services.codex.state.listActive().length === 0, 2000, 'request finished');
  });

  it('a mid-stream upstream reset ends the client stream with an error event and counts as a failure of that upstream', async () => {
    const up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(RESPONSES_EVENTS[0]);
      res.write(RESPONSES_EVENTS[1]);
      setTimeout(() => req.socket.destroy(), 50);
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]));
    const s = await openStream(`${proxy.url()}/v1/responses`, '{"model":"m"}', { accept: 'text/event-stream' });
    await s.done;
    const text = s.chunks.map((c) => c.text).join('');
    assert.ok(text.startsWith(RESPONSES_EVENTS[0]! + RESPONSES_EVENTS[1]!));
    assert.match(text, /event: response\.failed/);
    await until(() => proxy!.host.services.codex.state.listRecent(1).length === 1);
    assert.equal(proxy.host.services.codex.state.listRecent(1)[0]!.error_class, 'upstream_stream_error');
    const v = proxy.host.services.codex.lbStore.view()['main']!.upstreams[0]!;
    assert.ok((v.cooldown_remaining_secs ?? 0) > 0, 'penalized');
  });

  it('proxies a WebSocket upgrade on /v1/responses to the upstream', async () => {
    const up = await startUpstream((_q, res) => json(res, 404, {}));
    ups.push(up);
    let seenPath = '';
    let seenAuth = '';
    // A bare upgrade responder: 101, then echo.
    const { createServer } = await import('node:http');
    const ws = createServer();
    ws.on('upgrade', (req, socket) => {
      seenPath = req.url ?? '';
      seenAuth = String(req.headers['authorization'] ?? '');
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
    const port = (ws.address() as { port: number }).port;
    proxy = await startProxy(config('codex', [`http://127.0.0.1:${port}/v1`]));
    const proxyPort = Number(new URL(proxy.url()).port);
    const sock = connect(proxyPort, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write('GET /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nauthorization: Bearer k\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await until(() => Buffer.concat(got).toString().includes('101 Switching Protocols'));
    sock.write('hello-frame');
    await until(() => Buffer.concat(got).toString().includes('hello-frame'));
    assert.equal(seenPath, '/v1/responses');
    assert.equal(seenAuth, 'Bearer k');
    sock.destroy();
    ws.close();
  });

  it('refuses a WebSocket upgrade at once when the upstream is unreachable, so the client falls back', async () => {
    const dead = await startUpstream(() => undefined);
    const url = dead.url;
    await dead.close();
    proxy = await startProxy(config('codex', [url]));
    const proxyPort = Number(new URL(proxy.url()).port);
    const t0 = Date.now();
    const sock = connect(proxyPort, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write('GET /v1/responses HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    await until(() => Buffer.concat(got).toString().includes('426'));
    assert.ok(Date.now() - t0 < 1500);
    sock.destroy();
  });
});
