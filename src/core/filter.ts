// filter.json request-body rewriting (seed filter.rs, itself copied from cli_proxy).
// Differences from the seed, documented here because rules written for Rust's regex crate may behave a little
// differently: sources are JavaScript regular expressions (flags `gu`); a leading inline flag group such as
// `(?i)`, `(?s)`, `(?m)` or `(?is)` is turned into JS flags since JS rejects it inline; a source that does not
// compile is applied as a literal replace-all. Targets keep Rust's expansion rules exactly (`$1`, `$name` greedy
// over [A-Za-z0-9_], `${name}`, `$$`; an unknown group expands to nothing), so existing files keep working.
// Bodies that are not valid UTF-8 pass through untouched (Rust would match bytes). The file is watched by
// src/io/requestFilter.ts.
import { isUtf8 } from 'node:buffer';

type TargetPart = string | { group: string | number };

interface CompiledRule {
  regex?: RegExp;
  literal: string;
  /** Literal text for the fallback path; parsed parts for the regex path. */
  target: string;
  parts: TargetPart[];
}

export class FilterRuleError extends Error {
  readonly code = 'FILTER_RULE_INVALID';
}

/** Compiled filter.json rules (opaque outside this module). */
export type FilterRules = readonly CompiledRule[];

/** Rewritten body, or the very same Buffer when there are no rules or nothing changed. */
export function applyFilterRules(rules: FilterRules, body: Buffer): Buffer {
  if (rules.length === 0 || body.length === 0 || !isUtf8(body)) return body;
  const original = body.toString('utf8');
  let text = original;
  for (const rule of rules) text = applyRule(rule, text);
  return text === original ? body : Buffer.from(text, 'utf8');
}

/** Parses and compiles filter.json text; throws FilterRuleError (or a JSON SyntaxError) when it is not valid. */
export function parseFilterRules(text: string): FilterRules {
  return parseRules(text);
}

function parseRules(text: string): CompiledRule[] {
  const parsed: unknown = JSON.parse(text);
  const list: unknown[] = text.trimStart().startsWith('[') ? (parsed as unknown[]) : [parsed];
  return list.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new FilterRuleError(`rule ${i}: not an object`);
    }
    const r = raw as Record<string, unknown>;
    if (r['op'] !== 'replace' && r['op'] !== 'remove') throw new FilterRuleError(`rule ${i}: op must be replace|remove`);
    if (typeof r['source'] !== 'string') throw new FilterRuleError(`rule ${i}: source must be a string`);
    const target = r['op'] === 'remove' ? '' : r['target'] ?? '';
    if (typeof target !== 'string') throw new FilterRuleError(`rule ${i}: target must be a string`);
    return compileRule(r['source'], target);
  });
}

function compileRule(source: string, target: string): CompiledRule {
  let flags = 'gu';
  let pattern = source;
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline?.[1]) {
    pattern = source.slice(inline[0].length);
    for (const f of new Set(inline[1])) flags += f;
  }
  try {
    return { regex: new RegExp(pattern, flags), literal: source, target, parts: parseTarget(target) };
  } catch {
    return { literal: source, target, parts: [] };
  }
}

/** Rust regex `expand` syntax, parsed once per rule. */
function parseTarget(t: string): TargetPart[] {
  const parts: TargetPart[] = [];
  let lit = '';
  let i = 0;
  while (i < t.length) {
    const c = t[i];
    if (c !== '$') {
      lit += c;
      i++;
      continue;
    }
    if (t[i + 1] === '$') {
      lit += '$';
      i += 2;
      continue;
    }
    let name: string | undefined;
    let next = i + 1;
    if (t[i + 1] === '{') {
      const close = t.indexOf('}', i + 2);
      if (close > i + 2) {
        name = t.slice(i + 2, close);
        next = close + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(t.slice(i + 1));
      if (m) {
        name = m[0];
        next = i + 1 + name.length;
      }
    }
    if (name === undefined) {
      lit += '$';
      i++;
      continue;
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push({ group: /^[0-9]+$/.test(name) ? Number(name) : name });
    i = next;
  }
  if (lit) parts.push(lit);
  return parts;
}

function applyRule(rule: CompiledRule, text: string): string {
  if (!rule.regex) return rule.literal === '' ? text : text.split(rule.literal).join(rule.target);
  const parts = rule.parts;
  if (parts.every((p) => typeof p === 'string')) {
    const plain = parts.join('');
    return text.replace(rule.regex, () => plain);
  }
  return text.replace(rule.regex, (...args: unknown[]) => {
    // args: match, g1..gn, offset, input, [groups]
    const last = args[args.length - 1];
    const hasNamed = typeof last === 'object' && last !== null;
    const groupsEnd = args.length - (hasNamed ? 3 : 2);
    const named = hasNamed ? (last as Record<string, string | undefined>) : undefined;
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else if (typeof p.group === 'number') {
        const v = p.group < groupsEnd ? args[p.group] : undefined;
        if (typeof v === 'string') out += v;
      } else {
        const v = named?.[p.group];
        if (typeof v === 'string') out += v;
      }
    }
    return out;
  });
}
