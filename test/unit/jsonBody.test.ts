import assert from 'node:assert/strict';
import { readModel, readNestedString, replaceModel, scanObject, scanObjectFromEnd, setNestedString } from '../../src/core/jsonBody';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('surgical JSON body edits', () => {
  it('reads the top-level model without being fooled by nested or quoted look-alikes', () => {
    assert.equal(readModel(b('{"input":[{"model":"inner"}],"text":"\\"model\\":\\"x\\"","model":"gpt-5"}')), 'gpt-5');
    assert.equal(readModel(b('  {\n "model" : "a\\u00e9" }')), 'aé');
    assert.equal(readModel(b('{"model":5}')), undefined);
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
