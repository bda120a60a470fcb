// Error answers the proxy itself produces, shaped like the API the client speaks so that Codex and Claude Code
// show the message instead of a parse failure.
import type { WireFormat } from '../core/sseIntegrity';
import type { ServiceName } from '../core/types';

export interface ProxyErrorInfo {
  status: number;
  type: string;
  message: string;
  hint?: string;
  upstreams_tried?: string[];
  /** Each upstream with its state and time left (when nothing can serve). */
  upstreams?: unknown[];
}

/** JSON body of a proxy-made error: OpenAI style for codex, Anthropic style for claude. */
export function errorBody(service: ServiceName, info: ProxyErrorInfo): string {
  const extra: Record<string, unknown> = {};
  if (info.hint) extra['hint'] = info.hint;
  if (info.upstreams_tried?.length) extra['upstreams_tried'] = info.upstreams_tried;
  if (info.upstreams?.length) extra['upstreams'] = info.upstreams;
  if (service === 'claude') {
    return JSON.stringify({ type: 'error', error: { type: info.type, message: info.message, ...extra } });
  }
  return JSON.stringify({ error: { message: info.message, type: info.type, code: info.type, ...extra } });
}

/**
 * A synthetic terminal SSE event telling the client the stream broke (instead of a silent socket reset), in the
 * client's wire format: Anthropic `event: error`, Chat Completions `data: {"error":…}`, else Responses
 * `response.failed`.
 */
export function streamErrorEvent(service: ServiceName, message: string, format?: WireFormat): string {
  if (format === 'chat') {
    const data = JSON.stringify({ error: { message, type: 'upstream_stream_error', code: 'upstream_stream_error' } });
    return `data: ${data}\n\n`;
  }
  if (format === 'anthropic' || (format === undefined && service === 'claude')) {
    const data = JSON.stringify({ type: 'error', error: { type: 'api_error', message } });
    return `event: error\ndata: ${data}\n\n`;
  }
  const data = JSON.stringify({
    type: 'response.failed',
    response: {
      object: 'response',
      status: 'failed',
      error: { code: 'upstream_stream_error', message },
      usage: null,
    },
  });
  return `event: response.failed\ndata: ${data}\n\n`;
}
