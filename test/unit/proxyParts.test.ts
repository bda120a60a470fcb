import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUpstreamAuth } from '../../src/core/auth';
import { CredentialFile, credentialFileFor } from '../../src/io/credentialFile';
import { sessionIdFromHeaders } from '../../src/core/session';
import type { UpstreamConfig } from '../../src/core/types';
import { forwardableHeaders, forwardableResponseHeaders } from '../../src/proxy/headers';
import {
  hostHeaderCount, isAllowedOrigin, isLoopbackAddress, isLoopbackHostHeader, refusalReason, safetyPolicy, SafetyPolicyError, tokensEqual,
} from '../../src/proxy/localSafety';
import { targetUrl, TargetUrlError, upstreamPath } from '../../src/proxy/targetUrl';
import { readEffort } from '../../src/proxy/requestBody';
import { readModel } from '../../src/core/jsonBody';
import { ATTEMPTS_HEADER, isStreamingRequest, ROUTE_HEADER } from '../../src/proxy/pipeline';
import { attemptRoute } from '../../src/proxy/requestAnswer';
import { parseConfigText } from '../../src/core/config';
import { describeTransportError } from '../../src/proxy/upstream';

function upstream(auth: UpstreamConfig['auth'], tags: Record<string, string> = {}): UpstreamConfig {
  return { base_url: 'https://x.example/v1', auth, tags, supported_models: {}, model_mapping: {} };
}

describe('target URL', () => {
  it('de-duplicates the base path and keeps the query', () => {
    assert.equal(targetUrl('http://h/v1', '/v1/responses', ''), 'http://h/v1/responses');
    assert.equal(targetUrl('http://h/v1/', '/responses', 'a=1&b=2'), 'http://h/v1/responses?a=1&b=2');
    assert.equal(targetUrl('http://h/v1', '/v1', ''), 'http://h/v1/');
    assert.equal(targetUrl('http://h/v1', '/v10/x', ''), 'http://h/v1/v10/x', 'prefix must end at a segment');
    assert.equal(targetUrl('https://api.anthropic.com', '/v1/messages', 'beta=true'), 'https://api.anthropic.com/v1/messages?beta=true');
    assert.equal(upstreamPath('http://h:8080/openai/v1', '/openai/v1/models', ''), '/openai/v1/models');
    // Codex at http://proxy/v1 and Claude Code (always /v1/messages) against a relay base that ends in /v1.
    assert.equal(targetUrl('https://openrouter.ai/api/v1', '/v1/responses', ''), 'https://openrouter.ai/api/v1/responses');
    assert.equal(targetUrl('http://relay/anthropic/v1', '/v1/messages', 'beta=true'), 'http://relay/anthropic/v1/messages?beta=true');
    assert.equal(targetUrl('http://relay/api/v1', '/v10/x', ''), 'http://relay/api/v1/v10/x');
    assert.throws(() => targetUrl('not a url', '/x', ''), TargetUrlError);
    assert.throws(() => targetUrl('ftp://h', '/x', ''), TargetUrlError);
  });
});

describe('attempt route', () => {
  const upstreamOf = (configName: string, base: string, provider?: string) => {
    const tags = provider ? `\ntags = { provider_id = "${provider}" }` : '';
    const text = `version = 1\n[codex]\nactive = "${configName}"\n[codex.configs."${configName}"]\n[[codex.configs."${configName}".upstreams]]\nbase_url = "${base}"${tags}\n`;
    return parseConfigText(text, 'config.toml', 'toml').config.codex.configs[configName]!.upstreams[0]!;
  };

  it('names config, index, provider and shown base, once per upstream object, and headers of a first attempt', () => {
    const up = upstreamOf('main', 'https://relay.example/v1?key=sk-hidden-value-123', 'relay');
    const r = attemptRoute('main', 0, up);
    assert.equal(r.config, 'main');
    assert.equal(r.index, 0);
    assert.equal(r.provider, 'relay');
    assert.ok(!r.base.includes('sk-hidden-value-123'), 'secret query values are masked in what is shown');
    assert.equal(r.header, 'config=main; upstream=0; host=relay.example');
    assert.deepEqual({ ...r.firstAttemptHeaders }, { [ATTEMPTS_HEADER]: '1', [ROUTE_HEADER]: r.header });
    assert.ok(Object.isFrozen(r) && Object.isFrozen(r.firstAttemptHeaders), 'shared by every request: never modified');
    assert.equal(attemptRoute('main', 0, up), r, 'the same upstream of the same config is built once');
  });

  it('follows a reload (new upstream objects) and never answers for another config or index', () => {
    const before = attemptRoute('main', 0, upstreamOf('main', 'http://127.0.0.1:4000/v1'));
    const reloaded = attemptRoute('main', 0, upstreamOf('main', 'http://127.0.0.1:5000/v1'));
    assert.match(before.header, /host=127\.0\.0\.1%3A4000$/);
    assert.match(reloaded.header, /host=127\.0\.0\.1%3A5000$/);
    const up = upstreamOf('a b', 'http://127.0.0.1:6000');
    assert.equal(attemptRoute('a b', 0, up).header, 'config=a%20b; upstream=0; host=127.0.0.1%3A6000');
    const other = attemptRoute('renamed', 2, up);
    assert.equal(other.config, 'renamed');
    assert.equal(other.header, 'config=renamed; upstream=2; host=127.0.0.1%3A6000');
    assert.equal(attemptRoute('a b', 0, up).config, 'a b');
  });
});

describe('header hygiene', () => {
  it('drops hop-by-hop headers, those named in Connection, host and content-length; keeps repeats', () => {
    const out = forwardableHeaders({
      host: 'localhost:3211', 'content-length': '5', connection: 'close, X-Secret-Hop', 'x-secret-hop': 'v', 'keep-alive': 'x',
      'transfer-encoding': 'chunked', upgrade: 'h2c', 'proxy-authorization': 'p', te: 'trailers', trailer: 'x',
      'x-keep': ['1', '2'], authorization: 'Bearer a',
    });
    assert.deepEqual(out, ['x-keep', '1', 'x-keep', '2', 'authorization', 'Bearer a']);
    const res = forwardableResponseHeaders({ connection: 'x-a', 'x-a': '1', 'content-type': 'text/event-stream', 'transfer-encoding': 'chunked' });
    assert.deepEqual(res, { 'content-type': 'text/event-stream' });
  });
});

describe('session id', () => {
  it('reads every header real clients use, in priority order', () => {
    assert.equal(sessionIdFromHeaders({ session_id: 'a', 'session-id': 'b' }), 'a');
    assert.equal(sessionIdFromHeaders({ conversation_id: 'c' }), 'c');
    assert.equal(sessionIdFromHeaders({ 'session-id': ' b ', 'thread-id': 't' }), 'b');
    assert.equal(sessionIdFromHeaders({ 'thread-id': 't' }), 't');
    assert.equal(sessionIdFromHeaders({ 'x-claude-code-session-id': 'cc' }), 'cc');
    assert.equal(sessionIdFromHeaders({ 'session-id': '  ' }), undefined);
    assert.equal(sessionIdFromHeaders({}), undefined);
  });
});

describe('local safety', () => {
  it('recognises loopback addresses, Host headers and origins', () => {
    for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(a), a);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', undefined]) assert.ok(!isLoopbackAddress(a), String(a));
    for (const h of ['localhost', 'localhost:3211', '127.0.0.1:3211', '[::1]:3210', 'LOCALHOST.', 'app.localhost']) assert.ok(isLoopbackHostHeader(h), h);
    for (const h of ['evil.com', '127.0.0.1.evil.com', 'localhost.evil.com:3211', '', undefined]) assert.ok(!isLoopbackHostHeader(h), String(h));
    const own = { allowRemote: false, port: 3211 };
    assert.ok(isAllowedOrigin(undefined, own));
    assert.ok(isAllowedOrigin('http://localhost:3211', own), 'the proxy\'s own origin');
    assert.ok(isAllowedOrigin('http://127.0.0.1:3211', own));
    assert.ok(!isAllowedOrigin('http://localhost:5173', own), 'another local page is a different origin');
    assert.ok(!isAllowedOrigin('http://localhost:8080', own));
    assert.ok(!isAllowedOrigin('https://localhost:3211', own));
    assert.ok(!isAllowedOrigin('null', own));
    assert.ok(!isAllowedOrigin('https://evil.com', own));
    assert.ok(!isAllowedOrigin('vscode-webview://abc', own));
  });

  it('refuses browser requests by Origin and Sec-Fetch-Site', () => {
    const p = { allowRemote: false, port: 3211 };
    const h = { host: 'localhost:3211' };
    assert.match(refusalReason({ ...h, origin: 'http://localhost:8080' }, '127.0.0.1', false, p)!, /browser request from origin/);
    assert.equal(refusalReason({ ...h, origin: 'http://localhost:3211' }, '127.0.0.1', false, p), undefined);
    for (const site of ['cross-site', 'same-site']) {
      assert.match(refusalReason({ ...h, 'sec-fetch-site': site }, '127.0.0.1', false, p)!, /Sec-Fetch-Site/, site);
    }
    for (const site of ['none', 'same-origin']) assert.equal(refusalReason({ ...h, 'sec-fetch-site': site }, '127.0.0.1', false, p), undefined, site);
  });

  it('admin routes need a loopback peer or the admin token; remote peers need the proxy token everywhere', () => {
    const h = { host: 'localhost:1' };
    assert.equal(refusalReason(h, '127.0.0.1', true, { allowRemote: false }), undefined);
    assert.match(refusalReason(h, '10.1.1.1', true, { allowRemote: false })!, /loopback peers only/);
    // The peer's verdict is kept per address: a loopback answer must not leak to another address, nor to none.
    assert.match(refusalReason(h, '::ffff:10.1.1.1', true, { allowRemote: false })!, /loopback peers only/);
    assert.match(refusalReason(h, undefined, true, { allowRemote: false })!, /loopback peers only/);
    assert.equal(refusalReason(h, '::ffff:127.0.0.1', true, { allowRemote: false }), undefined);
    assert.match(refusalReason(h, '10.1.1.1', true, { allowRemote: true, adminToken: 'tok' })!, /loopback peers only/);
    assert.equal(refusalReason({ ...h, 'x-codex-helper-admin-token': 'tok' }, '10.1.1.1', true, { allowRemote: true, adminToken: 'tok' }), undefined);
    const remote = { allowRemote: true, proxyToken: 'a-long-enough-token-123', allowedHosts: new Set(['my-box']) };
    assert.match(refusalReason({ host: 'my-box:3211' }, '10.1.1.1', false, remote)!, /must send x-codex-helper-token/);
    assert.match(refusalReason({ host: 'my-box:3211', 'x-codex-helper-token': 'a-long-enough-token-12' }, '10.1.1.1', false, remote)!, /token/);
    assert.equal(refusalReason({ host: 'my-box:3211', 'x-codex-helper-token': 'a-long-enough-token-123' }, '10.1.1.1', false, remote), undefined);
    assert.equal(refusalReason({ host: 'my-box:3211', 'x-codex-helper-token': 'a-long-enough-token-123' }, '10.1.1.1', true, remote), undefined, 'the proxy token opens the admin API too');
    assert.match(refusalReason({ host: 'evil.example', 'x-codex-helper-token': 'a-long-enough-token-123' }, '10.1.1.1', false, remote)!, /allowed name/);
    assert.equal(refusalReason({ host: 'localhost:3211' }, '127.0.0.1', false, remote), undefined, 'loopback peers need no token');
  });

  it('builds the remote-mode policy: a token is required, the Host allowlist holds the bound address and configured names', () => {
    assert.throws(() => safetyPolicy('10.0.0.5', true, {}, () => []), (e: SafetyPolicyError) => e.code === 'REMOTE_NEEDS_TOKEN');
    assert.throws(() => safetyPolicy('10.0.0.5', true, { CODEX_HELPER_PROXY_TOKEN: 'short' }, () => []), (e: SafetyPolicyError) => e.code === 'TOKEN_INVALID');
    assert.throws(() => safetyPolicy('127.0.0.1', false, { CODEX_HELPER_ADMIN_TOKEN: 'x\r\ninjected: 1' }, () => []), /line break/);
    const p = safetyPolicy('10.0.0.5', true, { CODEX_HELPER_PROXY_TOKEN: 'a-long-enough-token-123', CODEX_HELPER_ALLOWED_HOSTS: 'box.lan, Proxy.Example:3211' }, () => ['nope']);
    assert.deepEqual([...p.allowedHosts!].sort(), ['10.0.0.5', 'box.lan', 'proxy.example']);
    const w = safetyPolicy('0.0.0.0', true, { CODEX_HELPER_PROXY_TOKEN: 'a-long-enough-token-123' }, () => ['192.168.1.9', 'fe80::1', 'mybox']);
    assert.deepEqual([...w.allowedHosts!].sort(), ['192.168.1.9', 'fe80::1', 'mybox']);
    assert.equal(safetyPolicy('127.0.0.1', true, {}, () => []).allowRemote, false, 'a loopback bind is not remote mode');
  });

  it('compares tokens in constant time and counts Host headers', () => {
    assert.ok(tokensEqual('abc', 'abc'));
    assert.ok(!tokensEqual('abc', 'abd'));
    assert.ok(!tokensEqual(['abc'], 'abc'));
    assert.ok(!tokensEqual('abc', undefined));
    assert.equal(hostHeaderCount(['Host', 'a', 'X', 'y', 'host', 'b']), 2);
    assert.equal(hostHeaderCount(['HOST', 'a', 'hOsT', 'b', 'X-Host', 'c', 'Hosts', 'd', 'hos', 'e']), 2, 'any case; no other name');
  });
});

describe('upstream credentials', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'auth-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const noClient = { hasAuthorization: false, hasApiKey: false };

  it('inline → secret → env → credential file → client passthrough, recording only the source', () => {
    const file = credentialFileFor('codex', dir, dir);
    const secrets = (n: string) => (n === 'work' ? 'secret-value' : undefined);
    assert.deepEqual(resolveUpstreamAuth('codex', upstream({ auth_token: 'inline-v', auth_token_env: 'E' }), noClient, { E: 'env-v' }, file),
      { token: 'inline-v', apiKey: undefined, authorization: 'inline', x_api_key: 'none' });
    assert.equal(resolveUpstreamAuth('codex', upstream({ auth_token_secret: 'work', auth_token_env: 'E' }), noClient, { E: 'env-v' }, file, secrets).authorization, 'secret:work');
    assert.equal(resolveUpstreamAuth('codex', upstream({ auth_token_env: 'E' }), noClient, { E: 'env-v' }, file).token, 'env-v');
    const r = resolveUpstreamAuth('codex', upstream({ auth_token_env: 'E' }), { hasAuthorization: true, hasApiKey: false }, {}, file);
    assert.deepEqual([r.token, r.authorization], [undefined, 'client_passthrough (missing_env:E)']);
    assert.equal(resolveUpstreamAuth('codex', upstream({}), noClient, {}, file).authorization, 'none');
    const k = resolveUpstreamAuth('claude', upstream({ api_key_env: 'K' }), noClient, { K: 'key-v' }, file);
    assert.deepEqual([k.apiKey, k.x_api_key, k.token], ['key-v', 'env:K', undefined]);
  });

  it('sends neither credential when one holds a line break or NUL, and names each source that does', () => {
    const file = credentialFileFor('codex', dir, dir);
    const env = { T: 'tok\nX-Injected: 1', K: 'key\u0000', OK: 'fine-value' };
    const both = resolveUpstreamAuth('codex', upstream({ auth_token_env: 'T', api_key_env: 'K' }), noClient, env, file);
    assert.deepEqual([both.token, both.apiKey], [undefined, undefined]);
    assert.match(both.invalid ?? '', /^the credential from env:T and env:K contains a line break or NUL/);
    const tokenOnly = resolveUpstreamAuth('codex', upstream({ auth_token_env: 'T', api_key_env: 'OK' }), noClient, env, file);
    assert.deepEqual([tokenOnly.token, tokenOnly.apiKey], [undefined, undefined], 'the good one is not sent either');
    assert.match(tokenOnly.invalid ?? '', /^the credential from env:T contains/);
    const keyOnly = resolveUpstreamAuth('codex', upstream({ auth_token_env: 'OK', api_key_env: 'K' }), noClient, env, file);
    assert.match(keyOnly.invalid ?? '', /^the credential from env:K contains/);
    // An upstream without credentials of its own: the same answer every time, whatever the last caller did with it.
    const client = { hasAuthorization: true, hasApiKey: false };
    const first = resolveUpstreamAuth('codex', upstream({}), client, {}, file);
    first.authorization = 'changed by a caller';
    assert.deepEqual(resolveUpstreamAuth('codex', upstream({}), client, {}, file),
      { token: undefined, apiKey: undefined, authorization: 'client_passthrough', x_api_key: 'none' });
  });

  it('reads the Codex auth.json and Claude settings.json env, re-reading after a change', () => {
    let now = 0;
    const path = join(dir, 'auth.json');
    writeFileSync(path, JSON.stringify({ OPENAI_API_KEY: 'first', NUM: 5 }));
    const f = new CredentialFile(path, (j) => j as Record<string, unknown>, 800, () => now);
    assert.equal(f.get('OPENAI_API_KEY'), 'first');
    assert.equal(f.get('NUM'), undefined, 'only strings');
    writeFileSync(path, JSON.stringify({ OPENAI_API_KEY: 'second' }));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    now = 100;
    assert.equal(f.get('OPENAI_API_KEY'), 'first', 'not re-checked within the interval');
    now = 900;
    assert.equal(f.get('OPENAI_API_KEY'), 'second');
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ env: { ANTHROPIC_AUTH_TOKEN: 'claude-tok' } }));
    const c = credentialFileFor('claude', dir, dir);
    assert.equal(resolveUpstreamAuth('claude', upstream({ auth_token_env: 'ANTHROPIC_AUTH_TOKEN' }), noClient, {}, c).authorization, 'claude_settings_env:ANTHROPIC_AUTH_TOKEN');
  });

  it('the embedded default prefers the client\'s own credential and falls back to the environment', () => {
    const file = credentialFileFor('codex', dir, dir);
    const up = upstream({ auth_token_env: 'OPENAI_API_KEY' }, { auth_prefer_client: 'true' });
    assert.deepEqual(resolveUpstreamAuth('codex', up, { hasAuthorization: true, hasApiKey: false }, { OPENAI_API_KEY: 'env' }, file),
      { authorization: 'client_passthrough', x_api_key: 'none' });
    assert.equal(resolveUpstreamAuth('codex', up, noClient, { OPENAI_API_KEY: 'env-key' }, file).token, 'env-key');
  });
});

describe('transport error text', () => {
  it('joins causes, adds flags, strips newlines and caps the length', () => {
    const e = new Error('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9\nline2'), { code: 'ECONNREFUSED' }) });
    assert.equal(describeTransportError(e), 'fetch failed | caused_by: connect ECONNREFUSED 127.0.0.1:9 line2 (flags: connect)');
    const long = describeTransportError(new Error('x'.repeat(1000)));
    assert.equal(long.length, 360);
    assert.ok(long.endsWith('…'));
    assert.match(describeTransportError(Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), /flags: timeout/);
  });
});

describe('request body inspection', () => {
  /** What the pipeline reads of a body for its record: the model before sending, the effort after. */
  const inspectBody = (body: Buffer, service: 'codex' | 'claude'): { model?: string; effort?: string } => {
    const out: { model?: string; effort?: string } = {};
    const model = readModel(body);
    const effort = readEffort(body, service);
    if (model !== undefined) out.model = model;
    if (effort !== undefined) out.effort = effort;
    return out;
  };
  it('reads model and effort of both APIs, and no effort from a key that only appears inside text', () => {
    const codex = Buffer.from(JSON.stringify({ model: 'gpt-5', input: [{ text: 'say "reasoning": {"effort": "low"}' }], reasoning: { effort: 'high' }, stream: true }));
    assert.deepEqual(inspectBody(codex, 'codex'), { model: 'gpt-5', effort: 'high' });
    const claudeNone = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'about "output_config": {"effort":"max"}' }], stream: true }));
    assert.deepEqual(inspectBody(claudeNone, 'claude'), { model: 'claude-sonnet-4-5' });
    const claude = Buffer.from(JSON.stringify({ model: 'claude-opus-4-1', messages: [], output_config: { effort: 'medium' }, stream: true }));
    assert.deepEqual(inspectBody(claude, 'claude'), { model: 'claude-opus-4-1', effort: 'medium' });
    assert.deepEqual(inspectBody(Buffer.from('not json'), 'codex'), {});
  });

  it('tells a streamed request by its top-level stream member, not by the conversation quoting one', () => {
    const quoted = (stream: boolean) => Buffer.from(JSON.stringify({ model: 'm', input: [{ text: '{"stream": true}' }], stream }));
    // The conversation quotes `"stream": true` as raw JSON (an escaped string), so it never matches.
    assert.equal(isStreamingRequest(quoted(true)), true);
    assert.equal(isStreamingRequest(quoted(false)), false);
    // A raw body (not from JSON.stringify) with the text key first and the real member last.
    assert.equal(isStreamingRequest(Buffer.from('{"input":[{"stream": true}],"stream":false}')), false);
    assert.equal(isStreamingRequest(Buffer.from('{"input":[{"stream": false}],"stream" : true}')), true);
    assert.equal(isStreamingRequest(Buffer.from('{"model":"m"}')), false);
    // Any JSON whitespace around the colon, however much; a body cut short or a value that only starts like true.
    assert.equal(isStreamingRequest(Buffer.from(`{"model":"m","stream"${' '.repeat(40)}:\r\n\t true}`)), true);
    assert.equal(isStreamingRequest(Buffer.from('{"model":"m","stream":tru')), false);
    assert.equal(isStreamingRequest(Buffer.from('{"model":"m","stream":"true"}')), false);
    assert.equal(isStreamingRequest(Buffer.from('{"model":"m","stream"')), false);
  });
});
