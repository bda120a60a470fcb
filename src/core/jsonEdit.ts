// Surgical edits of JSON text: find an object's members by offset, then insert, replace or remove one member
// while every other byte keeps the user's spacing, key order and line endings.
// Works on text that JSON.parse already accepted; it does not validate.

/** One `"key": value` member of an object, as offsets into the text. */
export interface JsonMember {
  key: string;
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** An object's braces and its members, as offsets into the text. */
export interface JsonObjectSpan {
  open: number;
  close: number;
  members: JsonMember[];
}

/** The last member named `key` (the one JSON.parse keeps), if any. */
export function lastMember(obj: JsonObjectSpan, key: string): JsonMember | undefined {
  for (let i = obj.members.length - 1; i >= 0; i--) if (obj.members[i]?.key === key) return obj.members[i];
  return undefined;
}

/** Append a member after the last one, copying the separator and colon spacing the file already uses. */
export function insertMember(
  text: string,
  obj: JsonObjectSpan,
  key: string,
  value: (indent: string | undefined, colon: string) => string,
  unit: string,
): string {
  const last = obj.members[obj.members.length - 1];
  const multiline = text.includes('\n');
  if (last) {
    const sepStart = obj.members.length > 1 ? text.lastIndexOf(',', last.keyStart) + 1 : obj.open + 1;
    const sep = text.slice(sepStart, last.keyStart);
    const colon = text.slice(last.keyEnd, last.valueStart);
    const nl = sep.lastIndexOf('\n');
    const indent = nl >= 0 ? sep.slice(nl + 1) : undefined;
    const src = `,${sep}${JSON.stringify(key)}${colon}${value(indent, colon)}`;
    return text.slice(0, last.valueEnd) + src + text.slice(last.valueEnd);
  }
  if (!multiline) {
    return text.slice(0, obj.open + 1) + `${JSON.stringify(key)}:${value(undefined, ':')}` + text.slice(obj.close);
  }
  const lineStart = text.lastIndexOf('\n', obj.open) + 1;
  const outer = /^[ \t]*/.exec(text.slice(lineStart, obj.open))?.[0] ?? '';
  const inner = outer + unit;
  const src = `\n${inner}${JSON.stringify(key)}: ${value(inner, ': ')}\n${outer}`;
  return text.slice(0, obj.open + 1) + src + text.slice(obj.close);
}

/** Removes member `idx` together with one adjoining comma. */
export function removeMember(text: string, obj: JsonObjectSpan, idx: number): string {
  const m = obj.members[idx];
  if (!m) return text;
  if (obj.members.length === 1) return text.slice(0, obj.open + 1) + text.slice(obj.close);
  const prev = obj.members[idx - 1];
  if (prev) return text.slice(0, prev.valueEnd) + text.slice(m.valueEnd);
  const next = obj.members[idx + 1];
  return text.slice(0, m.keyStart) + text.slice(next ? next.keyStart : m.valueEnd);
}

/** The indentation the file uses for one level (two spaces when it has none). */
export function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  return m?.[1] ?? '  ';
}

/** The index of the first non-whitespace character at or after `i`. */
export function skipJsonWs(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

function skipJsonString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

function skipJsonValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipJsonString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    while (j < text.length) {
      const ch = text[j];
      if (ch === '"') {
        j = skipJsonString(text, j);
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return j;
  }
  let j = i;
  while (j < text.length && !/[\s,}\]]/.test(text[j] ?? '')) j++;
  return j;
}

/** Members of the (valid) JSON object starting at `open`. */
export function scanObject(text: string, open: number): JsonObjectSpan {
  const members: JsonMember[] = [];
  let i = skipJsonWs(text, open + 1);
  while (text[i] === '"') {
    const keyStart = i;
    const keyEnd = skipJsonString(text, i);
    const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
    const valueStart = skipJsonWs(text, skipJsonWs(text, keyEnd) + 1);
    const valueEnd = skipJsonValue(text, valueStart);
    members.push({ key, keyStart, keyEnd, valueStart, valueEnd });
    i = skipJsonWs(text, valueEnd);
    if (text[i] === ',') i = skipJsonWs(text, i + 1);
  }
  return { open, close: i, members };
}

/** `text` without a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
