import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { call, json, startProxy, startUpstream } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

const CONFIG = (good: string, down: string) => `version = 1
[codex]
active = "main"
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${good}/v1"
auth = { auth_token = "sk-good-secret-123456" }
[codex.configs.main.upstreams.supported_models]
"gpt-5*" = true
[codex.configs.backup]
level = 2
[[codex.configs.backup.upstreams]]
base_url = "${down}/v1"
auth = { auth_token = "sk-down-secret-123456" }
[codex.configs.backup.upstreams.supported_models]
"o3" = true
[codex.configs.backup.upstreams.model_mapping]
"gpt-4.1" = "o3"
[codex.configs.off]
enabled = false
[[codex.configs.off.upstreams]]
base_url = "${good}/v1"
[codex.configs.off.upstreams.supported_models]
"never-listed" = true

[claude]
active = "direct"
[claude.configs.direct]
[[claude.configs.direct.upstreams]]
base_url = "${good}"
auth = { api_key = "sk-ant-good-123456" }
[claude.configs.relay]
[[claude.configs.relay.upstreams]]
base_url = "${down}"
auth = { api_key = "sk-ant-down-123456" }
[claude.configs.relay.upstreams.model_mapping]
"claude-haiku-4-5" = "glm-4.6"
`;

describe('GET /v1/models: the union of the upstreams (one of two down)', () => {
  let good: FakeUpstream;
  let down: FakeUpstream;
  let proxy: TestProxy;

  before(async () => {
    good = await startUpstream((req, res) => {
      if (req.headers['anthropic-version']) {
        return json(res, 200, { data: [{ type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }], has_more: false });
      }
      json(res, 200, { object: 'list', data: [{ id: 'gpt-5', object: 'model', created: 1, owned_by: 'openai' }, { id: 'gpt-5-codex', object: 'model', created: 2, owned_by: 'openai' }, { id: 'whisper-1', object: 'model', created: 3, owned_by: 'openai' }] });
    });
    down = await startUpstream((_req, res) => {
      res.socket?.destroy();
    });
    proxy = await startProxy(CONFIG(good.url, down.url));
  });
  after(async () => {
    await proxy.close();
    await good.close();
    await down.close();
  });

  it('Codex gets an OpenAI list of what the enabled configs serve, fetched with the configured credentials', async () => {
    const r = await call(`${proxy.url('codex')}/v1/models?client_version=0.169.0`, { headers: { authorization: 'Bearer sk-test', originator: 'codex_exec' } });
    assert.equal(r.status, 200);
    const body = r.json<{ object: string; data: Array<{ id: string; object: string; configs: string[] }> }>();
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m) => [m.id, m.configs]), [['gpt-4.1', ['backup']], ['gpt-5', ['main']], ['gpt-5-codex', ['main']], ['o3', ['backup']]]);
    assert.ok(body.data.every((m) => m.object === 'model'));
    const probe = good.requests.find((q) => q.url.startsWith('/v1/models') && !q.headers['anthropic-version']);
    assert.equal(probe?.url, '/v1/models?client_version=0.169.0', 'Codex\'s version is passed on');
    assert.equal(probe?.headers['authorization'], 'Bearer sk-good-secret-123456');
    assert.ok(down.requests.some((q) => q.url.startsWith('/v1/models')), 'the down upstream was asked too');
    // Answered by the proxy: nothing in the recent requests, and the single-model route works.
    const one = await call(`${proxy.url('codex')}/v1/models/gpt-5-codex`);
    assert.equal(one.json<{ id: string }>().id, 'gpt-5-codex');
    const missing = await call(`${proxy.url('codex')}/v1/models/never-listed`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json<{ error: { code: string } }>().error.code, 'model_not_found');
  });

  it('Claude Code gets an Anthropic list, paginated the Anthropic way', async () => {
    const r = await call(`${proxy.url('claude')}/v1/models?limit=1000`, { headers: { 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' } });
    assert.equal(r.status, 200);
    const body = r.json<{ data: Array<{ type: string; id: string; display_name: string; configs: string[] }>; has_more: boolean; first_id: string }>();
    assert.deepEqual(body.data.map((m) => [m.type, m.id, m.display_name, m.configs]), [
      ['model', 'claude-haiku-4-5', 'claude-haiku-4-5', ['relay']],
      ['model', 'claude-sonnet-4-5', 'Claude Sonnet 4.5', ['direct']],
    ]);
    assert.equal(body.has_more, false);
    const page1 = (await call(`${proxy.url('claude')}/v1/models?limit=1`)).json<{ data: Array<{ id: string }>; has_more: boolean }>();
    assert.deepEqual([page1.data.map((m) => m.id), page1.has_more], [['claude-haiku-4-5'], true]);
    const page2 = (await call(`${proxy.url('claude')}/v1/models?limit=1&after_id=claude-haiku-4-5`)).json<{ data: Array<{ id: string }>; has_more: boolean }>();
    assert.deepEqual([page2.data.map((m) => m.id), page2.has_more], [['claude-sonnet-4-5'], false]);
    const probe = good.requests.find((q) => q.headers['anthropic-version']);
    assert.equal(probe?.headers['x-api-key'], 'sk-ant-good-123456');
  });

  it('the admin API shows the union and why an upstream is missing', async () => {
    const v = (await call(`${proxy.url('codex')}/__codex_helper/api/v1/models`)).json<{ models: Array<{ id: string }>; upstreams: Array<{ config: string; ok: boolean; error?: string; models?: number }> }>();
    assert.equal(v.models.length, 4);
    const byConfig = Object.fromEntries(v.upstreams.map((u) => [u.config, u]));
    assert.equal(byConfig['main']?.ok, true);
    assert.equal(byConfig['main']?.models, 3);
    assert.equal(byConfig['backup']?.ok, false);
    assert.ok(byConfig['backup']?.error);
    assert.equal(byConfig['off'], undefined, 'disabled configs are not fetched');
  });

  it('disabling a config at runtime drops the models only it served', async () => {
    const meta = await call(`${proxy.url('codex')}/__codex_helper/api/v1/overrides/config-meta`, { method: 'POST', body: '{"config_name":"backup","enabled":false}' });
    assert.equal(meta.status, 204);
    const ids = (await call(`${proxy.url('codex')}/v1/models`)).json<{ data: Array<{ id: string }> }>().data.map((m) => m.id);
    assert.deepEqual(ids, ['gpt-5', 'gpt-5-codex']);
    await call(`${proxy.url('codex')}/__codex_helper/api/v1/overrides/config-meta`, { method: 'POST', body: '{"config_name":"backup","enabled":null}' });
  });

  it('when nothing is reachable after a restart, answers from the last good list on disk', async () => {
    const cache = join(proxy.home, 'models-cache.codex.json');
    assert.ok(existsSync(cache));
    await good.close();
    const again = await startProxy(CONFIG(good.url, down.url), { prepare: ({ home }) => copyFileSync(cache, join(home, 'models-cache.codex.json')) });
    try {
      const r = await call(`${again.url('codex')}/v1/models`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json<{ data: Array<{ id: string }> }>().data.map((m) => m.id), ['gpt-4.1', 'gpt-5', 'gpt-5-codex', 'o3']);
    } finally {
      await again.close();
    }
  });

  it('a ChatGPT-backend-style upstream is asked with Codex\'s client_version and its entries reach Codex verbatim', async () => {
    const info = { slug: 'gpt-5-codex', display_name: 'GPT-5 Codex', visibility: 'list', supported_reasoning_levels: [{ effort: 'low' }] };
    const chatgpt = await startUpstream((_q, res) => {
      json(res, 200, { models: [info] });
    });
    const p = await startProxy(`[codex.configs.chatgpt]\n[[codex.configs.chatgpt.upstreams]]\nbase_url = "${chatgpt.url}/backend-api/codex"\n`);
    try {
      const r = await call(`${p.url('codex')}/v1/models?client_version=0.169.0`);
      const body = r.json<{ data: Array<{ id: string }>; models: unknown[] }>();
      assert.deepEqual(body.data.map((m) => m.id), ['gpt-5-codex']);
      assert.deepEqual(body.models, [info]);
      assert.equal(chatgpt.requests[0]?.url, '/backend-api/codex/models?client_version=0.169.0');
    } finally {
      await p.close();
      await chatgpt.close();
    }
  });

  it('CODEX_HELPER_MODELS_PASSTHROUGH=1 forwards the request unchanged', async () => {
    const up = await startUpstream((_q, res) => {
      json(res, 200, { object: 'list', data: [{ id: 'raw' }] });
    });
    const p = await startProxy(CONFIG(up.url, up.url), { env: { CODEX_HELPER_MODELS_PASSTHROUGH: '1' } });
    try {
      const r = await call(`${p.url('codex')}/v1/models`);
      assert.deepEqual(r.json(), { object: 'list', data: [{ id: 'raw' }] });
    } finally {
      await p.close();
      await up.close();
    }
  });
});
