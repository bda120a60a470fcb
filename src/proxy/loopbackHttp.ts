// A small buffered node:http request for the admin API on loopback. The VS Code side uses it instead of undici so
// the extension host does not load (or keep in memory) an HTTP client it only needs for a few local calls.
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

/** Keep-alive, but few sockets: the host makes a handful of admin calls at a time. */
const agent = new Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 30_000 });

export interface LoopbackResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request with a total timeout and a body cap; rejects with an Error carrying `code` (TIMEOUT, …). */
export function loopbackRequest(
  url: string,
  opts: { method: string; headers?: Record<string, string>; body?: string; timeoutMs: number; maxBytes: number },
): Promise<LoopbackResponse> {
  return new Promise((resolve, reject) => {
    const headers = opts.body !== undefined ? { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) } : opts.headers;
    const req = request(url, { method: opts.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) req.destroy(Object.assign(new Error(`response larger than ${opts.maxBytes} bytes`), { code: 'BODY_TOO_LARGE' }));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { code: 'TIMEOUT' })), opts.timeoutMs);
    function fail(e: Error): void {
      clearTimeout(timer);
      const code = (e as { code?: unknown }).code;
      reject(new Error(`${e.message}${typeof code === 'string' && !e.message.includes(code) ? ` (${code})` : ''}`, { cause: e }));
    }
    req.on('error', fail);
    req.end(opts.body);
  });
}
