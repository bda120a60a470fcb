import assert from 'node:assert/strict';
import { plainString, readModel, readNestedString, replaceModel, scanObject, scanObjectFromEnd, setNestedString } from '../../src/core/jsonBody';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('surgical JSON body edits', () => {
  it('reads the top-level model without being fooled by nested or quoted look-alikes', () => {
    assert.equal(readModel(b('{"input":[{"model":"inner"}],"text":"\\"model\\":\\"x\\"","model":"gpt-5"}')), 'gpt-5');
    assert.equal(readModel(b('  {\n "model" : "a\\u00e9" }')), 'aé');
    assert.equal(readModel(b('{"model":5}')), undefined);
    // The model as the first member is read in place: malformed openings still say "no model", as the full scan does.
    for (const bad of ['{"model" 5}', '{"model":"open', '{"model":', '{"model"', '{"model":"a\\u00"}', '{"model":"tab\there"}']) {
      assert.equal(readModel(b(bad)), undefined, bad);
    }
    assert.equal(readModel(b('{"model":"first","model":"second"}')), 'first');
    assert.equal(readModel(b('{"mod\\u0065l":"escaped key"}')), 'escaped key');
    assert.equal(readModel(b('{ "model"\t:\n"spaced" ,"x":1}')), 'spaced');
    assert.equal(readModel(b('[1,2]')), undefined);
    assert.equal(readModel(b('not json')), undefined);
    assert.equal(readModel(b('')), undefined);
  });

  it('replaces only the model value and keeps every other byte', () => {
    const src = '{ "b": [1, {"x": "y"}],\n  "model":"gpt-5" ,"a": "\\\\", "c": null }';
    assert.equal(replaceModel(b(src), 'vendor/gpt-5').toString(), src.replace('"gpt-5"', '"vendor/gpt-5"'));
    assert.equal(replaceModel(b(src), 'quote"d').toString(), src.replace('"gpt-5"', '"quote\\"d"'));
    const noModel = b('{"a":1}');
    assert.equal(replaceModel(noModel, 'x'), noModel, 'same buffer when nothing to replace');
  });

  it('sets reasoning.effort: replaces, inserts into an existing object, or appends the object — keeping order', () => {
    assert.equal(setNestedString(b('{"model":"m","reasoning":{"effort":"low","summary":"auto"},"z":1}'), 'reasoning', 'effort', 'high')!.toString(),
      '{"model":"m","reasoning":{"effort":"high","summary":"auto"},"z":1}');
    assert.equal(setNestedString(b('{"reasoning":{"summary":"auto"}}'), 'reasoning', 'effort', 'high')!.toString(),
      '{"reasoning":{"summary":"auto","effort":"high"}}');
    assert.equal(setNestedString(b('{"reasoning":{ }}'), 'reasoning', 'effort', 'high')!.toString(), '{"reasoning":{ "effort":"high"}}');
    assert.equal(setNestedString(b('{"model":"m"}'), 'reasoning', 'effort', 'low')!.toString(), '{"model":"m","reasoning":{"effort":"low"}}');
    assert.equal(setNestedString(b('{}'), 'reasoning', 'effort', 'low')!.toString(), '{"reasoning":{"effort":"low"}}');
    assert.equal(setNestedString(b('{"reasoning":null}'), 'reasoning', 'effort', 'low')!.toString(), '{"reasoning":{"effort":"low"}}');
    assert.equal(setNestedString(b('[1]'), 'reasoning', 'effort', 'low'), undefined);
    assert.equal(setNestedString(b('{"a":'), 'reasoning', 'effort', 'low'), undefined);
    assert.equal(readNestedString(b('{"output_config":{"effort":"medium"}}'), 'output_config', 'effort'), 'medium');
  });

  it('scans a 2 MB body with escapes and stops early when the wanted keys are found', () => {
    const big = JSON.stringify({ model: 'gpt-5', input: Array.from({ length: 2000 }, (_, i) => ({ role: 'user', content: `line ${i} with "quotes" and \\ backslashes ${'x'.repeat(900)}` })), reasoning: { effort: 'low' } });
    const buf = b(big);
    assert.ok(buf.length > 1_900_000);
    const early = scanObject(buf, 0, new Set(['model']));
    assert.equal(early?.end, undefined, 'stopped before the end');
    const full = scanObject(buf, 0);
    assert.deepEqual([...full!.members.keys()], ['model', 'input', 'reasoning']);
    const out = setNestedString(buf, 'reasoning', 'effort', 'xhigh')!;
    assert.deepEqual(JSON.parse(out.toString()), { ...JSON.parse(big), reasoning: { effort: 'xhigh' } });
  });
});

describe('scanObjectFromEnd', () => {
  const bodies = [
    '{"model":"m","input":[{"t":"a \\"reasoning\\": {}"},{"reasoning":{"effort":"x"}}],"reasoning":{"effort":"low"},"stream":true}',
    ' { "a" : 1 , "reasoning" : { "effort" : "high" } , "b" : [ "\\\\" , null ] } ',
    '{"tools":[{"parameters":{"reasoning":{"type":"string"}}}],"stream":false}',
    '{"reasoning":{"effort":"a"},"reasoning":{"effort":"b"}}',
    '{}',
  ];
  it('finds the same top-level members JSON.parse sees, from the end', () => {
    for (const text of bodies) {
      const buf = Buffer.from(text);
      const scan = scanObjectFromEnd(buf, new Set(['reasoning']));
      assert.ok(scan, text);
      const span = scan.members.get('reasoning');
      const expected = (JSON.parse(text) as Record<string, unknown>)['reasoning'];
      if (expected === undefined) assert.equal(span, undefined, text);
      else assert.deepEqual(JSON.parse(buf.toString('utf8', span!.valueStart, span!.valueEnd)), expected, text);
    }
  });
  it('rejects what is not one JSON object', () => {
    for (const text of ['[{"a":1}]', '{"a":1', '"x"}', '{"a" 1}', '']) {
      assert.equal(scanObjectFromEnd(Buffer.from(text), new Set(['a'])), undefined, text);
    }
  });
  it('setNestedString edits the last occurrence and keeps every other byte', () => {
    const text = '{"model":"m","input":[{"reasoning":{"effort":"x"}}],"reasoning":{"effort":"low","summary":"auto"}}';
    const out = setNestedString(Buffer.from(text), 'reasoning', 'effort', 'high')!.toString();
    assert.equal(out, text.replace('"low"', '"high"'));
  });
});

describe('the scans agree with JSON.parse on tricky strings', () => {
  // Deterministic pseudo-random strings full of what the fast paths must not misread: quotes and backslashes next
  // to each other, escapes at every distance from a quote, multi-byte text, and keys escaped into wanted names.
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 16) % n;
  };
  const PIECES = ['"', '\\', '\\"', '"\\', 'a', 'é', '字', '🚀', ' ', '{', '}', ':', ',', '\n', '\t', 'reasoning', 'model', '\u0001'];
  const str = (): string => Array.from({ length: rnd(40) }, () => PIECES[rnd(PIECES.length)]).join('');
  /** JSON.stringify, with some keys written as \u escapes (valid JSON the fast key check must still decode). */
  const escapeKeys = (json: string): string => json.replace(/"(model|reasoning|effort)":/g, (m, k: string) =>
    rnd(2) ? `"\\u00${k.charCodeAt(0).toString(16)}${k.slice(1)}":` : m);

  it('reads model and effort, and finds reasoning from the end, as JSON.parse does', () => {
    for (let n = 0; n < 400; n++) {
      const obj: Record<string, unknown> = {};
      if (rnd(4)) obj['model'] = str();
      for (let k = rnd(4); k > 0; k--) obj[str()] = rnd(2) ? str() : [str(), { [str()]: str() }];
      if (rnd(4)) obj['reasoning'] = rnd(5) ? { [str()]: str(), effort: str() } : str();
      for (let k = rnd(3); k > 0; k--) obj[str()] = rnd(2) ? str() : null;
      const text = escapeKeys(JSON.stringify(obj));
      const buf = b(text);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const model = parsed['model'];
      assert.equal(readModel(buf), typeof model === 'string' ? model : undefined, text);
      const reasoning = parsed['reasoning'];
      const span = scanObjectFromEnd(buf, new Set(['reasoning']))!.members.get('reasoning');
      if (reasoning === undefined) assert.equal(span, undefined, text);
      else assert.deepEqual(JSON.parse(buf.toString('utf8', span!.valueStart, span!.valueEnd)), reasoning, text);
      const effort = (reasoning as { effort?: unknown } | undefined)?.effort;
      assert.equal(readNestedString(buf, 'reasoning', 'effort'), typeof effort === 'string' ? effort : undefined, text);
      const set = setNestedString(buf, 'reasoning', 'effort', 'high');
      assert.deepEqual((JSON.parse(set!.toString()) as { reasoning: unknown }).reasoning,
        reasoning !== null && typeof reasoning === 'object' ? { ...reasoning, effort: 'high' } : { effort: 'high' }, text);
    }
  });

  it('refuses a control character inside a string, as JSON.parse does', () => {
    assert.equal(readModel(b('{"model":"a\u0001b"}')), undefined);
    assert.equal(readModel(b('{"model":"a\\u0001b"}')), 'a\u0001b');
  });
});

describe('plainString (short strings reused by their bytes)', () => {
  it('always decodes what toString does, across slot collisions, lengths and multi-byte text', () => {
    const words: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const len = 1 + ((i * 7) % 80);
      let w = '';
      for (let k = 0; k < len; k++) w += String.fromCharCode(0x61 + ((i * 31 + k * 17) % 26));
      // Same length, same first, middle and last byte (the same slot), different elsewhere.
      words.push(w, `${w[0]}${'z'.repeat(Math.max(0, len - 2))}${len > 1 ? w[len - 1] : ''}`);
    }
    words.push('gpt-5', 'gpt-5-codex', 'claude-sonnet-4-5', 'é', 'ü-ß-模型', 'high', 'x'.repeat(64), 'x'.repeat(65));
    // Every string up to 5 bytes over letters 64 apart ('a'/'!', 'q'/'1'): many share a slot and differ in one byte.
    const alphabet = ['a', '!', 'q', '1'];
    let level = [''];
    for (let len = 1; len <= 5; len++) {
      level = level.flatMap((w) => alphabet.map((c) => w + c));
      words.push(...level, ...[...level].reverse());
    }
    for (let round = 0; round < 3; round++) {
      for (const w of words) {
        // Padding around the bytes: positions in a larger buffer must not matter.
        const buf = Buffer.from(`[${w}]`);
        assert.equal(plainString(buf, 1, buf.length - 1), w);
      }
    }
  });

  it('gives the same text for the same bytes, and the model of one client\'s requests read again and again', () => {
    const bodies = ['{"model":"gpt-5-codex","input":[]}', '{"model":"gpt-5","input":[]}', '{"model":"gpt-5-codex","x":1}'];
    for (let i = 0; i < 30; i++) {
      const b = bodies[i % 3]!;
      assert.equal(readModel(Buffer.from(b)), JSON.parse(b).model);
    }
  });
});
