import assert from 'node:assert/strict';
import { SecretSet, credentialOf } from '../../src/core/redact';
import { displayUrl, hasUserinfo, headerSafe, urlSecrets } from '../../src/core/urlMask';
import { probeUrl } from '../../src/proxy/healthcheck';

describe('secret set', () => {
  it('scrubs every known value from text, headers, bodies and nested records', () => {
    const s = new SecretSet().add('tok-1234567890', undefined, 'short').addClientHeaders({ authorization: 'Bearer cli-abcdefgh12', 'x-api-key': 'xk-0987654321' });
    assert.ok(!s.list().includes('short'), 'short values are ignored');
    assert.equal(s.text('a tok-1234567890 b cli-abcdefgh12 c xk-0987654321'), 'a [REDACTED] b [REDACTED] c [REDACTED]');
    assert.deepEqual(s.headers({ 'x-echo': 'xk-0987654321', n: ['tok-1234567890', 'ok'] }), { 'x-echo': '[REDACTED]', n: ['[REDACTED]', 'ok'] });
    assert.deepEqual(s.deep({ a: [{ b: 'see tok-1234567890' }], n: 5 }), { a: [{ b: 'see [REDACTED]' }], n: 5 });
    const plain = Buffer.from('nothing here');
    assert.equal(s.body(plain), plain, 'a clean body is not copied');
    assert.equal(s.body(Buffer.from('{"k":"tok-1234567890"}')).toString(), '{"k":"[REDACTED]"}');
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('tok-1234567890'), Buffer.from([0xc3])]);
    assert.ok(!s.body(binary).includes('tok-1234567890'), 'binary bodies are scrubbed byte-wise');
    assert.equal(s.text('k=tok%2D1234567890'.replace('%2D', '-')), 'k=[REDACTED]');
    assert.equal(credentialOf('Bearer abc'), 'abc');
    assert.equal(credentialOf('raw-key-no-scheme'), 'raw-key-no-scheme');
  });

  it('knows values added after it was first used (a later attempt resolves another upstream key)', () => {
    const s = new SecretSet().addClientHeaders({ authorization: 'Bearer cli-abcdefgh12' });
    assert.equal(s.text('cli-abcdefgh12 up-second-key-777'), '[REDACTED] up-second-key-777');
    s.add('up-second-key-777', 'up-second-key-777-and-more');
    s.addClientHeaders({ 'x-api-key': 'xk-late-0987654321' });
    // Longest first after every addition: the longer key is masked whole, not around the shorter one.
    assert.equal(s.text('cli-abcdefgh12 up-second-key-777-and-more xk-late-0987654321'), '[REDACTED] [REDACTED] [REDACTED]');
    assert.ok(['up-second-key-777', 'up-second-key-777-and-more', 'xk-late-0987654321'].every((v) => s.list().includes(v)));
  });
});

describe('URLs as shown', () => {
  it('masks userinfo and secret-looking query values, leaves everything else as configured', () => {
    assert.equal(displayUrl('https://api.example/v1'), 'https://api.example/v1');
    assert.equal(displayUrl('https://u:p@api.example/v1'), 'https://***@api.example/v1');
    assert.equal(displayUrl('https://h/openai?api-version=2024-10-01&api_key=abc&sig=x#f'), 'https://h/openai?api-version=2024-10-01&api_key=***&sig=***#f');
    assert.equal(displayUrl('/v1/models?key=abc&limit=2'), '/v1/models?key=***&limit=2');
    assert.deepEqual(urlSecrets('https://u:pw@h/x?api-version=1&token=a%2Fb'), ['u', 'pw', 'a/b', 'a%2Fb']);
    assert.ok(hasUserinfo('https://u@h'));
    assert.ok(!hasUserinfo('https://h/@x'));
  });

  it('makes header values ASCII: punycode hosts, percent-encoded paths and names, no control characters', () => {
    assert.equal(headerSafe('日本#0 http://exämple.invalid/v1'), '%E6%97%A5%E6%9C%AC#0 http://xn--exmple-cua.invalid/v1');
    assert.equal(headerSafe('a#0 https://h.example'), 'a#0 https://h.example');
    assert.equal(headerSafe('x\r\ny'), 'xy');
  });
});

describe('health probe URL', () => {
  it('keeps the base_url query (api-version) on the probe', () => {
    assert.equal(probeUrl('https://h.example/openai?api-version=2024-10-01'), 'https://h.example/openai/models?api-version=2024-10-01');
    assert.equal(probeUrl('https://h.example/v1'), 'https://h.example/v1/models');
  });
});
