// Reload keeps the last good config for every file it cannot serve from, and says why with a 4xx.
import assert from 'node:assert/strict';
import { call, json, startProxy, startUpstream } from '../helpers/servers';
import type { FakeUpstream, TestProxy } from '../helpers/servers';

function config(url: string): string {
  return `version = 1
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "${url}"
[claude.configs.main]
[[claude.configs.main.upstreams]]
base_url = "${url}"
`;
}

describe('config reload keeps the last good config', () => {
  let up: FakeUpstream;
  let proxy: TestProxy;
  const reload = () => call(`${proxy.url()}/__codex_helper/api/v1/config/reload`, { method: 'POST' });
  const serves = async () => (await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m"}' })).status;
  before(async () => {
    up = await startUpstream((_req, res) => json(res, 200, { ok: true }));
    proxy = await startProxy(config(up.url));
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a base_url that is not an absolute http(s) URL', 'version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "api.example.com/v1"\n',
      /config\.toml:4: codex\.configs\.main\.upstreams\[0\]\.base_url: expected an absolute http\(s\) URL/],
    ['a base_url with user:password@', 'version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "https://me:hunter2-secret@api.example.com"\n',
      /base_url: must not carry user:password@/],
    ['an empty file (an editor\'s zero-byte write)', '', /leaves codex without any config \(it had 1: main\)/],
    ['a file that keeps claude but drops every codex config', `version = 1\n[claude.configs.main]\n[[claude.configs.main.upstreams]]\nbase_url = "${'http://127.0.0.1:1'}"\n`,
      /leaves codex without any config/],
    ['a TOML syntax error', 'version = 1\n[codex.configs.main\n', /config\.toml:2: TOML syntax error/],
  ];
  for (const [what, text, reason] of bad) {
    it(`refuses ${what} with a 422 and the reason, and keeps serving`, async () => {
      proxy.writeConfig(text);
      const r = await reload();
      assert.equal(r.status, 422, r.text);
      assert.match(r.text, /the last good config stays active/);
      assert.match(r.text, reason);
      assert.ok(!r.text.includes('hunter2-secret'), 'the password is not echoed');
      assert.equal(await serves(), 200);
      const detail = (await call(`${proxy.url()}/__codex_helper/api/v1/configs/detail`)).json<{ config_error?: string; configs: unknown[] }>();
      assert.equal(detail.configs.length, 1);
      assert.match(detail.config_error ?? '', reason);
    });
  }

  it('loads the file again once it is fixed', async () => {
    proxy.writeConfig(config(up.url).replace('[codex.configs.main]', '[codex.configs.fixed]').replace('codex.configs.main.upstreams', 'codex.configs.fixed.upstreams'));
    const r = await reload();
    assert.equal(r.status, 200, r.text);
    const detail = (await call(`${proxy.url()}/__codex_helper/api/v1/configs/detail`)).json<{ config_error?: string; configs: Array<{ name: string }> }>();
    assert.equal(detail.config_error, undefined);
    assert.deepEqual(detail.configs.map((c) => c.name), ['fixed']);
    assert.equal(await serves(), 200);
  });
});
