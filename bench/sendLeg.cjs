// Preloaded (`node -r bench/sendLeg.cjs`) into a proxy under test by bench/sendLeg.mjs: how long each request takes
// from its arrival to its upstream write, read from node's and undici's diagnostics channels, so any build (and the
// node floor) is measured as it is. Arrivals and writes are paired in order: the load must send every request it
// makes upstream, in arrival order (the spaced-SSE load does). Keeps the last SEND_LEG_KEEP legs and writes their
// median and p90 (µs) to SEND_LEG_OUT while they change.
'use strict';
const dc = require('node:diagnostics_channel');
const { writeFileSync } = require('node:fs');

const KEEP = Number(process.env.SEND_LEG_KEEP ?? 192);
const OUT = process.env.SEND_LEG_OUT;
const arrivals = [];
const legs = [];
let count = 0;
let written = 0;

dc.subscribe('http.server.request.start', () => arrivals.push(performance.now()));
dc.subscribe('undici:client:sendHeaders', () => {
  const at = arrivals.shift();
  if (at === undefined) return;
  legs.push((performance.now() - at) * 1000);
  if (legs.length > KEEP) legs.shift();
  count++;
});

setInterval(() => {
  if (!OUT || count === written) return;
  written = count;
  const s = [...legs].sort((a, b) => a - b);
  writeFileSync(OUT, JSON.stringify({ count, p50: s[s.length >> 1], p90: s[Math.floor(s.length * 0.9)] }));
}, 200).unref();
