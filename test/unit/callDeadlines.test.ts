import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { CallDeadlines, UpstreamTimeoutError, Watched } from '../../src/proxy/callDeadlines';
import type { CallLimits } from '../../src/proxy/callDeadlines';
import { createUpstreamAgent, isTimeoutError } from '../../src/proxy/upstream';
import { Agent } from '../../src/proxy/undiciAgent';
import { callDeadlines, UpstreamCall } from '../../src/proxy/upstreamCall';

/** A stand-in call for the watcher alone, on a clock the test moves. */
class FakeCall extends Watched {
  private err: UpstreamTimeoutError | undefined;
  expire(err: UpstreamTimeoutError): void {
    this.err = err;
  }
  /** What it expired with, if it did. */
  expired(): UpstreamTimeoutError | undefined {
    return this.err;
  }
}

describe('CallDeadlines (the limits of the calls in flight)', () => {
  let t = 0;
  const w = new CallDeadlines(() => t);
  afterEach(() => {
    t = 0;
  });

  it('expires a call without its head once the first-byte limit has passed, not before', () => {
    const c = new FakeCall({ firstByteMs: 1000, idleMs: 300 });
    w.watch(c);
    t = 999;
    w.check();
    assert.equal(c.expired(), undefined);
    t = 1000;
    w.check();
    const err = c.expired();
    assert.ok(err instanceof UpstreamTimeoutError);
    assert.equal(err.phase, 'first_byte');
    assert.equal(err.code, 'UPSTREAM_FIRST_BYTE_TIMEOUT');
    assert.equal(err.limitMs, 1000);
    assert.equal(w.size, 0, 'an expired call is no longer watched');
  });

  it('counts idle time from the last check that saw data; data, back-pressure and the head each restart it', () => {
    const c = new FakeCall({ firstByteMs: 1000, idleMs: 300 });
    w.watch(c);
    t = 900;
    c.gotHead = true;
    w.check(); // the head just came: silence counts from here
    t = 1150;
    w.check();
    assert.equal(c.expired(), undefined, '250 ms after the head is not 300');
    c.sawData = true;
    t = 1190;
    w.check(); // data: silence counts from 1190
    t = 1480;
    w.check();
    assert.equal(c.expired(), undefined);
    c.paused = true; // the client is slow: the upstream is not to blame
    t = 5000;
    w.check();
    assert.equal(c.expired(), undefined);
    c.paused = false;
    t = 5299;
    w.check();
    assert.equal(c.expired(), undefined);
    t = 5300;
    w.check();
    assert.equal(c.expired()?.phase, 'idle');
    assert.equal(c.expired()?.code, 'UPSTREAM_IDLE_TIMEOUT');
  });

  it('watches nothing for a call without limits, and unwatching twice or out of order keeps the list whole', () => {
    const none = new FakeCall({ firstByteMs: 0, idleMs: 0 });
    w.watch(none);
    assert.equal(w.size, 0);
    const [a, b, c] = [1, 2, 3].map(() => new FakeCall({ firstByteMs: 100, idleMs: 0 }));
    for (const x of [a!, b!, c!]) w.watch(x);
    assert.equal(w.size, 3);
    w.unwatch(b!);
    w.unwatch(b!);
    assert.equal(w.size, 2);
    t = 100;
    w.check();
    assert.ok(a!.expired() && c!.expired() && !b!.expired(), 'the two left both expire');
    assert.equal(w.size, 0);
  });

  it('keeps its timer while calls come and go, and stops it at the first check that finds none', () => {
    const d = new CallDeadlines(() => t);
    assert.equal(d.ticking, false);
    const a = new FakeCall({ firstByteMs: 1000, idleMs: 0 });
    d.watch(a);
    assert.equal(d.ticking, true);
    d.unwatch(a);
    assert.equal(d.ticking, true, 'not stopped between two calls');
    const b = new FakeCall({ firstByteMs: 1000, idleMs: 0 });
    d.watch(b);
    d.check();
    assert.equal(d.ticking, true, 'a call is watched');
    d.unwatch(b);
    d.check();
    assert.equal(d.ticking, false, 'nothing left to watch: stopped');
  });

  it('a limit of 0 is no limit', () => {
    const c = new FakeCall({ firstByteMs: 0, idleMs: 50 });
    w.watch(c);
    t = 1e9;
    w.check();
    assert.equal(c.expired(), undefined, 'no first-byte limit');
    c.gotHead = true;
    w.check();
    t += 50;
    w.check();
    assert.equal(c.expired()?.phase, 'idle');
  });
});

describe('UpstreamCall limits against real upstreams', () => {
  let server: Server;
  let origin: string;
  let agent: Dispatcher;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const open = new Set<ServerResponse>();

  before(async () => {
    server = createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = createUpstreamAgent({ connectTimeoutMs: 2000 });
  });
  afterEach(() => {
    for (const res of open) res.destroy();
  });
  after(async () => {
    await agent.close();
    await new Promise((r) => server.close(r));
  });

  const call = (limits: CallLimits) => new UpstreamCall(agent, { origin, path: '/', method: 'GET' }, limits);
  const body = (c: UpstreamCall) => new Promise<{ text: string; err?: Error }>((resolve) => {
    let text = '';
    c.consume((b) => (text += b.toString()), (err) => resolve({ text, err }));
  });

  it('a hung upstream fails with a first-byte timeout soon after the limit', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const c = call({ firstByteMs: 200, idleMs: 0 });
    await assert.rejects(c.head, (e: unknown) => e instanceof UpstreamTimeoutError && e.phase === 'first_byte' && isTimeoutError(e));
    const took = Date.now() - started;
    assert.ok(took >= 200 && took < 1000, `expired after ${took} ms`);
    assert.equal(callDeadlines.size, 0);
  });

  it('a stream that goes silent after its head ends with an idle timeout; the chunks before it were delivered', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    };
    const c = call({ firstByteMs: 5000, idleMs: 200 });
    await c.head;
    const r = await body(c);
    assert.equal(r.text, 'data: one\n\n');
    assert.ok(r.err instanceof UpstreamTimeoutError && r.err.phase === 'idle', `got ${r.err}`);
    assert.equal(callDeadlines.size, 0);
  });

  it('a slow but steady stream is never cut, whatever its total length', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`data: ${n}\n\n`);
        if (++n === 8) {
          clearInterval(tick);
          res.end();
        }
      }, 60);
      res.on('close', () => clearInterval(tick));
    };
    // Each gap (60 ms) is well under the idle limit; the whole stream (~480 ms) is over it and over the first byte's.
    const c = call({ firstByteMs: 300, idleMs: 200 });
    await c.head;
    const r = await body(c);
    assert.equal(r.err, undefined);
    assert.equal(r.text.split('\n\n').length - 1, 8);
    assert.equal(callDeadlines.size, 0, 'a finished call is no longer watched');
  });

  it('a call held back by its reader (back-pressure) is not cut for the reader being slow', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      setTimeout(() => res.end('second'), 50);
    };
    const c = call({ firstByteMs: 5000, idleMs: 150 });
    await c.head;
    let text = '';
    const ended = new Promise<Error | undefined>((resolve) => c.consume((b) => {
      text += b.toString();
      if (text === 'first') {
        // The client cannot take more for three idle limits.
        c.pause();
        setTimeout(() => c.resume(), 450);
      }
    }, resolve));
    assert.equal(await ended, undefined);
    assert.equal(text, 'firstsecond');
  });

  it('a call still waiting for a connection fails at its limit, not when the connection frees up', async () => {
    const one = new Agent({ connections: 1 });
    try {
      handler = () => undefined; // never answers: the first call holds the only connection
      const first = new UpstreamCall(one, { origin, path: '/', method: 'GET' });
      const started = Date.now();
      const second = new UpstreamCall(one, { origin, path: '/', method: 'GET' }, { firstByteMs: 150, idleMs: 0 });
      await assert.rejects(second.head, (e: unknown) => e instanceof UpstreamTimeoutError && e.phase === 'first_byte');
      const took = Date.now() - started;
      assert.ok(took < 1000, `expired after ${took} ms`);
      first.abort(new Error('test over'));
      await assert.rejects(first.head);
    } finally {
      await one.destroy();
    }
  });

  it("a call without limits is left to the agent: not watched, and the agent's own limits still apply", async () => {
    const strict = createUpstreamAgent({ connectTimeoutMs: 2000, headersTimeoutMs: 150 });
    try {
      handler = () => undefined; // never answers
      const c = new UpstreamCall(strict, { origin, path: '/', method: 'GET' });
      assert.equal(callDeadlines.size, 0);
      await assert.rejects(c.head, (e: unknown) => !(e instanceof UpstreamTimeoutError)
        && (e as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' && isTimeoutError(e));
    } finally {
      await strict.close();
    }
  });
});
