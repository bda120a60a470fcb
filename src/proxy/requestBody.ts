// The client's request body: read with a size limit, and inspected cheaply (model, reasoning effort) without
// parsing it — the model is the first member and the effort object the last in real Codex/Claude bodies.
import type { IncomingMessage } from 'node:http';
import { decodeString, scanObject, scanObjectFromEnd, setNestedString } from '../core/jsonBody';
import type { ServiceName } from '../core/types';

export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

/** Reads the whole body, refusing (without buffering) anything over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes exceeds the ${limit} byte limit`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(`request body exceeds the ${limit} byte limit`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Where each API keeps the reasoning effort: OpenAI `reasoning.effort`, Anthropic `output_config.effort`. */
export const EFFORT_OBJECT: Record<ServiceName, string> = { codex: 'reasoning', claude: 'output_config' };
const EFFORT_KEYS: Record<ServiceName, ReadonlySet<string>> = { codex: new Set([EFFORT_OBJECT.codex]), claude: new Set([EFFORT_OBJECT.claude]) };
/** The effort object's key as it appears in a body (quoted), for a native search (a Buffer: not re-encoded per call). */
const EFFORT_NEEDLE: Record<ServiceName, Buffer> = {
  codex: Buffer.from(`"${EFFORT_OBJECT.codex}"`),
  claude: Buffer.from(`"${EFFORT_OBJECT.claude}"`),
};
const EFFORT_FIELD: ReadonlySet<string> = new Set(['effort']);


/** The reasoning effort a JSON body asks for (`reasoning.effort` / `output_config.effort`), read from its end. */
export function readEffort(body: Buffer, service: ServiceName): string | undefined {
  // Without the key anywhere, the backward scan would walk the whole body (Claude Code sends no effort object
  // unless one is set); a native search from the end says so at once.
  if (body.length === 0 || body.lastIndexOf(EFFORT_NEEDLE[service]) < 0) return undefined;
  const r = scanObjectFromEnd(body, EFFORT_KEYS[service])?.members.get(EFFORT_OBJECT[service]);
  if (!r || body[r.valueStart] !== 0x7b) return undefined;
  const e = scanObject(body, r.valueStart, EFFORT_FIELD)?.members.get('effort');
  return e && body[e.valueStart] === 0x22 ? decodeString(body, e) : undefined;
}

/** Sets the effort the way the service's API expects it; undefined when the body is not a JSON object. */
export function applyEffort(body: Buffer, service: ServiceName, effort: string): Buffer | undefined {
  return setNestedString(body, EFFORT_OBJECT[service], 'effort', effort);
}
