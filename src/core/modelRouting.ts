// Model allow-lists and name mapping per upstream. Patterns hold at most one `*`.
// Differences from the seed (deliberate): a pattern's prefix and suffix may not overlap ("ab*ba" does not match
// "aba"), wildcard ties are broken deterministically, and a `false` supported_models value excludes the model.
import { memoByString } from './memo';
import type { UpstreamConfig } from './types';

interface Pattern {
  prefix: string;
  suffix: string;
}

function splitPattern(pattern: string): Pattern | undefined {
  const star = pattern.indexOf('*');
  if (star < 0 || pattern.indexOf('*', star + 1) >= 0) return undefined;
  return { prefix: pattern.slice(0, star), suffix: pattern.slice(star + 1) };
}

function matchSplit(p: Pattern, text: string): boolean {
  return (
    text.length >= p.prefix.length + p.suffix.length && text.startsWith(p.prefix) && text.endsWith(p.suffix)
  );
}

/** Exact equality without `*`; prefix/suffix match with one `*`; never matches with two or more. */
export function matchWildcard(pattern: string, text: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === text;
  const p = splitPattern(pattern);
  return p !== undefined && matchSplit(p, text);
}

/**
 * Key of the best single-`*` pattern matching `text`: most literal characters first, then the longest single
 * literal run (for "gpt-4o", "gpt-*" beats "g*-4o": one unbroken literal is the stronger signal), then file order.
 */
function bestWildcardKey(keys: Iterable<string>, text: string): { key: string; p: Pattern } | undefined {
  let best: { key: string; p: Pattern } | undefined;
  let bestSpec = -1;
  let bestRun = -1;
  for (const key of keys) {
    const p = splitPattern(key);
    if (!p || !matchSplit(p, text)) continue;
    const spec = p.prefix.length + p.suffix.length;
    const run = Math.max(p.prefix.length, p.suffix.length);
    // Strictly greater only: equal candidates keep the earlier one (file order).
    if (spec > bestSpec || (spec === bestSpec && run > bestRun)) {
      best = { key, p };
      bestSpec = spec;
      bestRun = run;
    }
  }
  return best;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Name to send upstream: exact key first, else the most specific wildcard (capture fills the first `*`). */
export function effectiveModel(mapping: Record<string, string>, requested: string): string {
  if (hasOwn(mapping, requested)) return mapping[requested] as string;
  const best = bestWildcardKey(Object.keys(mapping), requested);
  if (!best) return requested;
  const replacement = mapping[best.key] as string;
  const star = replacement.indexOf('*');
  if (star < 0) return replacement;
  const captured = requested.slice(best.p.prefix.length, requested.length - best.p.suffix.length);
  return replacement.slice(0, star) + captured + replacement.slice(star + 1);
}

/**
 * `effectiveModel` and `isModelSupported` with their answers kept per upstream and requested model: an upstream's
 * lists are fixed for a config snapshot (a reload brings new objects), and a client asks for a handful of models.
 */
const mappedMemo = new WeakMap<Record<string, string>, (requested: string) => string>();
export function mappedModelFor(mapping: Record<string, string>, requested: string): string {
  let f = mappedMemo.get(mapping);
  if (!f) {
    f = memoByString((m) => effectiveModel(mapping, m), 64);
    mappedMemo.set(mapping, f);
  }
  return f(requested);
}

const supportedMemo = new WeakMap<Record<string, boolean>, WeakMap<Record<string, string>, (requested: string) => boolean>>();
export function isModelSupportedFor(supported: Record<string, boolean>, mapping: Record<string, string>, requested: string): boolean {
  let byMapping = supportedMemo.get(supported);
  if (!byMapping) supportedMemo.set(supported, (byMapping = new WeakMap()));
  let f = byMapping.get(mapping);
  if (!f) {
    f = memoByString((m) => isModelSupported(supported, mapping, m), 64);
    byMapping.set(mapping, f);
  }
  return f(requested);
}

/** Verdict of the most specific supported_models entry for `model`, or undefined when none matches. */
function supportedVerdict(supported: Record<string, boolean>, model: string): boolean | undefined {
  if (hasOwn(supported, model)) return supported[model] !== false;
  const best = bestWildcardKey(Object.keys(supported), model);
  return best ? supported[best.key] !== false : undefined;
}

function isDenyListOnly(supported: Record<string, boolean>): boolean {
  for (const k in supported) if (supported[k] !== false) return false;
  return true;
}

/** Whether this upstream should serve `requested`; the most specific supported_models entry decides. */
export function isModelSupported(
  supported: Record<string, boolean>,
  mapping: Record<string, string>,
  requested: string,
): boolean {
  const verdict = supportedVerdict(supported, requested);
  if (verdict !== undefined) return verdict;
  if (hasOwn(mapping, requested)) return true;
  for (const k in mapping) if (matchWildcard(k, requested)) return true;
  // No entry names the model: an empty list or a pure deny-list allows everything else.
  return isDenyListOnly(supported);
}

/** Startup warnings about an upstream's model routing set-up (English versions of the seed's). */
export function modelRoutingWarnings(
  service: string,
  configName: string,
  index: number,
  upstream: UpstreamConfig,
): string[] {
  const name = `${service}:${configName} upstream[${index}] (${upstream.base_url})`;
  const supported = upstream.supported_models;
  const mapping = upstream.model_mapping;
  const hasSupported = Object.keys(supported).length > 0;
  const hasMapping = Object.keys(mapping).length > 0;
  const out: string[] = [];
  if (!hasSupported && !hasMapping) {
    out.push(
      `${name}: no supported_models or model_mapping configured; all models are assumed to be supported ` +
        `(requests for a model this upstream lacks will fail instead of moving to another upstream)`,
    );
    return out;
  }
  if (!hasSupported) {
    out.push(`${name}: model_mapping configured but no supported_models; mapping targets will not be validated`);
    return out;
  }
  const denyOnly = isDenyListOnly(supported);
  for (const [ext, target] of Object.entries(mapping)) {
    if (target.includes('*')) continue;
    const verdict = supportedVerdict(supported, target);
    const ok = verdict ?? denyOnly;
    if (!ok) out.push(`${name}: invalid model mapping '${ext}' -> '${target}': target model not in supported_models`);
  }
  return out;
}
