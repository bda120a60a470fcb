// One set of secrets per request (the resolved upstream token and key, the client's own credentials), applied to
// everything the proxy writes or answers about that request: header values, body previews, URLs, log lines and
// the buffered error answers it forwards. Redaction by header *name* alone misses an upstream that echoes the key.
import { redactText } from './requestLog';
import { displayUrl } from './urlMask';

/** Shorter values are not treated as secrets: masking every `abc` in a body would destroy it for nothing. */
export const MIN_SECRET_LENGTH = 8;
const REDACTED = '[REDACTED]';

type HeaderValue = string | string[] | undefined;
const CLIENT_CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'proxy-authorization', 'x-goog-api-key'];

/** The credential part of an `Authorization` value (`Bearer sk-…` → `sk-…`); the whole value without a scheme. */
export function credentialOf(value: string): string {
  const v = value.trim();
  const sp = v.indexOf(' ');
  return sp > 0 && /^[A-Za-z][A-Za-z0-9_-]*$/.test(v.slice(0, sp)) ? v.slice(sp + 1).trim() : v;
}

/** The secrets known for one request; every `apply*` replaces them (and bearer / `sk-` shapes) with [REDACTED]. */
export class SecretSet {
  private readonly values: string[] = [];
  // Inputs are normalised on first use: most requests succeed and never scrub anything, so they pay nothing here.
  private pending: Array<string | undefined> | undefined;
  private pendingHeaders: Array<Record<string, HeaderValue>> | undefined;

  /** Adds values (undefined, blank and too-short ones are ignored); longest first so overlaps mask fully. */
  add(...values: Array<string | undefined>): this {
    if (this.pending) this.pending.push(...values);
    else this.pending = values;
    return this;
  }

  /** Adds the client's own `authorization` (without its scheme) and `x-api-key`. */
  addClientHeaders(headers: Record<string, HeaderValue>): this {
    (this.pendingHeaders ??= []).push(headers);
    return this;
  }

  /** The values, with every pending input folded in. */
  private get known(): string[] {
    if (this.pendingHeaders) {
      const all = this.pendingHeaders;
      this.pendingHeaders = undefined;
      for (const h of all) this.foldHeaders(h);
    }
    if (this.pending) {
      const all = this.pending;
      this.pending = undefined;
      this.fold(all);
    }
    return this.values;
  }

  private fold(values: ReadonlyArray<string | undefined>): void {
    for (const v of values) {
      const s = v?.trim();
      if (!s || s.length < MIN_SECRET_LENGTH || this.values.includes(s)) continue;
      this.values.push(s);
      // A key echoed URL-encoded (query strings, form bodies) is the same leak.
      const enc = encodeURIComponent(s);
      if (enc !== s && !this.values.includes(enc)) this.values.push(enc);
    }
    this.values.sort((a, b) => b.length - a.length);
  }

  private foldHeaders(headers: Record<string, HeaderValue>): void {
    for (const name of CLIENT_CREDENTIAL_HEADERS) {
      const v = headers[name];
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) this.fold([credentialOf(item), item]);
    }
  }

  get size(): number {
    return this.known.length;
  }

  /** Free text (log lines, error messages, body previews). */
  text(s: string): string {
    return redactText(s, this.known);
  }

  /** The known values, longest first (for previews that must redact before they cut). */
  list(): readonly string[] {
    return this.known;
  }

  /**
   * A body: returned as is (same Buffer) when it holds no secret, so the common case copies nothing. A body that is
   * not UTF-8 (compressed, binary) is scrubbed byte-wise of the known values only.
   */
  body(b: Buffer): Buffer {
    if (b.length === 0) return b;
    const s = b.toString('utf8');
    if (!Buffer.from(s).equals(b)) return this.bytes(b);
    const r = this.text(s);
    return r === s ? b : Buffer.from(r);
  }

  private bytes(b: Buffer): Buffer {
    let out = b;
    for (const v of this.known) {
      const needle = Buffer.from(v);
      if (out.indexOf(needle) < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, from)) {
        parts.push(out.subarray(from, at), Buffer.from(REDACTED));
        from = at + needle.length;
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** A URL as shown: masked query/userinfo, then known secrets. */
  url(u: string): string {
    return this.text(displayUrl(u));
  }

  /** Header values (any name) scrubbed of known secrets; the object keeps its names. */
  headers<T extends Record<string, HeaderValue>>(h: T): T {
    const out: Record<string, HeaderValue> = {};
    for (const [name, v] of Object.entries(h)) {
      out[name] = v === undefined ? v : Array.isArray(v) ? v.map((x) => this.text(x)) : this.text(v);
    }
    return out as T;
  }

  /** Every string inside a JSON-like value (a log record, a debug blob). */
  deep<T>(value: T): T {
    return scrub(value, (s) => this.text(s)) as T;
  }
}

function scrub(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => scrub(x, f));
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = scrub(x, f);
    return out;
  }
  return v;
}

export { REDACTED };
