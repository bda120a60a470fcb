// Preloaded (`node -r`) into a bench target by `bench/ttfbPairs.mjs --spin US`: every request the target's HTTP
// server receives first costs US microseconds of busy CPU, on its thread, before the target's own handler runs. A
// known cost added to a known program (the node floor, say) shows how large a difference per request the TTFB
// reading can tell from what the machine gives by chance. Nothing else is changed.
'use strict';
const http = require('node:http');

const us = Number(process.env.CODEX_HELPER_BENCH_SPIN_US);
if (us > 0) {
  const spinNs = BigInt(Math.round(us * 1000));
  const createServer = http.createServer;
  http.createServer = function spinningServer(opts, handler) {
    const h = typeof opts === 'function' ? opts : handler;
    const o = typeof opts === 'function' ? {} : opts;
    return createServer.call(this, o, (req, res) => {
      const until = process.hrtime.bigint() + spinNs;
      while (process.hrtime.bigint() < until);
      return h(req, res);
    });
  };
}
