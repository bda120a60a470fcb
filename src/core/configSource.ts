// Source locator for config files: maps key paths to the line that defines them, so validation errors and warnings
// can say `file:line`. Only runs on text the parser already accepted, so it can be forgiving; it covers table
// headers, arrays of tables, dotted keys, inline tables and multi-line arrays.

/** One step of a key path: a table key or an array index. */
export type KeySeg = string | number;

/** Maps every key path defined in `text` to its 1-based line (first definition wins); query it with `lineOfPath`. */
export function keyLineMap(text: string, format: 'toml' | 'json'): Map<string, number> {
  return format === 'toml' ? tomlKeyLines(text) : jsonKeyLines(text);
}

/** The line of the longest prefix of `p` that `lines` knows, or undefined. */
export function lineOfPath(lines: ReadonlyMap<string, number>, p: readonly KeySeg[]): number | undefined {
  for (let n = p.length; n > 0; n--) {
    const line = lines.get(segsKey(p.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}

/** The 1-based line holding character `offset` of `text`. */
export function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function segsKey(p: readonly KeySeg[]): string {
  return JSON.stringify(p);
}

class Scanner {
  i = 0;
  line = 1;
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.i] ?? '';
  }
  startsWith(t: string): boolean {
    return this.s.startsWith(t, this.i);
  }
  step(n = 1): void {
    for (let k = 0; k < n && this.i < this.s.length; k++) {
      if (this.s.charCodeAt(this.i) === 10) this.line++;
      this.i++;
    }
  }
  /** Skips blanks; with `newlines`, also line breaks and `#` comments. */
  skip(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t') this.step();
      else if (newlines && (c === '\n' || c === '\r')) this.step();
      else if (newlines && c === '#') while (this.i < this.s.length && this.peek() !== '\n') this.step();
      else return;
    }
  }
  /** Reads a quoted string (any TOML/JSON form) and returns its content with simple escapes decoded. */
  quoted(): string {
    const triple = this.startsWith('"""') || this.startsWith("'''");
    const q = this.peek();
    const close = triple ? q.repeat(3) : q;
    this.step(close.length);
    let out = '';
    while (this.i < this.s.length && !this.startsWith(close)) {
      if (q === '"' && this.peek() === '\\') {
        this.step();
        const e = this.peek();
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      } else out += this.peek();
      this.step();
    }
    this.step(close.length);
    return out;
  }
  tomlKey(): string[] {
    const segs: string[] = [];
    for (;;) {
      this.skip(false);
      if (this.peek() === '"' || this.peek() === "'") segs.push(this.quoted());
      else {
        const start = this.i;
        while (/[A-Za-z0-9_-]/.test(this.peek())) this.step();
        segs.push(this.s.slice(start, this.i));
        if (this.i === start) return segs;
      }
      this.skip(false);
      if (this.peek() !== '.') return segs;
      this.step();
    }
  }
}

function record(out: Map<string, number>, p: readonly KeySeg[], line: number): void {
  const k = segsKey(p);
  if (!out.has(k)) out.set(k, line);
}

// TOML and JSON arrays share one shape: values separated by commas, newlines and (in TOML) comments.
function scanArray(
  sc: Scanner,
  out: Map<string, number>,
  p: KeySeg[],
  value: (sc: Scanner, out: Map<string, number>, p: KeySeg[]) => void,
): void {
  sc.step();
  for (let idx = 0; ; idx++) {
    sc.skip(true);
    if (sc.peek() === ']' || sc.peek() === '') break;
    record(out, [...p, idx], sc.line);
    value(sc, out, [...p, idx]);
    sc.skip(true);
    if (sc.peek() === ',') sc.step();
  }
  sc.step();
}

// `key = value` at `line`, in a table body or an inline table; every prefix of a dotted key gets the line too.
function tomlKeyValue(sc: Scanner, out: Map<string, number>, base: KeySeg[], line: number): void {
  const key = sc.tomlKey();
  for (let n = 1; n <= key.length; n++) record(out, [...base, ...key.slice(0, n)], line);
  sc.skip(false);
  if (sc.peek() === '=') sc.step();
  sc.skip(false);
  tomlValue(sc, out, [...base, ...key]);
}

function tomlValue(sc: Scanner, out: Map<string, number>, p: KeySeg[]): void {
  const c = sc.peek();
  if (c === '"' || c === "'") {
    sc.quoted();
  } else if (c === '{') {
    sc.step();
    for (;;) {
      sc.skip(true);
      if (sc.peek() === '}' || sc.peek() === '') break;
      tomlKeyValue(sc, out, p, sc.line);
      sc.skip(true);
      if (sc.peek() === ',') sc.step();
    }
    sc.step();
  } else if (c === '[') {
    scanArray(sc, out, p, tomlValue);
  } else {
    while (sc.i < sc.s.length && !',]}\n\r#'.includes(sc.peek())) sc.step();
  }
}

function tomlKeyLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  const sc = new Scanner(text);
  let current: KeySeg[] = [];
  while (sc.i < text.length) {
    const before = sc.i;
    sc.skip(true);
    if (sc.i >= text.length) break;
    const line = sc.line;
    if (sc.peek() === '[') {
      const isArray = sc.startsWith('[[');
      sc.step(isArray ? 2 : 1);
      const segs = sc.tomlKey();
      current = [];
      segs.forEach((seg, j) => {
        current.push(seg);
        const k = segsKey(current);
        const count = arrayCounts.get(k);
        if (isArray && j === segs.length - 1) {
          record(out, current, line);
          arrayCounts.set(k, (count ?? 0) + 1);
          current.push(count ?? 0);
        } else if (count !== undefined) {
          current.push(count - 1);
        }
      });
      record(out, current, line);
      while (sc.i < text.length && sc.peek() !== '\n') sc.step();
    } else {
      tomlKeyValue(sc, out, current, line);
      sc.skip(false);
      if (sc.peek() === '#') while (sc.i < text.length && sc.peek() !== '\n') sc.step();
    }
    if (sc.i === before) sc.step();
  }
  return out;
}

function jsonValue(sc: Scanner, out: Map<string, number>, p: KeySeg[]): void {
  sc.skip(true);
  if (sc.peek() === '{') {
    sc.step();
    for (;;) {
      sc.skip(true);
      if (sc.peek() !== '"') break;
      const line = sc.line;
      const key = sc.quoted();
      record(out, [...p, key], line);
      sc.skip(true);
      if (sc.peek() === ':') sc.step();
      jsonValue(sc, out, [...p, key]);
      sc.skip(true);
      if (sc.peek() === ',') sc.step();
    }
    sc.step();
  } else if (sc.peek() === '[') {
    scanArray(sc, out, p, jsonValue);
  } else if (sc.peek() === '"') {
    sc.quoted();
  } else {
    const start = sc.i;
    while (sc.i < sc.s.length && !',]}\n\r \t'.includes(sc.peek())) sc.step();
    if (sc.i === start) sc.step();
  }
}

function jsonKeyLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  jsonValue(new Scanner(text), out, []);
  return out;
}
