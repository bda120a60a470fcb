// Line-preserving TOML editing. Client config files (Codex `config.toml`) are hand-written and full of comments,
// MCP servers and profiles; the seed re-serialised the whole file and lost all of that. Here every edit touches only
// the bytes of the value or line it changes, and the text is parse-checked with smol-toml before and after.

import { parse, TomlError } from 'smol-toml';

export type TomlScalar = string | number | boolean;

export type TomlEditErrorCode = 'TOML_PARSE' | 'TOML_UNSUPPORTED_LAYOUT' | 'TOML_EDIT_FAILED';

/** Raised when a document cannot be read or safely edited; `line` is 1-based when known. */
export class TomlEditError extends Error {
  override readonly name = 'TomlEditError';
  constructor(
    readonly code: TomlEditErrorCode,
    message: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One table header or key/value statement with the offsets needed to edit it in place. */
interface Statement {
  kind: 'table' | 'arrayTable' | 'keyval';
  /** Header path for tables; key path relative to `table` for key/values. */
  key: string[];
  table: string[];
  lineStart: number;
  /** Offsets of the value text (key/values only, else -1). */
  valueStart: number;
  valueEnd: number;
  /** Offset just past the line break ending the statement (or the text length). */
  end: number;
}

export interface TableKeyEdit {
  key: string;
  value: TomlScalar;
  /** Leave an existing value alone (e.g. the user's own `request_max_retries`). */
  onlyIfAbsent?: boolean;
}

/** Parse `text` (a blank document is an empty table); throws TomlEditError('TOML_PARSE') with the line. */
export function parseTomlText(text: string): Record<string, unknown> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return parse(body) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0] ?? 'invalid TOML';
      throw new TomlEditError('TOML_PARSE', `${first} (line ${err.line}, column ${err.column})`, err.line, {
        cause: err,
      });
    }
    throw new TomlEditError('TOML_PARSE', `invalid TOML: ${String(err)}`, undefined, { cause: err });
  }
}

/** Value at `path` in an already-parsed document, or undefined. */
export function tomlValueAt(doc: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Read the value at `path` from TOML text (parse-checked). */
export function readTomlValue(text: string, path: readonly string[]): unknown {
  return tomlValueAt(parseTomlText(text), path);
}

/** TOML source for a scalar; strings become basic strings. */
export function formatTomlValue(value: TomlScalar): string {
  if (typeof value === 'string') {
    // JSON escapes are valid TOML basic-string escapes; DEL is the one control TOML forbids that JSON leaves raw.
    return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  return value ? 'true' : 'false';
}

/** TOML source for one key segment (bare when possible). */
export function formatTomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : formatTomlValue(key);
}

/** Set a top-level key: edit its value in place, or insert it before the first table header. */
export function setTopLevelKey(text: string, key: string, value: TomlScalar): string {
  const doc = parseTomlText(text);
  const existing = tomlValueAt(doc, [key]);
  if (existing !== undefined && typeof existing === 'object') {
    throw new TomlEditError('TOML_UNSUPPORTED_LAYOUT', `top-level "${key}" is a table, not a value`);
  }
  if (existing === value) return text;
  const stmts = scan(text);
  const eol = eolOf(text);
  const line = `${formatTomlKey(key)} = ${formatTomlValue(value)}`;
  const found = stmts.find((s) => s.kind === 'keyval' && s.table.length === 0 && samePath(s.key, [key]));
  if (found) return checked(splice(text, found.valueStart, found.valueEnd, formatTomlValue(value)));

  const firstHeader = stmts.findIndex((s) => s.kind !== 'keyval');
  const topKeys = (firstHeader < 0 ? stmts : stmts.slice(0, firstHeader)).filter((s) => s.kind === 'keyval');
  const last = topKeys[topKeys.length - 1];
  if (last) {
    return checked(insertLineAfter(text, last.end, line, eol));
  }
  const header = firstHeader >= 0 ? stmts[firstHeader] : undefined;
  if (!header) {
    // Only comments/blank lines: append, as a user would.
    return checked(insertLineAfter(text, text.length, line, eol));
  }
  // Comments directly above a header describe that table, so the new key goes above them.
  const at = attachedCommentStart(text, header.lineStart);
  return checked(splice(text, at, at, `${line}${eol}${eol}`));
}

/** Remove a top-level key line (and the blank line that separated it, when it stood alone). */
export function removeTopLevelKey(text: string, key: string): string {
  parseTomlText(text);
  const stmts = scan(text);
  const found = stmts.find((s) => s.kind === 'keyval' && s.table.length === 0 && samePath(s.key, [key]));
  if (!found) return text;
  return checked(removeRange(text, found.lineStart, found.end));
}

/**
 * Set keys inside the table `[table...]`: update values in place, add missing keys after the table's last key, or
 * create the table at the end of the file. Tables written as dotted keys or inline tables are refused.
 */
export function setTableKeys(text: string, table: readonly string[], edits: readonly TableKeyEdit[]): string {
  const doc = parseTomlText(text);
  const stmts = scan(text);
  assertPlainTable(text, stmts, doc, table);
  const eol = eolOf(text);
  const headerIdx = stmts.findIndex((s) => s.kind === 'table' && samePath(s.key, table));

  if (headerIdx < 0) {
    const todo = edits.filter((e) => tomlValueAt(doc, [...table, e.key]) === undefined || !e.onlyIfAbsent);
    if (todo.length === 0) return text;
    const lines = [`[${table.map(formatTomlKey).join('.')}]`];
    for (const e of todo) lines.push(`${formatTomlKey(e.key)} = ${formatTomlValue(e.value)}`);
    const body = lines.join(eol) + eol;
    let prefix = '';
    if (text.length > 0 && !text.endsWith('\n')) prefix = eol + eol;
    else if (text.trim().length > 0 && !/\n[ \t]*\r?\n$/.test(text)) prefix = eol;
    return checked(text + prefix + body);
  }

  let out = text;
  // Re-scan after each change so offsets stay valid; these files are small and edited rarely.
  for (const e of edits) {
    const cur = scan(out);
    const hIdx = cur.findIndex((s) => s.kind === 'table' && samePath(s.key, table));
    const header = cur[hIdx];
    if (!header) throw new TomlEditError('TOML_EDIT_FAILED', 'table header vanished during edit');
    const section = sectionAfter(cur, hIdx);
    const existing = section.find((s) => samePath(s.key, [e.key]));
    const current = tomlValueAt(parseTomlText(out), [...table, e.key]);
    if (existing) {
      if (e.onlyIfAbsent || current === e.value) continue;
      if (current !== undefined && typeof current === 'object') {
        throw new TomlEditError('TOML_UNSUPPORTED_LAYOUT', `"${[...table, e.key].join('.')}" is not a plain value`);
      }
      out = splice(out, existing.valueStart, existing.valueEnd, formatTomlValue(e.value));
      continue;
    }
    if (current !== undefined) {
      throw new TomlEditError(
        'TOML_UNSUPPORTED_LAYOUT',
        `"${[...table, e.key].join('.')}" is defined as a sub-table; edit it by hand`,
      );
    }
    const lastKey = section[section.length - 1];
    const indent = lastKey ? (/^[ \t]*/.exec(out.slice(lastKey.lineStart, lastKey.end))?.[0] ?? '') : '';
    const line = `${indent}${formatTomlKey(e.key)} = ${formatTomlValue(e.value)}`;
    out = insertLineAfter(out, lastKey ? lastKey.end : header.end, line, eol);
  }
  return checked(out);
}

/** Remove `[table]`: its header and key/value lines (comments after the last key stay, they may belong below). */
export function removeTable(text: string, table: readonly string[]): string {
  parseTomlText(text);
  const stmts = scan(text);
  const hIdx = stmts.findIndex((s) => s.kind === 'table' && samePath(s.key, table));
  const header = stmts[hIdx];
  if (!header) return text;
  const section = sectionAfter(stmts, hIdx);
  const last = section[section.length - 1];
  return checked(removeRange(text, header.lineStart, last ? last.end : header.end));
}

/** Remove one key/value line from `[table]`. */
export function removeTableKey(text: string, table: readonly string[], key: string): string {
  parseTomlText(text);
  const stmts = scan(text);
  const hIdx = stmts.findIndex((s) => s.kind === 'table' && samePath(s.key, table));
  if (hIdx < 0) return text;
  const found = sectionAfter(stmts, hIdx).find((s) => samePath(s.key, [key]));
  if (!found) return text;
  return checked(splice(text, found.lineStart, found.end, ''));
}

// ---------------------------------------------------------------------------------------------------------------

function checked(text: string): string {
  try {
    parseTomlText(text);
  } catch (err) {
    throw new TomlEditError('TOML_EDIT_FAILED', 'edit produced invalid TOML; nothing was written', undefined, {
      cause: err,
    });
  }
  return text;
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function startsWithPath(full: readonly string[], prefix: readonly string[]): boolean {
  return full.length >= prefix.length && prefix.every((v, i) => v === full[i]);
}

function splice(text: string, from: number, to: number, insert: string): string {
  return text.slice(0, from) + insert + text.slice(to);
}

/** Insert `line` at `at` (a line start, or the end of a text that may lack its final newline). */
function insertLineAfter(text: string, at: number, line: string, eol: string): string {
  const needsBreak = at > 0 && text[at - 1] !== '\n';
  return splice(text, at, at, `${needsBreak ? eol : ''}${line}${eol}`);
}

function isBlankLineAt(text: string, start: number): { end: number } | undefined {
  let i = start;
  while (text[i] === ' ' || text[i] === '\t') i++;
  if (text[i] === '\r' && text[i + 1] === '\n') return { end: i + 2 };
  if (text[i] === '\n') return { end: i + 1 };
  return undefined;
}

/** Remove [from, to) and collapse the blank line that separated the removed block from its neighbours. */
function removeRange(text: string, from: number, to: number): string {
  let start = from;
  let end = to;
  const after = isBlankLineAt(text, end);
  const atEof = end >= text.length;
  const prevStart = previousLineStart(text, start);
  const beforeBlank = prevStart !== undefined && isBlankLineAt(text, prevStart) !== undefined;
  if (beforeBlank && (atEof || after)) start = prevStart;
  else if (prevStart === undefined && after) end = after.end;
  return text.slice(0, start) + text.slice(end);
}

function previousLineStart(text: string, lineStart: number): number | undefined {
  if (lineStart === 0) return undefined;
  const prevBreak = text.lastIndexOf('\n', lineStart - 2);
  return prevBreak + 1;
}

function attachedCommentStart(text: string, headerLineStart: number): number {
  let at = headerLineStart;
  for (;;) {
    const prev = previousLineStart(text, at);
    if (prev === undefined) return at;
    if (!/^[ \t]*#/.test(text.slice(prev, at))) return at;
    at = prev;
  }
}

function sectionAfter(stmts: readonly Statement[], headerIdx: number): Statement[] {
  const out: Statement[] = [];
  for (let i = headerIdx + 1; i < stmts.length; i++) {
    const s = stmts[i];
    if (!s || s.kind !== 'keyval') break;
    out.push(s);
  }
  return out;
}

function assertPlainTable(text: string, stmts: readonly Statement[], doc: Record<string, unknown>, table: readonly string[]): void {
  const name = table.join('.');
  const existing = tomlValueAt(doc, table);
  if (existing !== undefined && (typeof existing !== 'object' || Array.isArray(existing))) {
    throw new TomlEditError('TOML_UNSUPPORTED_LAYOUT', `"${name}" is not a table`);
  }
  for (const s of stmts) {
    if (s.kind === 'arrayTable' && samePath(s.key, table)) {
      throw new TomlEditError('TOML_UNSUPPORTED_LAYOUT', `"${name}" is an array of tables`, lineNumberAt(text, s.lineStart));
    }
    if (s.kind !== 'keyval') continue;
    const full = [...s.table, ...s.key];
    if (startsWithPath(full, table) && !startsWithPath(s.table, table)) {
      throw new TomlEditError(
        'TOML_UNSUPPORTED_LAYOUT',
        `"${name}" is written as dotted keys or an inline table; rewrite it as a [${name}] section and retry`,
        lineNumberAt(text, s.lineStart),
      );
    }
  }
}

function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Split a (valid) TOML document into statements. Lenient: smol-toml has already validated the text. */
function scan(text: string): Statement[] {
  const out: Statement[] = [];
  const n = text.length;
  let table: string[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < n) {
    const lineStart = i;
    i = skipSpaces(text, i);
    const c = text[i];
    if (c === undefined) break;
    if (c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      i = toLineEnd(text, i);
      continue;
    }
    if (c === '[') {
      const isArray = text[i + 1] === '[';
      const k = parseKey(text, i + (isArray ? 2 : 1));
      const end = toLineEnd(text, skipSpaces(text, k.end) + (isArray ? 2 : 1));
      table = k.path;
      out.push({ kind: isArray ? 'arrayTable' : 'table', key: k.path, table: k.path, lineStart, valueStart: -1, valueEnd: -1, end });
      i = end;
      continue;
    }
    const k = parseKey(text, i);
    const valueStart = skipSpaces(text, skipSpaces(text, k.end) + 1);
    const valueEnd = skipValue(text, valueStart);
    const end = toLineEnd(text, valueEnd);
    out.push({ kind: 'keyval', key: k.path, table, lineStart, valueStart, valueEnd, end });
    i = end;
  }
  return out;
}

function skipSpaces(text: string, i: number): number {
  while (text[i] === ' ' || text[i] === '\t') i++;
  return i;
}

function toLineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl + 1;
}

function parseKey(text: string, start: number): { path: string[]; end: number } {
  const path: string[] = [];
  let i = start;
  for (;;) {
    i = skipSpaces(text, i);
    const c = text[i];
    if (c === '"') {
      const end = skipValue(text, i);
      path.push(decodeBasic(text.slice(i + 1, end - 1)));
      i = end;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      path.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
      const bare = m?.[0] ?? '';
      path.push(bare);
      i += Math.max(bare.length, 1);
    }
    i = skipSpaces(text, i);
    if (text[i] !== '.') return { path, end: i };
    i++;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };

function decodeBasic(raw: string): string {
  return raw.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)/g, (_m, esc: string) => {
    if (esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
    return SIMPLE_ESCAPES[esc] ?? esc;
  });
}

function skipValue(text: string, i: number): number {
  const n = text.length;
  if (text.startsWith('"""', i) || text.startsWith("'''", i)) {
    const q = text.slice(i, i + 3);
    const escapes = q === '"""';
    let j = i + 3;
    while (j < n) {
      if (escapes && text[j] === '\\') {
        j += 2;
        continue;
      }
      if (text.startsWith(q, j)) {
        j += 3;
        // Up to two quotes may sit right before the closing delimiter.
        for (let extra = 0; extra < 2 && text[j] === q[0]; extra++) j++;
        return j;
      }
      j++;
    }
    return n;
  }
  const c = text[i];
  if (c === '"') {
    let j = i + 1;
    while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  if (c === "'") {
    const end = text.indexOf("'", i + 1);
    return end < 0 ? n : end + 1;
  }
  if (c === '[' || c === '{') {
    let depth = 0;
    let j = i;
    while (j < n) {
      const ch = text[j];
      if (ch === '"' || ch === "'") {
        j = skipValue(text, j);
        continue;
      }
      if (ch === '#') {
        j = toLineEnd(text, j);
        continue;
      }
      if (ch === '[' || ch === '{') depth++;
      else if (ch === ']' || ch === '}') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return n;
  }
  let j = i;
  while (j < n && text[j] !== '\n' && text[j] !== '\r' && text[j] !== '#') j++;
  while (j > i && (text[j - 1] === ' ' || text[j - 1] === '\t')) j--;
  return j;
}
