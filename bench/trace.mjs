// Where a request's time goes through a proxy, one request at a time: the upstream and the client live in this
// process, so every step of each request is stamped on one clock — the client sends, the upstream sees the request
// and its end, writes its answer, the client sees the head and the first body byte. Two targets (a build's
// directory holding `cli.js`, or `floor` for bench/floorProxy.mjs) take turns request by request (who goes first
// alternates), so whatever else the machine does falls on both alike; medians over a few thousand requests move by
// a few µs from run to run. Both targets run on one core, so each request also runs right after the other target's,
// in caches the other program filled: the larger program pays more for that (with --gap, up to three times its
// difference back to back). One target alone measures without it; compare two such runs.
//
//   node bench/trace.mjs floor dist              # 20 SSE events in one burst (the default)
//   node bench/trace.mjs floor dist --json       # a ~1.4 KB JSON answer
//   node bench/trace.mjs floor dist --gap 2      # the 20 events 2 ms apart (the first byte is an event's)
//   node bench/trace.mjs /tmp/before dist --n 3000
//   node bench/trace.mjs dist --warm 20000       # one target, after a long back-to-back warm-up (default 500):
//                                                # its per-request functions optimized, as in a long-running proxy
//
// Columns: request leg (client send → upstream has the request: the proxy's work before it sends), upstream
// (request → answer written, the same code for every target), response leg (answer written → client has the
// head), head → first body byte, TTFB and total. The last line is the second target minus the first.
import { Agent, createServer, request } from 'node:http';
import { scratch, startTargets } from './procs.mjs';

const argv = process.argv.slice(2);
const opt = (n, d) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : d;
};
const targets = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--n' && argv[i - 1] !== '--gap' && argv[i - 1] !== '--warm');
if (targets.length < 1 || targets.length > 2) {
  console.error('usage: node bench/trace.mjs <dist dir | floor> [<dist dir | floor>] [--json | --gap MS] [--n N] [--warm N]');
  process.exit(2);
}
const N = Number(opt('--n', 2000));
const SSE = !argv.includes('--json');
let GAP = Number(opt('--gap', 0));

const usNow = () => Number(process.hrtime.bigint()) / 1000;

function sseEvent(name, data) {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
const delta = 'y'.repeat(64);
const frames = [];
for (let i = 0; i < 19; i++) {
  frames.push(Buffer.from(sseEvent('response.output_text.delta', { type: 'response.output_text.delta', item_id: 'msg_bench', output_index: 0, content_index: 0, delta })));
}
frames.push(Buffer.from(sseEvent('response.completed', { type: 'response.completed', response: { id: 'resp_bench', status: 'completed',
  usage: { input_tokens: 512, output_tokens: 300, total_tokens: 812 } } })));
const sseAnswer = Buffer.concat(frames);
const jsonAnswer = Buffer.from(JSON.stringify({ id: 'resp_bench', object: 'response', status: 'completed', model: 'gpt-5',
  output: [{ type: 'message', id: 'msg_bench', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'x'.repeat(1200), annotations: [] }] }],
  usage: { input_tokens: 512, input_tokens_details: { cached_tokens: 128 }, output_tokens: 300, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 812 } }));

/** The request in flight (one at a time): its stamps. */
let cur;
const upstream = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  cur.upArrive = usNow();
  req.on('data', () => {});
  req.on('end', () => {
    cur.upEnd = usNow();
    if (SSE && GAP > 0) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(frames[0]);
      let i = 1;
      const next = () => (i === frames.length - 1 ? res.end(frames[i]) : (res.write(frames[i++]), setTimeout(next, GAP)));
      setTimeout(next, GAP);
    } else if (SSE) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(sseAnswer);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': jsonAnswer.length });
      res.end(jsonAnswer);
    }
    cur.upWritten = usNow();
  });
});
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamPort = upstream.address().port;

const ports = (await startTargets(targets, upstreamPort, scratch('codex-helper-trace-'))).map((t) => t.port);

const body = Buffer.from(JSON.stringify({ model: 'gpt-5-codex', instructions: 'You are a coding agent.',
  input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Please refactor the function below. '.repeat(50) }] }],
  stream: SSE, reasoning: { effort: 'medium' } }));
const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));

function one(t) {
  return new Promise((done, fail) => {
    cur = { sent: usNow() };
    const req = request({ host: '127.0.0.1', port: ports[t], path: '/v1/responses', method: 'POST', agent: agents[t],
      headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer sk-trace-not-a-real-key',
        accept: SSE ? 'text/event-stream' : 'application/json' } }, (res) => {
      const r = cur;
      r.head = usNow();
      if (res.statusCode !== 200) fail(new Error(`${targets[t]} answered ${res.statusCode}`));
      res.once('data', () => (r.first = usNow()));
      res.on('data', () => {});
      res.on('end', () => {
        r.end = usNow();
        done(r);
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

// JIT warm-up, then the measured rounds, who goes first alternating.
const WARM = Number(opt('--warm', 500));
// The warm-up goes back to back (no gap), so that a long one (--warm 20000) leaves the code where a proxy that
// served many requests has it: optimized.
const gapSaved = GAP;
GAP = 0;
for (let k = 0; k < WARM; k++) for (const t of ports.keys()) await one(t);
GAP = gapSaved;
const rows = ports.map(() => []);
for (let k = 0; k < N; k++) {
  for (const t of k % 2 ? [...ports.keys()].reverse() : ports.keys()) rows[t].push(await one(t));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const cols = {
  'request leg': (r) => r.upArrive - r.sent,
  upstream: (r) => r.upWritten - r.upArrive,
  'response leg': (r) => r.head - r.upWritten,
  'head→1st byte': (r) => r.first - r.head,
  TTFB: (r) => r.first - r.sent,
  total: (r) => r.end - r.sent,
};
const med = rows.map((rs) => Object.values(cols).map((f) => median(rs.map(f))));
console.log(`trace: ${!SSE ? '~1.4 KB JSON answer' : GAP > 0 ? `20 SSE events ${GAP} ms apart` : '20 SSE events in one burst'}, c=1, ${N} requests each, medians in µs`);
console.log(''.padEnd(16) + Object.keys(cols).map((c) => c.padStart(15)).join(''));
targets.forEach((t, i) => console.log(t.slice(-15).padEnd(16) + med[i].map((v) => v.toFixed(0).padStart(15)).join('')));
if (targets.length === 2) {
  console.log('difference'.padEnd(16) + med[1].map((v, c) => `${v - med[0][c] >= 0 ? '+' : ''}${(v - med[0][c]).toFixed(0)}`.padStart(15)).join(''));
}
process.exit(0);
