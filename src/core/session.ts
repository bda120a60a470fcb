// Which session a request belongs to. Real clients disagree on the header name: the seed read only
// `session_id` / `conversation_id`; Codex sends `session-id` and `thread-id`; Claude Code sends
// `x-claude-code-session-id`.

/** Header names carrying a session id, in priority order. */
export const SESSION_HEADERS = [
  'session_id',
  'conversation_id',
  'session-id',
  'x-session-id',
  'thread-id',
  'x-claude-code-session-id',
] as const;

type HeaderValue = string | string[] | undefined;

/** Returns the session id of a request from its (lower-cased) headers, or undefined. */
export function sessionIdFromHeaders(headers: Record<string, HeaderValue>): string | undefined {
  for (const name of SESSION_HEADERS) {
    const v = headers[name];
    const s = (Array.isArray(v) ? v[0] : v)?.trim();
    if (s) return s;
  }
  return undefined;
}
