import * as assert from 'node:assert/strict';
import { FailoverWatcher, failoverNotice, failoverText, timeLeft } from '../../src/host/failoverNotice';
import type { FailoverStatus } from '../../src/core/routes';

const NOW = 1_800_000_000_000;
const f = (o: Partial<FailoverStatus> = {}): FailoverStatus => ({
  preferred: 'main', to: { config: 'backup', index: 0, base_url: 'https://b.example/v1' }, reason: 'status_500',
  since_ms: NOW - 65_000, ...o,
});

describe('host failover notices', () => {
  it('formats the time left', () => {
    assert.equal(timeLeft(NOW + 12_300, NOW), '13 s');
    assert.equal(timeLeft(NOW + 180_000, NOW), '3 min');
    assert.equal(timeLeft(NOW + 3_900_000, NOW), '1 h 5 min');
    assert.equal(timeLeft(NOW - 5, NOW), '0 s');
  });

  it('says where traffic went, why, and when the preferred config may serve again', () => {
    assert.equal(failoverText(f({ preferred_retry_at_ms: NOW + 25_000 }), NOW), 'failed over to backup#0 (status_500; main back in 25 s)');
    assert.equal(failoverText(f({ reason: '' }), NOW), 'failed over to backup#0 (preferred config unavailable)');
  });

  it('notices a failover, a move to another target and a recovery, and nothing else', () => {
    assert.equal(failoverNotice('codex', undefined, undefined, NOW), undefined);
    assert.deepEqual(failoverNotice('codex', undefined, f(), NOW), {
      kind: 'failover', message: 'Codex: main is unavailable, failed over to backup#0 (status_500).',
    });
    assert.equal(failoverNotice('codex', f(), f({ reason: 'other' }), NOW), undefined, 'same target: no new notice');
    assert.equal(failoverNotice('claude', f(), f({ to: { config: 'third', index: 1, base_url: 'x' } }), NOW)?.kind, 'failover');
    assert.deepEqual(failoverNotice('claude', f(), undefined, NOW), {
      kind: 'recovered', message: 'Claude Code: requests flow to main again (recovered after 65 s).',
    });
  });

  it('watches snapshots: nothing for the first one seen, then one notice per transition', () => {
    const w = new FailoverWatcher();
    assert.equal(w.update('codex', f(), NOW), undefined, 'already failed over when first seen: no stale notice');
    assert.equal(w.update('codex', f(), NOW), undefined);
    assert.equal(w.update('codex', undefined, NOW)?.kind, 'recovered');
    assert.equal(w.update('codex', undefined, NOW), undefined);
    assert.equal(w.update('codex', f(), NOW)?.kind, 'failover');
    assert.equal(w.update('claude', undefined, NOW), undefined, 'services are tracked apart');
  });
});
