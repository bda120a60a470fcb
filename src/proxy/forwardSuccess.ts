// Forwarding a 2xx answer: headers at once, then every chunk as it arrives with back-pressure; usage is scanned on
// the fly for SSE (bounded buffer) and read at the end for JSON. Nothing is ever held back.
import type { ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { UsageMetrics } from '../core/types';
import { extractUsageFromJson, SseUsageScanner } from '../core/usage';
import { forwardableResponseHeaders, headerValue } from './headers';
import type { ResponseHead, UpstreamCall } from './upstreamCall';

const NON_STREAM_CAPTURE_MAX = 16 * 1024 * 1024;
// A compressed answer is inflated for usage only; a bomb stops here instead of filling memory.
const DECODE_MAX = 32 * 1024 * 1024;

/** A decoded copy of a compressed body for usage extraction only (the client gets the original bytes). */
function decodeForUsage(body: Buffer, encoding: string | undefined): Buffer | undefined {
  try {
    switch ((encoding ?? '').trim().toLowerCase()) {
      case '':
      case 'identity':
        return body;
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body, { maxOutputLength: DECODE_MAX });
      case 'br':
        return brotliDecompressSync(body, { maxOutputLength: DECODE_MAX });
      case 'deflate':
        return inflateSync(body, { maxOutputLength: DECODE_MAX });
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

export interface ForwardResult {
  isSse: boolean;
  /** The body has a content-encoding (nothing may be appended to it as text). */
  encoded: boolean;
  ttfb: number;
  usage?: UsageMetrics;
  /** Set when the upstream stream broke after the answer started. */
  streamError?: Error;
}

/** Responses streaming plain (not re-encoded) SSE: the ones a terminal error event can still be appended to. */
const plainSse = new WeakSet<ServerResponse>();

/** True while `res` passes through a plain SSE stream (see ProxyHost.failInFlight). */
export function isPlainSse(res: ServerResponse): boolean {
  return plainSse.has(res);
}

/** Streams `call`'s 2xx answer to `res`; resolves when the upstream body ended or failed. */
export async function forwardSuccess(
  call: UpstreamCall,
  resp: ResponseHead,
  res: ServerResponse,
  now: () => number,
  sentAt: number,
  headersAt: number,
  extraHeaders?: Record<string, string>,
): Promise<ForwardResult> {
    const ctype = String(headerValue(resp.headers, 'content-type') ?? '').toLowerCase();
    const isSse = ctype.includes('text/event-stream');
    const encoding = headerValue(resp.headers, 'content-encoding');
    const outHeaders = forwardableResponseHeaders(resp.headers);
    const declaredLength = headerValue(resp.headers, 'content-length');
    if (declaredLength !== undefined && !('transfer-encoding' in resp.headers)) outHeaders['content-length'] = declaredLength;
    if (isSse) {
      delete outHeaders['content-length'];
      outHeaders['cache-control'] ??= 'no-cache';
      outHeaders['x-accel-buffering'] = 'no';
    }
    if (extraHeaders) Object.assign(outHeaders, extraHeaders);
    res.writeHead(resp.statusCode, outHeaders);
    if (isSse) res.flushHeaders();
    if (isSse && !encoding) plainSse.add(res);
    const scanner = isSse && !encoding ? new SseUsageScanner() : undefined;
    const captured: Buffer[] | undefined = isSse ? undefined : [];
    let capturedBytes = 0;
    let firstChunkAt: number | undefined;
    let waitingDrain = false;
    const onDrain = () => {
      waitingDrain = false;
      call.resume();
    };
    const streamError = await new Promise<Error | undefined>((resolve) => {
      call.consume(
        (chunk) => {
          if (firstChunkAt === undefined) firstChunkAt = now();
          if (!res.write(chunk) && !waitingDrain) {
            waitingDrain = true;
            call.pause();
            res.once('drain', onDrain);
          }
          if (scanner) scanner.push(chunk);
          else if (captured && capturedBytes + chunk.length <= NON_STREAM_CAPTURE_MAX) {
            captured.push(chunk);
            capturedBytes += chunk.length;
          }
        },
        resolve,
      );
    });
    if (waitingDrain) res.off('drain', onDrain);
    const ttfb = isSse ? (firstChunkAt ?? now()) - sentAt : headersAt - sentAt;
    let usage: UsageMetrics | undefined;
    if (scanner) {
      scanner.end();
      usage = scanner.usage;
    } else if (captured && capturedBytes > 0) {
      const raw = Buffer.concat(captured, capturedBytes);
      const decoded = decodeForUsage(raw, encoding);
      if (decoded) {
        if (decoded.subarray(0, 64).toString().trimStart().startsWith('event:') || decoded.includes('\ndata:')) {
          const s = new SseUsageScanner();
          s.push(decoded);
          s.end();
          usage = s.usage;
        } else usage = extractUsageFromJson(decoded);
      }
    }
    return { isSse, encoded: !!encoding, ttfb, usage, streamError };
}
