// A requests.jsonl line written straight into the writer's buffer: the same bytes as
// `Buffer.from(formatRequestLogLine(r, now))`, without the intermediate object, string and re-encoding. ASCII
// values (nearly all of them: ids, names, URLs, numbers) are copied byte by byte; anything else goes through
// JSON.stringify, so escaping and non-ASCII text are exactly what the string path produces.
import { memoByString } from './memo';
import { authSources } from './requestLog';
import type { RequestLogRecord } from './requestLog';

/** Keys and punctuation, encoded once. */
const K = {
  open: Buffer.from('{"timestamp_ms":'),
  service: Buffer.from(',"service":'),
  method: Buffer.from(',"method":'),
  path: Buffer.from(',"path":'),
  status: Buffer.from(',"status_code":'),
  duration: Buffer.from(',"duration_ms":'),
  ttfb: Buffer.from(',"ttfb_ms":'),
  config: Buffer.from(',"config_name":'),
  provider: Buffer.from(',"provider_id":'),
  base: Buffer.from(',"upstream_base_url":'),
  session: Buffer.from(',"session_id":'),
  cwd: Buffer.from(',"cwd":'),
  effort: Buffer.from(',"reasoning_effort":'),
  model: Buffer.from(',"model":'),
  mapped: Buffer.from(',"mapped_model":'),
  usage: Buffer.from(',"usage":'),
  debug: Buffer.from(',"http_debug":'),
  debugRef: Buffer.from(',"http_debug_ref":'),
  retry: Buffer.from(',"retry":'),
  errorClass: Buffer.from(',"error_class":'),
  errorMessage: Buffer.from(',"error_message":'),
  routeNote: Buffer.from(',"route_note":'),
  auth: Buffer.from(',"auth_resolution":'),
  authorization: Buffer.from('{"authorization":'),
  apiKeyFirst: Buffer.from('{"x_api_key":'),
  apiKey: Buffer.from(',"x_api_key":'),
  cost: Buffer.from(',"cost":'),
};

/** Raised inside the encoder when the line does not fit (or holds an odd value): the caller formats a string. */
const FALLBACK = Symbol('fallback');

class LineEncoder {
  buf!: Buffer;
  pos = 0;
  end = 0;

  bytes(b: Buffer): void {
    const n = b.length;
    if (this.pos + n > this.end) throw FALLBACK;
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  byte(c: number): void {
    if (this.pos >= this.end) throw FALLBACK;
    this.buf[this.pos++] = c;
  }

  /** A JSON text (ASCII copied, anything else encoded as UTF-8). */
  text(s: string): void {
    const n = s.length;
    if (this.pos + n > this.end) throw FALLBACK;
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        const size = Buffer.byteLength(s);
        if (this.pos + size > this.end) throw FALLBACK;
        this.pos += buf.write(s, this.pos, 'utf8');
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** A string value: quoted as is when it needs no escape, else as JSON.stringify writes it. */
  str(s: string): void {
    if (typeof s !== 'string') return this.json(s);
    const n = s.length;
    if (this.pos + n + 2 > this.end) throw FALLBACK;
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) return this.text(JSON.stringify(s));
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    this.pos = p;
  }

  num(n: number): void {
    if (Number.isSafeInteger(n) && n >= 0) {
      // Digits from the right, into their final place.
      let digits = 1;
      for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
      if (this.pos + digits > this.end) throw FALLBACK;
      let p = this.pos + digits;
      this.pos = p;
      let m = n;
      do {
        const q = Math.floor(m / 10);
        this.buf[--p] = 0x30 + (m - q * 10);
        m = q;
      } while (m > 0);
      return;
    }
    this.text(JSON.stringify(n));
  }

  /** Any other value, as JSON.stringify writes it (one it would leave out, with its key, takes the string path). */
  json(v: unknown): void {
    const t = JSON.stringify(v) as string | undefined;
    if (t === undefined) throw FALLBACK;
    this.text(t);
  }

  /** A flat object of numbers (usage), in its own key order; other values as JSON.stringify writes them. */
  flat(o: object): void {
    if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof (o as { toJSON?: unknown }).toJSON === 'function') return this.json(o);
    let first = true;
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = (o as Record<string, unknown>)[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      // `{"key":` for the first member, `,"key":` for the others: the same few keys every time.
      this.bytes(first ? openKey(k) : nextKey(k));
      first = false;
      if (typeof v === 'number') this.num(v);
      else this.json(v);
    }
    if (first) this.byte(0x7b);
    this.byte(0x7d);
  }
}

const openKey = memoByString((k: string) => Buffer.from(`{${JSON.stringify(k)}:`));
const nextKey = memoByString((k: string) => Buffer.from(`,${JSON.stringify(k)}:`));

const enc = new LineEncoder();

/**
 * Writes the line of `r` (no newline) into `buf` from `pos` up to `end`; returns where it ends, or -1 when it
 * does not fit (nothing after `pos` is meaningful then).
 */
export function encodeRequestLogLine(r: RequestLogRecord, nowMs: number, buf: Buffer, pos: number, end: number): number {
  const e = enc;
  e.buf = buf;
  e.pos = pos;
  e.end = end;
  try {
    // The fields every line has: anything but their usual types takes the string path.
    if (typeof r.status_code !== 'number' || typeof r.duration_ms !== 'number') throw FALLBACK;
    e.bytes(K.open);
    e.num(r.timestamp_ms ?? nowMs);
    e.bytes(K.service);
    e.str(r.service);
    e.bytes(K.method);
    e.str(r.method);
    e.bytes(K.path);
    e.str(r.path);
    e.bytes(K.status);
    e.num(r.status_code);
    e.bytes(K.duration);
    e.num(r.duration_ms);
    if (r.ttfb_ms !== undefined) {
      e.bytes(K.ttfb);
      e.num(r.ttfb_ms);
    }
    e.bytes(K.config);
    e.str(r.config_name ?? '-');
    if (r.provider_id !== undefined) {
      e.bytes(K.provider);
      e.str(r.provider_id);
    }
    e.bytes(K.base);
    e.str(r.upstream_base_url ?? '-');
    if (r.session_id !== undefined) {
      e.bytes(K.session);
      e.str(r.session_id);
    }
    if (r.cwd !== undefined) {
      e.bytes(K.cwd);
      e.str(r.cwd);
    }
    if (r.reasoning_effort !== undefined) {
      e.bytes(K.effort);
      e.str(r.reasoning_effort);
    }
    if (r.model !== undefined) {
      e.bytes(K.model);
      e.str(r.model);
    }
    if (r.mapped_model !== undefined) {
      e.bytes(K.mapped);
      e.str(r.mapped_model);
    }
    if (r.usage !== undefined) {
      e.bytes(K.usage);
      e.flat(r.usage);
    }
    if (r.http_debug !== undefined) {
      e.bytes(K.debug);
      e.json(r.http_debug);
    }
    if (r.http_debug_ref !== undefined) {
      e.bytes(K.debugRef);
      e.json(r.http_debug_ref);
    }
    if (r.retry !== undefined) {
      e.bytes(K.retry);
      e.json(r.retry);
    }
    if (r.error_class !== undefined) {
      e.bytes(K.errorClass);
      e.str(r.error_class);
    }
    if (r.error_message !== undefined) {
      e.bytes(K.errorMessage);
      e.str(r.error_message);
    }
    if (r.route_note !== undefined) {
      e.bytes(K.routeNote);
      e.str(r.route_note);
    }
    const auth = authSources(r.auth_resolution);
    if (auth !== undefined) {
      e.bytes(K.auth);
      if (auth.authorization !== undefined) {
        e.bytes(K.authorization);
        e.str(auth.authorization);
        if (auth.x_api_key !== undefined) e.bytes(K.apiKey);
      } else e.bytes(K.apiKeyFirst);
      if (auth.x_api_key !== undefined) e.str(auth.x_api_key);
      e.byte(0x7d);
    }
    if (r.cost) {
      e.bytes(K.cost);
      e.json({ amount: r.cost.amount, currency: r.cost.currency, rule: r.cost.rule });
    }
    e.byte(0x7d);
    return e.pos;
  } catch (err) {
    if (err === FALLBACK) return -1;
    throw err;
  } finally {
    e.buf = undefined as unknown as Buffer;
  }
}
