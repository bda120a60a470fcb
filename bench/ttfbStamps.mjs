// Loaded into a target with `node --import` by bench/ttfbTrace.mjs: stamps, on the machine's monotonic clock, each
// request that carries an `x-bench-trace` id — when node:http had parsed it, when undici made and wrote its upstream
// request, and when the upstream's head and first body chunk came back — through diagnostics channels, so any
// target (a build of the proxy, the node floor) is measured the same way without a change to its code. At exit
// the stamps go to `$TTFB_TRACE_DIR/<pid>.json`.
import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const now = () => Number(process.hrtime.bigint()) / 1000;
const byId = new Map();
const byRequest = new WeakMap();

/** The trace id among undici's request headers (a string of header lines, or a flat array). */
function traceId(headers) {
  const text = Array.isArray(headers) ? headers.join('\n') : String(headers ?? '');
  const at = text.indexOf('x-bench-trace');
  return at < 0 ? undefined : /^x-bench-trace:?[\s,]*([\w-]+)/.exec(text.slice(at))?.[1];
}

dc.subscribe('http.server.request.start', ({ request }) => {
  const id = request.headers['x-bench-trace'];
  if (typeof id === 'string') byId.set(id, { start: now() });
});
dc.subscribe('undici:request:create', ({ request }) => {
  const s = byId.get(traceId(request.headers));
  if (!s || s.create) return;
  s.create = now();
  byRequest.set(request, s);
});
dc.subscribe('undici:client:sendHeaders', ({ request }) => {
  const s = byRequest.get(request);
  if (s && !s.send) s.send = now();
});
dc.subscribe('undici:request:headers', ({ request }) => {
  const s = byRequest.get(request);
  if (s && !s.head) s.head = now();
});
dc.subscribe('undici:request:bodyChunkReceived', ({ request }) => {
  const s = byRequest.get(request);
  if (s && !s.chunk) s.chunk = now();
});
process.on('exit', () => {
  if (process.env.TTFB_TRACE_DIR) writeFileSync(join(process.env.TTFB_TRACE_DIR, `${process.pid}.json`), JSON.stringify([...byId]));
});
