// How an upstream URL is shown (admin API, logs, the tried header): userinfo and the values of query parameters
// that look like credentials (`?key=…`, `?sig=…`) are masked; anything else is shown exactly as configured so that
// logs written before this existed still match. Header values additionally need ASCII (punycode hosts).

const MASK = '***';
const SECRET_PARAM = /key|token|secret|sig|signature|password|passwd|pwd|auth|credential|session/i;

/** A URL (or a path with a query) as it may be shown anywhere: userinfo and secret-looking query values → `***`. */
export function displayUrl(raw: string): string {
  if (raw.indexOf('?') < 0 && raw.indexOf('@') < 0) return raw;
  const out = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${MASK}@`);
  const qi = out.indexOf('?');
  if (qi < 0) return out;
  const hash = out.indexOf('#', qi);
  const query = out.slice(qi + 1, hash < 0 ? undefined : hash);
  const masked = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join('&');
  return out.slice(0, qi + 1) + masked + (hash < 0 ? '' : out.slice(hash));
}

/** True when a base_url carries a `user:password@` part. */
export function hasUserinfo(raw: string): boolean {
  try {
    const u = new URL(raw.trim());
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

/**
 * A value safe for an HTTP header: URLs get punycode hosts and percent-encoded paths (what `URL` serialises),
 * any other character outside printable ASCII is percent-encoded, control characters are dropped.
 */
export function headerSafe(value: string): string {
  const withUrls = value.replace(/\bhttps?:\/\/[^\s,]+/gi, (m) => {
    try {
      const u = new URL(m);
      const href = u.href;
      // URL adds a trailing slash to a bare origin; keep the text as configured.
      return !m.endsWith('/') && href === `${u.origin}/` ? u.origin : href;
    } catch {
      return m;
    }
  });
  let out = '';
  for (const ch of withUrls) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) continue;
    out += c > 0x7e ? encodeURIComponent(ch) : ch;
  }
  return out;
}

/** The values `displayUrl` masks (secret-looking query values, userinfo), to scrub them from echoed text too. */
export function urlSecrets(raw: string): string[] {
  const out: string[] = [];
  if (raw.indexOf('?') < 0 && raw.indexOf('@') < 0) return out;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(raw);
  if (m?.[1]) out.push(...m[1].split(':').filter(Boolean));
  const qi = raw.indexOf('?');
  if (qi < 0) return out;
  for (const pair of raw.slice(qi + 1).split('#')[0]!.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    let name = pair.slice(0, eq);
    let value = pair.slice(eq + 1);
    try {
      name = decodeURIComponent(name);
      value = decodeURIComponent(value);
    } catch {
      // keep the raw text
    }
    if (SECRET_PARAM.test(name) && value) out.push(value, pair.slice(eq + 1));
  }
  return out;
}
