import { strict as assert } from 'node:assert';
import { CLASS_HINTS, classifyUpstreamResponse } from '../../src/core/classify';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const json = { 'content-type': 'application/json; charset=utf-8' };

describe('classify', () => {
  it('classifies a Cloudflare 524 by server header and returns cf-ray', () => {
    const c = classifyUpstreamResponse(524, { server: 'CloudFlare', 'cf-ray': '8a1b2c3d4e-SJC' }, enc('timeout'));
    assert.equal(c.cls, 'cloudflare_timeout');
    assert.equal(c.cfRay, '8a1b2c3d4e-SJC');
    assert.equal(c.hint, CLASS_HINTS['cloudflare_timeout']);
  });

  it('classifies 524 with only cf-ray, but not a 524 without any Cloudflare sign', () => {
    assert.equal(classifyUpstreamResponse(524, { 'cf-ray': 'x' }, enc('')).cls, 'cloudflare_timeout');
    assert.equal(classifyUpstreamResponse(524, { server: 'nginx' }, enc('')).cls, undefined);
    assert.equal(classifyUpstreamResponse(504, { server: 'cloudflare' }, enc('')).cls, undefined);
  });

  it('detects an HTML challenge page at any status, 2xx included', () => {
    const page = enc('<html><script src="/cdn-cgi/challenge-platform/h/b/orchestrate"></script></html>');
    const h = { 'content-type': 'text/html; charset=UTF-8', server: 'cloudflare', 'cf-ray': ['r1', 'r2'] };
    const c403 = classifyUpstreamResponse(403, h, page);
    assert.equal(c403.cls, 'cloudflare_challenge');
    assert.equal(c403.cfRay, 'r1');
    assert.equal(classifyUpstreamResponse(200, { 'content-type': 'text/html' }, enc('x cf-chl-bypass')).cls,
      'cloudflare_challenge');
    assert.equal(classifyUpstreamResponse(403, { 'content-type': 'text/html' }, enc('<h1>Forbidden</h1>')).cls,
      undefined);
    // Markers in a JSON body are not a challenge page.
    assert.equal(classifyUpstreamResponse(403, json, enc('{"a":"/cdn-cgi/"}')).cls, undefined);
  });

  it('classifies a JSON 400 invalid_request_error as non-retryable (type check)', () => {
    const body = enc(JSON.stringify({ error: { type: 'invalid_request_error', message: 'bad param' } }));
    const c = classifyUpstreamResponse(400, json, body);
    assert.equal(c.cls, 'client_error_non_retryable');
    assert.match(c.hint ?? '', /limit error/);
    assert.equal(c.cfRay, undefined);
  });

  it('uses error.code and the Anthropic error envelope', () => {
    const byCode = enc(JSON.stringify({ error: { code: 'Context_Length_Exceeded', message: 'too long' } }));
    assert.equal(classifyUpstreamResponse(400, json, byCode).cls, 'client_error_non_retryable');
    const anthropic = enc(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'x' } }));
    assert.equal(classifyUpstreamResponse(413, { 'content-type': 'application/problem+json' }, anthropic).cls,
      'client_error_non_retryable');
  });

  it('matches the message patterns', () => {
    const cases: Array<[string, boolean]> = [
      ['tool_use ids must be unique', true],
      ['messages.3: all messages must have non-empty content except for the optional final assistant message', true],
      ['String should match pattern \'^srvtoolu_[a-zA-Z0-9_]+$\'', true],
      ['Unexpected `tool_use_id` found in `tool_result` blocks', true],
      ['Failed to parse the request body as JSON', true],
      ['Invalid JSON payload', true],
      ['Schema validation failed', true],
      ['rate limited, try later', false],
      ['schema missing', false],
    ];
    for (const [message, expected] of cases) {
      const c = classifyUpstreamResponse(422, json, enc(JSON.stringify({ error: { type: 'other', message } })));
      assert.equal(c.cls === 'client_error_non_retryable', expected, message);
      if (expected) assert.match(c.hint ?? '', /format\/parameter/);
    }
    assert.equal(
      classifyUpstreamResponse(400, json, enc(JSON.stringify({ message: 'invalid json' }))).cls,
      'client_error_non_retryable',
    );
    assert.equal(
      classifyUpstreamResponse(409, json, enc(JSON.stringify({ error: { error: 'JSON parse error' } }))).cls,
      'client_error_non_retryable',
    );
  });

  it('leaves non-JSON 400s, other statuses, and unknown types unclassified', () => {
    const body = JSON.stringify({ error: { type: 'invalid_request_error' } });
    assert.equal(classifyUpstreamResponse(400, { 'content-type': 'text/plain' }, enc(body)).cls, undefined);
    assert.equal(classifyUpstreamResponse(400, json, enc('not json')).cls, undefined);
    assert.equal(classifyUpstreamResponse(400, json, enc('')).cls, undefined);
    assert.equal(classifyUpstreamResponse(429, json, enc(body)).cls, undefined);
    assert.equal(classifyUpstreamResponse(401, json, enc(body)).cls, undefined);
    assert.equal(
      classifyUpstreamResponse(400, json, enc(JSON.stringify({ error: { type: 'server_error', message: 'x' } }))).cls,
      undefined,
    );
  });

  it('has an English hint for every class the proxy uses', () => {
    for (const k of [
      'cloudflare_timeout', 'cloudflare_challenge', 'client_error_non_retryable', 'upstream_transport_error',
      'upstream_stream_error', 'upstream_body_read_error', 'no_active_upstream_config', 'client_body_read_error',
      'no_upstream_for_model', 'request_too_large',
    ]) {
      assert.match(CLASS_HINTS[k] ?? '', /^[\x20-\x7e]+$/, k);
    }
  });
});
