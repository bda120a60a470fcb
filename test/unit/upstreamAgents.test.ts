import * as assert from 'node:assert/strict';
import { createUpstreamAgent, UpstreamAgents } from '../../src/proxy/upstream';
import { call, json, startProxy, startUpstream } from '../helpers/servers';

describe('upstream agents per connect timeout', () => {
  it('serves the default connect timeout from the shared agent and one pooled agent per other value', async () => {
    const shared = createUpstreamAgent({ connectTimeoutMs: 10_000 });
    const agents = new UpstreamAgents(shared, 10_000);
    assert.equal(agents.get(10_000), shared);
    const a = agents.get(2_000);
    assert.notEqual(a, shared);
    assert.equal(agents.get(2_000), a, 'one agent per value');
    await agents.close();
    assert.notEqual(agents.get(2_000), a, 'closed agents are not handed out again');
    await agents.close();
    await shared.close();
  });

  it('an upstream with its own connect_ms is reached through its own agent', async () => {
    const up = await startUpstream((_q, res) => json(res, 200, { id: 'r', output: [] }));
    const proxy = await startProxy(`version = 1\n[codex.configs.main]\n[[codex.configs.main.upstreams]]\nbase_url = "${up.url}/v1"\ntimeouts = { connect_ms = 1500 }\n`);
    try {
      const r = await call(`${proxy.url()}/v1/responses`, { body: '{"model":"m","input":"x"}', headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 200);
      assert.equal(up.requests.length, 1);
    } finally {
      await proxy.close();
      await up.close();
    }
  });
});
