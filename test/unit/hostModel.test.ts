import assert from 'node:assert/strict';
import type { LbConfigView } from '../../src/core/lb';
import type { FinishedRequest } from '../../src/core/types';
import type { ApiSnapshot, ConfigsDetail } from '../../src/proxy/adminClient';
import { CooldownTimer } from '../../src/host/cooldownTimer';
import { allUpstreamsCooling, lastFailover, statusBarModel } from '../../src/host/statusModel';
import { hostOf, nextCooldownEnd, secretNameOf, serviceNode, upstreamLabels, upstreamState } from '../../src/host/treeModel';
import type { ServiceData } from '../../src/host/treeModel';

const T0 = 1_700_000_000_000;

function detail(over: Partial<ConfigsDetail> = {}): ConfigsDetail {
  return {
    active: 'main',
    config_path: '/home/u/.codex-helper/config.toml',
    configs: [
      {
        name: 'main', alias: 'Main', enabled: true, level: 1, effective_enabled: true, effective_level: 1, active: true,
        upstreams: [
          { config: 'main', index: 0, base_url: 'https://a.example/v1', provider_id: 'prov-a', auth_source: 'secret:work', supported_models: {}, model_mapping: {} },
          { config: 'main', index: 1, base_url: 'http://127.0.0.1:9000/v1', auth_source: 'env:OPENAI_API_KEY', supported_models: {}, model_mapping: {} },
        ],
      },
      {
        name: 'backup', enabled: true, level: 2, effective_enabled: false, effective_level: 3, active: false,
        upstreams: [{ config: 'backup', index: 0, base_url: 'https://b.example', auth_source: 'client_passthrough (missing_secret:spare)', supported_models: {}, model_mapping: {} }],
      },
    ],
    ...over,
  };
}

function snapshot(lb: Record<string, LbConfigView>, recent: FinishedRequest[] = [], extra: Partial<ApiSnapshot['snapshot']> = {}): ApiSnapshot {
  const stats = { total: 0, ok_2xx: 0, err_429: 0, err_4xx: 0, err_5xx: 0, avg_attempts: 0, retry_rate: 0 };
  return {
    api_version: 1,
    service_name: 'codex',
    configs: [],
    snapshot: {
      refreshed_at_ms: T0, active: [], recent, session_config_overrides: {}, session_effort_overrides: {}, session_stats: {},
      config_health: {}, health_checks: {}, lb_view: lb as Record<string, unknown>,
      usage_rollup: { since_start: {} as never, by_day: [], by_config: [], by_config_day: {}, by_provider: [], by_provider_day: {} },
      stats_5m: { ...stats }, stats_1h: { ...stats }, ...extra,
    },
  };
}

const up = (o: Partial<LbConfigView['upstreams'][number]> = {}) => ({ failure_count: 0, usage_exhausted: false, penalty_streak: 0, ...o });

function running(over: Partial<ServiceData> = {}): ServiceData {
  return { service: 'codex', status: { kind: 'running', url: 'http://127.0.0.1:3211', port: 3211 }, detail: detail(), ...over };
}

describe('host tree model', () => {
  it('derives upstream states with cooldown time left relative to the snapshot time', () => {
    assert.deepEqual(upstreamState(undefined, T0, T0), { kind: 'unknown', text: 'no traffic yet' });
    assert.equal(upstreamState(up(), T0, T0).text, 'healthy');
    assert.equal(upstreamState(up({ failure_count: 2 }), T0, T0).text, 'failing 2');
    assert.equal(upstreamState(up({ usage_exhausted: true, failure_count: 1 }), T0, T0).text, 'usage exhausted');
    const cooling = upstreamState(up({ cooldown_remaining_secs: 90, failure_count: 3 }), T0, T0 + 10_000);
    assert.equal(cooling.kind, 'cooling');
    assert.equal(cooling.text, 'cooling 1m 20s');
    assert.equal(cooling.coolingUntilMs, T0 + 90_000);
    assert.equal(upstreamState(up({ cooldown_remaining_secs: 5, failure_count: 3 }), T0, T0 + 6000).text, 'failing 3', 'cooldown over');
  });

  it('reads secret names from auth sources and short hosts from URLs', () => {
    assert.equal(secretNameOf('secret:work'), 'work');
    assert.equal(secretNameOf('client_passthrough (missing_secret:spare)'), 'spare');
    assert.equal(secretNameOf('env:OPENAI_API_KEY, secret:k2'), 'k2');
    assert.equal(secretNameOf('env:SECRET_KEY'), undefined);
    assert.equal(hostOf('http://127.0.0.1:9000/v1'), '127.0.0.1:9000');
    assert.equal(hostOf('not a url'), 'not a url');
    assert.deepEqual(upstreamLabels(['http://h:1/a/v1', 'http://h:1/b/v1/', 'https://x.io/v1']), ['h:1/a/v1', 'h:1/b/v1', 'x.io']);
  });

  it('builds service → config → upstream nodes with marks, contextValues and tooltips', () => {
    const d = running({
      detail: detail({ global_override: 'main' }),
      snapshot: snapshot({ main: { last_good_index: 0, upstreams: [up(), up({ cooldown_remaining_secs: 30, failure_count: 3, last_status: 502 })] } },
        [], { config_health: { main: { checked_at_ms: T0, upstreams: [{ base_url: 'https://a.example/v1', ok: true, latency_ms: 87 }] } } }),
    });
    const root = serviceNode(d, T0);
    assert.equal(root.label, 'Codex');
    assert.equal(root.description, '127.0.0.1:3211 · pinned main');
    assert.equal(root.contextValue, 'service running');
    const [main, backup] = root.children;
    assert.equal(main!.label, 'Main');
    assert.equal(main!.description, 'main · L1 · active · pinned');
    assert.equal(main!.contextValue, 'config pinned enabled');
    assert.equal(main!.icon.id, 'pinned');
    assert.equal(backup!.description, 'L3 · disabled');
    assert.equal(backup!.contextValue, 'config unpinned disabled');
    assert.match(backup!.tooltip, /level 3 \(file: 2\)/);
    assert.match(backup!.tooltip, /file says enabled/);
    const [a, b] = main!.children;
    assert.equal(a!.label, 'a.example');
    assert.equal(a!.description, 'prov-a · healthy · probe 87 ms');
    assert.equal(a!.contextValue, 'upstream secret');
    assert.equal(a!.secretName, 'work');
    assert.match(a!.tooltip, /credential: secret:work/);
    assert.match(a!.tooltip, /sticky choice/);
    assert.equal(b!.description, 'cooling 30s');
    assert.equal(b!.contextValue, 'upstream');
    assert.match(b!.tooltip, /last status: 502/);
    assert.equal(backup!.children[0]!.secretName, 'spare');
    assert.equal(backup!.children[0]!.description, 'no traffic yet');
  });

  it('shows why a service is not serving instead of an empty tree', () => {
    const failed = serviceNode({ service: 'claude', status: { kind: 'failed', port: 3210, code: 'EADDRINUSE', message: 'claude: cannot listen: port 3210 on 127.0.0.1 is already in use' } }, T0);
    assert.equal(failed.label, 'Claude Code');
    assert.equal(failed.description, 'port 3210 in use');
    assert.equal(failed.contextValue, 'service failed');
    assert.match(failed.children[0]!.label, /already in use/);
    const restarting = serviceNode({ service: 'codex', status: { kind: 'failed', port: 3211, code: 'WORKER_RESTARTING', message: 'the proxy worker stopped unexpectedly (exit code 1)' } }, T0);
    assert.equal(restarting.description, 'restarting');
    const stopped = serviceNode({ service: 'codex', status: { kind: 'stopped' } }, T0);
    assert.equal(stopped.description, 'stopped');
    assert.equal(stopped.children.length, 0);
    const broken = serviceNode(running({ detail: detail({ config_error: 'config.toml:3: bad level' }), error: 'proxy at x is not reachable' }), T0);
    assert.deepEqual(broken.children.slice(0, 2).map((c) => c.kind), ['message', 'message']);
    assert.equal(broken.children[1]!.tooltip, 'config.toml:3: bad level');
  });

  it('finds the earliest cooldown end so the view refreshes once then', () => {
    const d = running({ snapshot: snapshot({ main: { upstreams: [up({ cooldown_remaining_secs: 40 }), up({ cooldown_remaining_secs: 12 })] } }) });
    assert.equal(nextCooldownEnd([d], T0), T0 + 12_000);
    assert.equal(nextCooldownEnd([d], T0 + 13_000), T0 + 40_000);
    assert.equal(nextCooldownEnd([running()], T0), undefined);
  });
});

describe('host status bar model', () => {
  const req = (o: Partial<FinishedRequest>): FinishedRequest => ({
    id: 1, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 10, ended_at_ms: T0, ...o,
  });

  it('is hidden unless the service runs or is attached', () => {
    assert.equal(statusBarModel({ service: 'codex', status: { kind: 'stopped' } }, T0), undefined);
    assert.ok(statusBarModel({ service: 'codex', status: { kind: 'attached', url: 'http://127.0.0.1:4000', port: 4000 } }, T0));
  });

  it('shows the pinned config or auto, and the 5-minute numbers and last failover in the tooltip', () => {
    const recent = [
      req({ id: 3 }),
      req({ id: 2, ended_at_ms: T0 - 120_000, config_name: 'main', upstream_base_url: 'http://127.0.0.1:9000/v1',
        retry: { attempts: 2, upstream_chain: ['main:https://a.example/v1 (idx=0) status=502 class=- model=gpt-5', 'main:http://127.0.0.1:9000/v1 (idx=1) status=200 class=- model=gpt-5'] } }),
    ];
    const snap = snapshot({}, recent);
    snap.snapshot.stats_5m = { ...snap.snapshot.stats_5m, total: 7, err_429: 1, err_5xx: 2 };
    const auto = statusBarModel(running({ snapshot: snap }), T0)!;
    assert.equal(auto.text, '$(arrow-swap) Codex: auto');
    assert.equal(auto.warning, false);
    assert.match(auto.tooltip, /Last 5 minutes: 7 requests, 3 errors/);
    assert.match(auto.tooltip, /Last failover: main \(a\.example\) → main \(127\.0\.0\.1:9000\), 2m ago/);
    const pinned = statusBarModel(running({ detail: detail({ global_override: 'backup' }) }), T0)!;
    assert.equal(pinned.text, '$(pinned) Codex: backup');
  });

  it('ignores retries on the same upstream when looking for the last failover', () => {
    const same = req({ retry: { attempts: 2, upstream_chain: ['main:https://a (idx=0) status=502', 'main:https://a (idx=0) status=200'] } });
    assert.equal(lastFailover([same]), undefined);
  });

  it('warns only when every upstream that can serve is cooling', () => {
    const cool = up({ cooldown_remaining_secs: 20, failure_count: 3 });
    // backup is disabled at runtime, so only main's upstreams count
    const all = running({ snapshot: snapshot({ main: { upstreams: [cool, cool] } }) });
    assert.equal(allUpstreamsCooling(all, T0), true);
    assert.equal(statusBarModel(all, T0)!.text, '$(warning) Codex: auto');
    assert.equal(statusBarModel(all, T0)!.warning, true);
    assert.equal(allUpstreamsCooling(all, T0 + 21_000), false, 'cooldown over');
    const half = running({ snapshot: snapshot({ main: { upstreams: [cool, up()] } }) });
    assert.equal(allUpstreamsCooling(half, T0), false);
    const pinnedToCoolingBackup = running({ detail: detail({ global_override: 'backup' }), snapshot: snapshot({ main: { upstreams: [up(), up()] }, backup: { upstreams: [cool] } }) });
    assert.equal(allUpstreamsCooling(pinnedToCoolingBackup, T0), true, 'a pin narrows the serving set');
  });
});

describe('host cooldown timer (status bar and tree redraw when a cooldown ends)', () => {
  it('fires once just after the earliest cooldown end, when the warning is already off', () => {
    let t = T0;
    const timers: Array<{ fn: () => void; ms: number; canceled: boolean }> = [];
    const schedule = (fn: () => void, ms: number) => {
      const x = { fn, ms, canceled: false };
      timers.push(x);
      return () => { x.canceled = true; };
    };
    const d = running({ snapshot: snapshot({ main: { upstreams: [up({ cooldown_remaining_secs: 20, failure_count: 3 }), up({ cooldown_remaining_secs: 30, failure_count: 3 })] } }) });
    const shown: boolean[] = [];
    const timer = new CooldownTimer(() => shown.push(statusBarModel(d, t)!.warning), () => t, schedule);
    assert.equal(statusBarModel(d, t)!.warning, true);
    timer.arm([d]);
    assert.equal(timers.length, 1);
    assert.equal(timers[0]!.ms, 20_050);
    t += timers[0]!.ms;
    timers[0]!.fn();
    assert.deepEqual(shown, [false], 'the redraw at the cooldown end no longer warns');
    timer.arm([d]);
    assert.equal(timers[1]!.ms, 10_000, 're-armed for the next cooldown end');
    timer.arm([running()]);
    assert.equal(timers[1]!.canceled, true, 'nothing cooling: no timer left');
    assert.equal(timers.length, 2);
    timer.arm([d]);
    timer.dispose();
    assert.equal(timers[2]!.canceled, true);
  });
});
