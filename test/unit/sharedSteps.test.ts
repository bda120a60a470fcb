// The steps the HTTP pipeline and the WebSocket tunnel share: header hygiene for an upgrade, credential
// injection, and the requests.jsonl row of a finished request.
import * as assert from 'node:assert/strict';
import type { AuthResolution } from '../../src/core/auth';
import { injectCredentials } from '../../src/proxy/credentials';
import { upgradeRequestHeaders } from '../../src/proxy/headers';
import { requestLogRow } from '../../src/proxy/requestRecord';

const auth = (a: Partial<AuthResolution>): AuthResolution => ({ authorization: 'none', x_api_key: 'none', ...a });

describe('shared request steps', () => {
  it('an upgrade keeps its WebSocket headers and drops hop-by-hop, Connection-named, host and proxy-token headers', () => {
    const h = upgradeRequestHeaders({
      host: 'localhost', connection: 'Upgrade, x-hop', upgrade: 'websocket', 'x-hop': '1', 'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic x', 'x-codex-helper-token': 't', 'sec-websocket-key': 'k', 'sec-websocket-version': '13',
    });
    const names = h.filter((_, i) => i % 2 === 0);
    assert.deepEqual(names.sort(), ['connection', 'sec-websocket-key', 'sec-websocket-version', 'upgrade']);
    assert.equal(h[h.indexOf('connection') + 1], 'Upgrade');
    assert.equal(h[h.indexOf('upgrade') + 1], 'websocket');
  });

  it('a resolved credential replaces the client\'s header; an unresolved one leaves it as sent', () => {
    const h = ['authorization', 'Bearer client', 'x-api-key', 'client-key', 'accept', '*/*'];
    injectCredentials(h, auth({ token: 'sk-configured', authorization: 'inline', x_api_key: 'client_passthrough' }));
    assert.deepEqual(h, ['x-api-key', 'client-key', 'accept', '*/*', 'authorization', 'Bearer sk-configured']);
    const k = ['x-api-key', 'old'];
    injectCredentials(k, auth({ apiKey: 'new-key', x_api_key: 'env:KEY' }));
    assert.deepEqual(k, ['x-api-key', 'new-key']);
    const none = ['authorization', 'Bearer client'];
    injectCredentials(none, auth({ authorization: 'client_passthrough' }));
    assert.deepEqual(none, ['authorization', 'Bearer client']);
  });

  it('the log row of a finished request names its route, or "-" when it never got one', () => {
    const base = { id: 1, method: 'GET', path: '/v1/responses', status: 426, startedAtMs: 1000, endedAtMs: 1250 };
    const refused = requestLogRow('codex', { ...base, errorClass: 'websocket_refused' });
    assert.equal(refused.config_name, '-');
    assert.equal(refused.upstream_base_url, '-');
    assert.equal(refused.duration_ms, 250);
    assert.equal(refused.timestamp_ms, 1250);
    const routed = requestLogRow('codex', { ...base, status: 101, route: { config: 'main', provider: 'openai', base: 'https://api.example/v1' },
      auth: { authorization: 'inline', x_api_key: 'none' } });
    assert.equal(routed.config_name, 'main');
    assert.equal(routed.provider_id, 'openai');
    assert.deepEqual(routed.auth_resolution, { authorization: 'inline', x_api_key: 'none' });
  });
});
