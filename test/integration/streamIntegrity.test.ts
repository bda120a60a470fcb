// Stream integrity, per wire format × phase: an in-band error (or a cut) before any output fails over invisibly;
// one after output is a recorded failure with a cooldown; a JSON 200 error body fails over; the hold is bounded.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { ServerResponse } from 'node:http';
import { call, json, sse, startProxy, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';
import type { FinishedRequest, ServiceName } from '../../src/core/types';

interface Format {
  name: string;
  service: ServiceName;
  path: string;
  opening: string[];
  output: string[];
  terminal: string[];
  error: string;
  errorClass: string;
  /** Text of the upstream's message that the record must carry. */
  errorText: RegExp;
  /** How the proxy's own terminal error event starts in this format. */
  proxyError: RegExp;
}

const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const FORMATS: Format[] = [
  {
    name: 'Responses',
    service: 'codex',
    path: '/v1/responses',
    opening: [ev('response.created', { type: 'response.created', response: { id: 'r1', status: 'in_progress' } }),
      ev('response.in_progress', { type: 'response.in_progress', response: { id: 'r1' } })],
    output: [ev('response.output_text.delta', { type: 'response.output_text.delta', delta: 'hel' }),
      ev('response.output_text.delta', { type: 'response.output_text.delta', delta: 'lo' })],
    terminal: [ev('response.completed', { type: 'response.completed', response: { id: 'r1', usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 } } })],
    error: ev('response.failed', { type: 'response.failed', response: { id: 'r1', status: 'failed',
      error: { code: 'server_is_overloaded', message: 'Our servers are currently overloaded. Please try again later.' } } }),
    errorClass: 'overloaded',
    errorText: /currently overloaded/,
    proxyError: /^event: response\.failed\ndata: \{"type":"response\.failed"/,
  },
  {
    name: 'Anthropic Messages',
    service: 'claude',
    path: '/v1/messages',
    opening: [ev('message_start', { type: 'message_start', message: { id: 'm1', usage: { input_tokens: 5, output_tokens: 1 } } }),
      ev('ping', { type: 'ping' })],
    output: [ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hello' } })],
    terminal: [ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }),
      ev('message_stop', { type: 'message_stop' })],
    error: ev('error', { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } }),
    errorClass: 'rate_limited',
    errorText: /per-minute rate limit/,
    proxyError: /^event: error\ndata: \{"type":"error","error":\{"type":"api_error"/,
  },
  {
    name: 'Chat Completions',
    service: 'codex',
    path: '/v1/chat/completions',
    opening: [': keep-alive\n\n', chunk({ role: 'assistant', content: '' })],
    output: [chunk({ content: 'hel' }), chunk({ content: 'lo' })],
    terminal: [chunk({}, 'stop'), `data: ${JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`, 'data: [DONE]\n\n'],
    error: `data: ${JSON.stringify({ error: { message: 'The upstream server had an error processing your request', type: 'server_error', code: null } })}\n\n`,
    errorClass: 'server_error',
    errorText: /had an error processing/,
    proxyError: /^data: \{"error":\{"message":"upstream stream incomplete/,
  },
];

function config(service: ServiceName, urls: string[], extra = ''): string {
  let out = `version = 1\n[${service}]\nactive = "main"\n[${service}.configs.main]\n`;
  for (const u of urls) out += `[[${service}.configs.main.upstreams]]\nbase_url = "${u}"\n`;
  return out + `[retry]\n${extra}[retry.upstream]\nbackoff_ms = 1\njitter_ms = 0\n`;
}

function requestBody(f: Format): string {
  return JSON.stringify(f.service === 'claude' ? { model: 'claude-x', stream: true, messages: [] } : { model: 'gpt-x', stream: true, input: [] });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs `body` as JSON and returns the answer's body chunks as they arrived, each with its ms since the request. */
function timedChunks(url: string, body: string): Promise<Array<{ at: number; bytes: Buffer }>> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Array<{ at: number; bytes: Buffer }> = [];
      res.on('data', (c: Buffer) => chunks.push({ at: Date.now() - t0, bytes: c }));
      res.on('end', () => resolve(chunks));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes `events` as one SSE answer, `gapMs` apart, then ends (or destroys the socket when `cut`). */
async function stream(res: ServerResponse, events: string[], gapMs = 5): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) {
    res.write(e);
    await sleep(gapMs);
  }
  res.end();
}

describe('stream integrity (in-band errors, cut streams, held opening events)', function () {
  this.timeout(15000);
  const ups: FakeUpstream[] = [];
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await Promise.all(ups.splice(0).map((u) => u.close()));
  });

  async function lastRecord(service: ServiceName, n = 1): Promise<FinishedRequest> {
    await until(() => proxy!.host.services[service].state.listRecent(n).length >= n);
    return proxy!.host.services[service].state.listRecent(1)[0]!;
  }

  function upstreamView(service: ServiceName, i: number) {
    return proxy!.host.services[service].lbStore.view()['main']!.upstreams[i]!;
  }

  /** Seconds of cooldown on upstream `i`: of the upstream, or of the request's model there (a rate limit). */
  function cooling(service: ServiceName, i: number): number {
    const v = upstreamView(service, i);
    return Math.max(v.cooldown_remaining_secs ?? 0, ...(v.model_cooldowns ?? []).map((m) => m.remaining_secs));
  }

  for (const f of FORMATS) {
    const good = [...f.opening, ...f.output, ...f.terminal];
    const send = () => call(`${proxy!.url(f.service)}${f.path}`, {
      body: requestBody(f), headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    });

    describe(f.name, () => {
      it('an error before any output fails over invisibly: the client sees one clean stream from the upstream that worked', async () => {
        const bad = await startUpstream((_q, res) => stream(res, [...f.opening, f.error]));
        const ok = await startUpstream((_q, res) => stream(res, good));
        ups.push(bad, ok);
        proxy = await startProxy(config(f.service, [bad.url, ok.url]), { services: [f.service] });
        const r = await send();
        assert.equal(r.status, 200);
        assert.equal(r.text, good.join(''), 'nothing of the failed upstream reached the client');
        assert.equal(ok.requests.length, 1);
        const rec = await lastRecord(f.service);
        assert.equal(rec.status_code, 200);
        assert.equal(rec.error_class, undefined);
        assert.match(rec.route_note ?? '', new RegExp(`failed over from main#0 \\(${f.errorClass}\\)`));
        assert.ok(rec.retry!.upstream_chain.some((c) => c.includes(`class=${f.errorClass} in_band=`)), rec.retry!.upstream_chain.join(' | '));
        assert.equal(rec.usage?.total_tokens, 7);
        assert.ok(cooling(f.service, 0) > 0, 'the failed upstream cools down');
      });

      it('an error before output that arrives in one write with output after it still fails over invisibly', async () => {
        const bad = await startUpstream((_q, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end([...f.opening, f.error, ...f.output, ...f.terminal].join(''));
        });
        const ok = await startUpstream((_q, res) => stream(res, good));
        ups.push(bad, ok);
        proxy = await startProxy(config(f.service, [bad.url, ok.url]), { services: [f.service] });
        const r = await send();
        assert.equal(r.text, good.join(''), 'nothing of the failed upstream reached the client');
        const rec = await lastRecord(f.service);
        assert.equal(rec.error_class, undefined);
        assert.match(rec.route_note ?? '', new RegExp(`failed over from main#0 \\(${f.errorClass}\\)`));
        assert.equal(rec.usage?.total_tokens, 7);
      });

      it('an error after output started is forwarded as sent and recorded as a failure with a cooldown', async () => {
        const bad = await startUpstream((_q, res) => stream(res, [...f.opening, ...f.output, f.error]));
        const ok = await startUpstream((_q, res) => stream(res, good));
        ups.push(bad, ok);
        proxy = await startProxy(config(f.service, [bad.url, ok.url]), { services: [f.service] });
        const r = await send();
        assert.equal(r.text, [...f.opening, ...f.output, f.error].join(''), 'the upstream\'s error event reaches the client as sent');
        assert.equal(ok.requests.length, 0, 'nothing is retried once output reached the client');
        const rec = await lastRecord(f.service);
        assert.equal(rec.status_code, 200);
        assert.equal(rec.error_class, f.errorClass);
        assert.match(rec.error_message ?? '', f.errorText);
        if (f.service === 'claude') assert.equal(rec.usage?.input_tokens, 5, 'usage of the partial stream is counted');
        assert.ok(cooling(f.service, 0) > 0, 'cooled down');
        if (f.errorClass === 'rate_limited') assert.equal(upstreamView(f.service, 0).model_cooldowns?.[0]?.model, 'claude-x', 'a rate limit cools only that model');
        // The next request goes to the healthy upstream.
        const r2 = await send();
        assert.equal(r2.text, good.join(''));
        assert.equal(ok.requests.length, 1);
        assert.equal(bad.requests.length, 1);
      });

      it('an answer whose output and error arrive together (one write) still leaves its upstream cooling, not marked good', async () => {
        // Where an answer was served is recorded at the end of the turn; a failure found in the same turn must not be
        // overwritten by that success.
        const bad = await startUpstream((_q, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end([...f.opening, ...f.output, f.error].join(''));
        });
        const ok = await startUpstream((_q, res) => stream(res, good));
        ups.push(bad, ok);
        proxy = await startProxy(config(f.service, [bad.url, ok.url]), { services: [f.service] });
        const r = await send();
        assert.equal(r.text, [...f.opening, ...f.output, f.error].join(''));
        const rec = await lastRecord(f.service);
        assert.equal(rec.error_class, f.errorClass);
        assert.ok(cooling(f.service, 0) > 0, 'cooled down');
        assert.equal((await send()).text, good.join(''));
        assert.equal(bad.requests.length, 1);
      });

      it('a stream cut after output without its terminal event gets the proxy\'s terminal error event and counts as a failure', async () => {
        const bad = await startUpstream((_q, res) => stream(res, [...f.opening, ...f.output]));
        ups.push(bad);
        proxy = await startProxy(config(f.service, [bad.url]), { services: [f.service] });
        const r = await send();
        const sent = [...f.opening, ...f.output].join('');
        assert.ok(r.text.startsWith(sent));
        assert.match(r.text.slice(sent.length), f.proxyError);
        const rec = await lastRecord(f.service);
        assert.equal(rec.error_class, 'upstream_stream_error');
        assert.match(rec.error_message ?? '', /without its terminal event/);
        if (f.service === 'claude') assert.equal(rec.usage?.input_tokens, 5, 'usage of the partial stream is counted');
        assert.ok((upstreamView(f.service, 0).cooldown_remaining_secs ?? 0) > 0);
      });

      it('a stream that ends or breaks before any output is failed over invisibly', async () => {
        let n = 0;
        const bad = await startUpstream(async (_q, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(f.opening[0]!);
          await sleep(10);
          // First a clean end without output, then a reset.
          if (n++ === 0) res.end();
          else res.socket?.destroy();
        });
        const ok = await startUpstream((_q, res) => stream(res, good));
        ups.push(bad, ok);
        proxy = await startProxy(config(f.service, [bad.url, ok.url]), { services: [f.service] });
        const r = await send();
        assert.equal(r.text, good.join(''));
        assert.equal(bad.requests.length, 2, 'retried on the same upstream once (upstream layer), then failed over');
        const rec = await lastRecord(f.service);
        assert.equal(rec.error_class, undefined);
        assert.ok(rec.retry!.upstream_chain.filter((c) => c.includes('stream_cut=')).length === 2, rec.retry!.upstream_chain.join(' | '));
      });

      it('with nowhere left to go, an error before output is passed through as the upstream sent it', async () => {
        const bad = await startUpstream((_q, res) => stream(res, [...f.opening, f.error]));
        ups.push(bad);
        proxy = await startProxy(config(f.service, [bad.url]), { services: [f.service] });
        const r = await send();
        assert.equal(r.status, 200);
        assert.equal(r.text, [...f.opening, f.error].join(''));
        const rec = await lastRecord(f.service);
        assert.equal(rec.error_class, f.errorClass);
        assert.match(rec.error_message ?? '', f.errorText);
      });
    });
  }

  it('a JSON 200 whose body is an error object fails over; with nowhere to go it is passed through and recorded', async () => {
    const errBody = { error: { message: 'Our servers are currently overloaded.', type: 'server_error', code: 'server_is_overloaded' } };
    const bad = await startUpstream((_q, res) => json(res, 200, errBody));
    const ok = await startUpstream((_q, res) => json(res, 200, { id: 'r2', output: [], usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 } }));
    ups.push(bad, ok);
    proxy = await startProxy(config('codex', [bad.url, ok.url]), { services: ['codex'] });
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m","input":[]}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { id: 'r2', output: [], usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 } });
    const rec = await lastRecord('codex');
    assert.match(rec.route_note ?? '', /failed over from main#0 \(overloaded\)/);
    assert.equal(rec.usage?.total_tokens, 4);

    const lone = await startProxy(config('codex', [bad.url]), { services: ['codex'] });
    try {
      const r2 = await call(`${lone.url()}/v1/responses`, { body: '{"model":"m","input":[]}', headers: { 'content-type': 'application/json' } });
      assert.equal(r2.status, 200);
      assert.deepEqual(r2.json(), errBody);
      await until(() => lone.host.services.codex.state.listRecent(1).length === 1);
      const rec2 = lone.host.services.codex.state.listRecent(1)[0]!;
      assert.equal(rec2.error_class, 'overloaded');
      assert.match(rec2.error_message ?? '', /server_is_overloaded: Our servers are currently overloaded/);
    } finally {
      await lone.close();
    }
  });

  it('a JSON 200 success that merely mentions "error" is forwarded untouched', async () => {
    const body = { id: 'r1', error: null, output: [{ type: 'message', content: [{ type: 'output_text', text: '{"error":"x"}' }] }] };
    const up = await startUpstream((_q, res) => json(res, 200, body));
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]), { services: ['codex'] });
    const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' });
    assert.deepEqual(r.json(), body);
    assert.equal((await lastRecord('codex')).error_class, undefined);
  });

  it('an opening held over several chunks (Codex-sized, "usage": null) goes out whole with the first output; usage is counted', async () => {
    const instructions = 'Mind the token usage of every tool call. '.repeat(700);
    const response = { id: 'r1', status: 'in_progress', instructions, tools: [], usage: null };
    const opening = [ev('response.created', { type: 'response.created', response }),
      ev('response.in_progress', { type: 'response.in_progress', response })];
    const rest = [ev('response.output_text.delta', { type: 'response.output_text.delta', delta: 'hi' }),
      ev('response.completed', { type: 'response.completed', response: { id: 'r1', usage: { input_tokens: 11, output_tokens: 3, total_tokens: 14 } } })];
    const up = await startUpstream(async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of opening) {
        res.write(e);
        await sleep(30);
      }
      for (const e of rest) res.write(e);
      res.end();
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url], 'hold_preamble_ms = 5000\nhold_preamble_bytes = 1048576\n'), { services: ['codex'] });
    const got = await timedChunks(`${proxy.url()}/v1/responses`, requestBody(FORMATS[0]!));
    // Nothing before the output (the opening was held through both gaps), then every byte as the upstream sent it.
    assert.ok(got[0]!.at >= 55, `first bytes at ${got[0]!.at} ms`);
    assert.ok(Buffer.concat(got.map((c) => c.bytes)).equals(Buffer.from([...opening, ...rest].join(''))));
    const rec = await lastRecord('codex');
    assert.equal(rec.status_code, 200);
    assert.equal(rec.usage?.total_tokens, 14);
    assert.equal(rec.usage?.input_tokens, 11);
  });

  it('past the time bound the opening is flushed and streamed as today', async () => {
    const f = FORMATS[0]!;
    const up = await startUpstream(async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(f.opening[0]!);
      await sleep(600);
      for (const e of [...f.output, ...f.terminal]) res.write(e);
      res.end();
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url], 'hold_preamble_ms = 100\n'), { services: ['codex'] });
    const got = await timedChunks(`${proxy.url()}/v1/responses`, requestBody(f));
    assert.equal(got[0]!.bytes.toString(), f.opening[0]);
    assert.ok(got[0]!.at >= 90 && got[0]!.at < 500, `opening flushed at the 100 ms bound (${got[0]!.at} ms)`);
    assert.equal(Buffer.concat(got.map((c) => c.bytes)).toString(), [f.opening[0], ...f.output, ...f.terminal].join(''));
  });

  it('past the byte bound the opening is flushed at once; hold_preamble_ms = 0 never holds', async () => {
    const f = FORMATS[1]!;
    for (const extra of ['hold_preamble_bytes = 16\n', 'hold_preamble_ms = 0\n']) {
      const up = await startUpstream(async (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(f.opening[0]!);
        await sleep(400);
        for (const e of [...f.output, ...f.terminal]) res.write(e);
        res.end();
      });
      ups.push(up);
      await proxy?.close();
      proxy = await startProxy(config('claude', [up.url], extra), { services: ['claude'] });
      const t0 = Date.now();
      const firstAt = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${proxy!.url('claude')}/v1/messages`, { method: 'POST', agent: false }, (res) => {
          res.once('data', () => resolve(Date.now() - t0));
          res.resume();
        });
        req.on('error', reject);
        req.end(requestBody(f));
      });
      assert.ok(firstAt < 300, `${extra.trim()}: opening forwarded at once (${firstAt} ms)`);
    }
  });

  it('a client that hangs up right after the terminal event got a complete answer, not a disconnect', async () => {
    const f = FORMATS[0]!;
    const up = await startUpstream(async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of [...f.opening, ...f.output, ...f.terminal]) res.write(e);
      await sleep(3000); // the upstream keeps the connection open a while, as real ones do
      res.end();
    });
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]), { services: ['codex'] });
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${proxy!.url()}/v1/responses`, { method: 'POST', agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('response.completed')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
      req.end(requestBody(f));
    });
    const rec = await lastRecord('codex');
    assert.equal(rec.error_class, undefined);
    assert.equal(rec.usage?.total_tokens, 7);
  });

  it('a stream that is complete but has no output (empty answer) is forwarded, not failed over', async () => {
    const f = FORMATS[0]!;
    const events = [f.opening[0]!, ...f.terminal];
    const up = await startUpstream((_q, res) => sse(res, events));
    ups.push(up);
    proxy = await startProxy(config('codex', [up.url]), { services: ['codex'] });
    const r = await call(`${proxy.url()}/v1/responses`, { body: requestBody(f) });
    assert.equal(r.text, events.join(''));
    assert.equal(up.requests.length, 1);
    assert.equal((await lastRecord('codex')).error_class, undefined);
  });
});
