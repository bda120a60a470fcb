// The opt-in failover notification (failoverNotifications.ts), in plain Node: a real proxy fails over from a broken
// config, the store sees it, the scripted HostUi gets one warning whose actions run the right commands.
import * as assert from 'node:assert/strict';
import { CMD } from '../../src/host/constants';
import { registerFailoverNotifications } from '../../src/host/failoverNotifications';
import { call, json, startUpstream, until } from '../helpers/servers';
import type { FakeUpstream } from '../helpers/servers';
import { failoverConfig, hostFixture } from '../helpers/hostFixture';
import { settle } from '../helpers/fakeUi';

describe('failover notifications (plain Node, scripted UI, real proxy)', () => {
  let up: FakeUpstream;
  before(async () => {
    up = await startUpstream((req, res) => (req.url?.startsWith('/bad') ? json(res, 502, { error: 'down' }) : json(res, 200, { id: 'r', output: [] })));
  });
  after(() => up.close());

  for (const enabled of [true, false]) {
    it(enabled ? 'shows one warning per failover; "Reset Cooldown" resets that service' : 'stays quiet while the setting is off', async () => {
      const f = hostFixture(failoverConfig(up.url, ['/bad'], '/good'));
      f.own(registerFailoverNotifications({ store: f.store, ui: f.ui, enabled: () => enabled }));
      try {
        const url = await f.start('codex');
        f.ui.click('Reset Cooldown');
        for (let i = 0; i < 3; i++) assert.equal((await call(`${url}/v1/responses`, { body: JSON.stringify({ model: 'gpt-5', input: 'hi' }) })).status, 200);
        await until(() => Boolean(f.store.get('codex').snapshot?.snapshot.failover), 3000, 'the store sees the failover');
        await f.store.refresh('codex');
        await settle();
        if (!enabled) {
          assert.deepEqual(f.ui.shown, []);
          return;
        }
        assert.equal(f.ui.shown.length, 1, JSON.stringify(f.ui.shown));
        assert.match(f.ui.shown[0]!.message, /^Codex Helper: Codex: main is unavailable, /);
        assert.deepEqual(f.ui.shown[0]!.actions, ['Reset Cooldown', 'Recent Requests']);
        assert.deepEqual(f.ui.executed, [{ id: CMD.resetCooldown, args: [{ service: 'codex' }] }]);
      } finally {
        await f.close();
      }
    });
  }
});
