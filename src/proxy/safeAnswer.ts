// The last step of a buffered answer. `writeHead` throws on a header value it cannot encode (a non-Latin-1
// character from an IDN base_url or a config name); without a fallback the client would get no HTTP answer at all.
import type { ServerResponse } from 'node:http';
import type { ServiceName } from '../core/types';
import { headerSafe } from '../core/urlMask';
import { errorBody } from './errors';

/** The `x-codex-helper-upstreams-tried` value: ASCII only (punycode hosts, percent-encoded names). */
export function triedHeader(tried: readonly string[]): string {
  return tried.map(headerSafe).join(', ');
}

/**
 * Sends `status`/`headers`/`body`; when that throws before anything was sent, sends a 500 with a JSON body instead
 * (and reports the error through `onError`). Never throws.
 */
export function answerSafely(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body: Buffer,
  service: ServiceName,
  onError: (e: unknown) => void,
): void {
  try {
    res.writeHead(status, headers);
    res.end(body);
    return;
  } catch (e) {
    onError(e);
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const text = errorBody(service, {
      status: 500,
      type: 'proxy_internal_error',
      message: `the proxy could not send the upstream's answer (status ${status}): one of its headers cannot be encoded`,
    });
    res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } catch {
    res.destroy();
  }
}
