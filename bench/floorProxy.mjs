// The "node floor": the smallest useful pass-through proxy on node:http + undici (no routing, no logging, no
// state). It shows how much of the proxy's cost is the platform and how much is ours. Not a product: the
// benchmark starts it pinned like the proxy. Usage: node floorProxy.mjs <upstreamPort> <listenPort>
import { Agent as HttpAgent, createServer, request } from 'node:http';
import { Agent } from 'undici';

const origin = `http://127.0.0.1:${process.argv[2]}`;
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });
// FLOOR_CLIENT=http swaps undici for node:http's client (to compare the two clients' cost).
const useHttp = process.env.FLOOR_CLIENT === 'http';
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
const [host, port] = ['127.0.0.1', Number(process.argv[2])];
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const headers = [];
  for (const k in req.headers) if (!HOP.has(k)) headers.push(k, req.headers[k]);
  headers.push('content-length', String(body.length));
  if (useHttp) {
    const up = request({ host, port, path: req.url, method: req.method, headers, agent: httpAgent }, (r) => {
      const out = {};
      for (const k in r.headers) if (!HOP.has(k)) out[k] = r.headers[k];
      res.writeHead(r.statusCode, out);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
    return;
  }
  try {
    const r = await agent.request({ origin, path: req.url, method: req.method, headers, body });
    const out = {};
    for (const k in r.headers) if (!HOP.has(k)) out[k] = r.headers[k];
    res.writeHead(r.statusCode, out);
    for await (const c of r.body) res.write(c);
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.listen(Number(process.argv[3]), '127.0.0.1', () => {
  process.stdout.write(`floor proxy listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
