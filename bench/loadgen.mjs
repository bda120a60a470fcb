// Load generator for the benchmark, run as its own process (forked by run.mjs) so it never shares an event loop
// with the mock or the proxy. A keep-alive node:http Agent with one socket per concurrent worker; every request
// records start, first body byte and end with performance.now(). Bodies are built here once per shape and reused.
// Protocol: run.mjs sends {id, cmd:'run', spec}; we answer {id, result}.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

const bodies = new Map();
// Agents kept between a warm-up call (spec.keepAgent) and the measured call, so the measured call reuses warm
// keep-alive sockets; the measured call always closes them.
const agents = new Map();

/** A Codex-like Responses request (or a Claude Code-like Messages request) of about `bytes` bytes. */
function makeBody(kind, bytes, model, stream) {
  const key = `${kind}|${bytes}|${model}|${stream}`;
  let b = bodies.get(key);
  if (b) return b;
  const turn = 'Please refactor the function below and explain the change. '.repeat(8);
  const items = [];
  let size = 0;
  for (let i = 0; size < bytes - 600; i++) {
    const text = `${i}: ${turn}`;
    const item = kind === 'messages'
      ? { role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text }] }
      : { type: 'message', role: i % 2 ? 'assistant' : 'user', content: [{ type: i % 2 ? 'output_text' : 'input_text', text }] };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  // Key order as the real clients send it: model first, the conversation, then the small options.
  const obj = kind === 'messages'
    ? { model, max_tokens: 32000, system: 'You are Claude Code.', messages: items, stream, metadata: { user_id: 'bench' } }
    : { model, instructions: 'You are Codex.', input: items, tools: [], tool_choice: 'auto', parallel_tool_calls: false,
        reasoning: { effort: 'medium', summary: 'auto' }, store: false, stream, include: [], prompt_cache_key: 'bench' };
  b = Buffer.from(JSON.stringify(obj));
  bodies.set(key, b);
  return b;
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Monotonic microseconds, on the clock every process of the machine shares (for `spec.trace`). */
const monoUs = () => Number(process.hrtime.bigint()) / 1000;
let traceSeq = 0;

/**
 * spec: {port, path, kind, bytes, model, stream, headers, concurrency, requests?, durationMs?, warmup, keepAgent?,
 * staggerMs?, trace?, samples?}
 * Runs `warmup` requests (not measured) then either `requests` requests or as many as fit in `durationMs`.
 * `staggerMs`: the measured workers start spread over that long (worker w after w × staggerMs / concurrency), so
 * streams of one length do not stay in step.
 * `trace`: each measured request carries an `x-bench-trace` id, and the result lists `{ id, sent, first }` per
 * request (monotonic µs: sent, first body byte) for bench/ttfbTrace.mjs to join with what the target stamped.
 * `samples`: the result also lists every measured request's first-byte time (`ttfbs`, ms, sorted), for pooling,
 * and the same times by wave (`ttfbWaves[k]`: the k-th measured request of every worker; with all workers started
 * together and streams of one length, wave 0 is the burst that follows whatever came before the run).
 * The result counts the requests that had to open a connection (`newSockets`; warm-up included).
 */
async function run(spec) {
  const body = makeBody(spec.kind, spec.bytes, spec.model, !!spec.stream);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    authorization: 'Bearer sk-bench-not-a-real-key',
    accept: spec.stream ? 'text/event-stream' : 'application/json',
    'user-agent': 'codex-helper-bench/1',
    ...spec.headers,
  };
  // `spec.ports`: several targets under one load (bench/ab.mjs), worker w on target w % n; each target has its own
  // keep-alive agent (kept for the next run with `keepAgent`); `perTarget` counts the answers each one gave.
  const ports = spec.ports ?? [spec.port];
  const agentKeys = ports.map((port) => `${port}|${spec.concurrency}`);
  const targetAgents = agentKeys.map((k) => {
    const a = agents.get(k) ?? new Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });
    agents.delete(k);
    return a;
  });
  const targetOpts = ports.map((port, t) => ({ host: '127.0.0.1', port, path: spec.path, method: 'POST', agent: targetAgents[t], headers }));
  const perTarget = ports.map(() => 0);
  let errors = 0;
  let bad = 0;
  let newSockets = 0;

  // `spec.marker`: the text of the first output event; its arrival time is "time to first output".
  const marker = spec.marker;
  const traces = [];
  let tracing = false;
  const one = (t) => new Promise((resolve) => {
    let opts = targetOpts[t];
    let tr;
    if (tracing) {
      tr = { id: `${process.pid}-${traceSeq++}`, sent: monoUs(), first: 0 };
      opts = { ...opts, headers: { ...opts.headers, 'x-bench-trace': tr.id } };
      traces.push(tr);
    }
    const t0 = performance.now();
    let first = 0;
    let firstOutput = 0;
    let tail = '';
    let bytes = 0;
    const req = request(opts, (res) => {
      if (res.statusCode !== 200) bad++;
      res.on('data', (c) => {
        const now = performance.now();
        if (first === 0) {
          first = now;
          if (tr) tr.first = monoUs();
        }
        if (marker && firstOutput === 0) {
          const text = tail + c.toString('latin1');
          if (text.includes(marker)) firstOutput = now;
          else tail = text.slice(-marker.length);
        }
        bytes += c.length;
      });
      res.on('end', () => {
        const t1 = performance.now();
        perTarget[t]++;
        resolve({ total: t1 - t0, ttfb: (first || t1) - t0, tfo: (firstOutput || t1) - t0, bytes });
      });
      res.on('error', () => {
        errors++;
        resolve(undefined);
      });
    });
    req.once('socket', () => {
      if (!req.reusedSocket) newSockets++;
    });
    req.on('error', () => {
      errors++;
      resolve(undefined);
    });
    req.end(body);
  });

  const workers = (n, until, stagger = 0) => {
    const totals = [];
    const ttfbs = [];
    const tfos = [];
    const ttfbWaves = [];
    let started = 0;
    const worker = async (_, w) => {
      if (stagger > 0 && w > 0) await new Promise((r) => setTimeout(r, (w * stagger) / n));
      for (let k = 0; until(started); k++) {
        started++;
        const r = await one(w % ports.length);
        if (r) {
          totals.push(r.total);
          ttfbs.push(r.ttfb);
          tfos.push(r.tfo);
          (ttfbWaves[k] ??= []).push(r.ttfb);
        }
      }
    };
    return Promise.all(Array.from({ length: n }, worker)).then(() => ({ totals, ttfbs, tfos, ttfbWaves }));
  };

  const warm = spec.warmup ?? spec.concurrency;
  if (warm > 0) await workers(Math.min(spec.concurrency, warm), (s) => s < warm);
  const t0 = performance.now();
  const deadline = spec.durationMs ? t0 + spec.durationMs : Infinity;
  const limit = spec.requests ?? Infinity;
  tracing = !!spec.trace;
  const { totals, ttfbs, tfos, ttfbWaves } = await workers(spec.concurrency, (s) => s < limit && performance.now() < deadline,
    spec.staggerMs ?? 0);
  const elapsed = performance.now() - t0;
  targetAgents.forEach((a, t) => (spec.keepAgent ? agents.set(agentKeys[t], a) : a.destroy()));
  totals.sort((a, b) => a - b);
  ttfbs.sort((a, b) => a - b);
  tfos.sort((a, b) => a - b);
  return {
    requests: totals.length,
    errors,
    bad,
    elapsedMs: elapsed,
    rps: (totals.length / elapsed) * 1000,
    p50: pct(totals, 50),
    p99: pct(totals, 99),
    ttfbP50: pct(ttfbs, 50),
    ttfbP99: pct(ttfbs, 99),
    firstOutputP50: pct(tfos, 50),
    firstOutputP99: pct(tfos, 99),
    bodyBytes: body.length,
    perTarget,
    newSockets,
    ...(spec.trace ? { traces } : {}),
    ...(spec.samples ? { ttfbs, ttfbWaves } : {}),
  };
}

process.on('message', (m) => {
  if (m?.cmd !== 'run') return;
  run(m.spec).then(
    (result) => process.send({ id: m.id, result }),
    (e) => process.send({ id: m.id, error: String(e?.stack ?? e) }),
  );
});
process.send?.({ ready: true });
