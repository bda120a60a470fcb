import assert from 'node:assert/strict';
import type { LbConfigView } from '../../src/core/lb';
import type { FinishedRequest } from '../../src/core/types';
import type { ApiSnapshot, ConfigsDetail } from '../../src/proxy/adminClient';
import { CooldownTimer } from '../../src/host/cooldownTimer';
import { allUpstreamsCooling, lastFailover, statusBarModel } from '../../src/host/statusModel';
import { clientLinkState, hostOf, missingCredential, nextCooldownEnd, secretNameOf, serviceNode, upstreamLabels } from '../../src/host/treeModel';
import { upstreamHealth } from '../../src/host/upstreamHealth';
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
    const st = (lb: Parameters<typeof upstreamHealth>[0], now = T0) => upstreamHealth(lb, undefined, T0, now);
    assert.deepEqual(st(undefined), { kind: 'unknown', text: 'no traffic', source: 'none' });
    assert.equal(st(up({ last_used_at_ms: T0 })).text, 'healthy');
    assert.equal(st(up({ failure_count: 2, last_status: 502, last_error: 'status_502' })).text, 'failing: HTTP 502');
    assert.equal(st(up({ usage_exhausted: true, failure_count: 1 })).text, 'usage exhausted');
    const cooling = st(up({ cooldown_remaining_secs: 90, failure_count: 3, last_error: 'upstream_transport_error' }), T0 + 10_000);
    assert.equal(cooling.kind, 'cooling');
    assert.equal(cooling.text, 'cooling 1m 20s');
    assert.equal(cooling.reason, 'connection error');
    assert.equal(cooling.coolingUntilMs, T0 + 90_000);
    assert.equal(st(up({ cooldown_remaining_secs: 5, failure_count: 3, last_error: 'cloudflare_timeout' }), T0 + 6000).text, 'failing: Cloudflare timeout', 'cooldown over');
  });

  it('reads missing credentials and the client link state', () => {
    assert.deepEqual(missingCredential('missing_env:OPENAI_API_KEY'), { kind: 'env', name: 'OPENAI_API_KEY' });
    assert.deepEqual(missingCredential('client_passthrough (missing_secret:spare)'), { kind: 'secret', name: 'spare' });
    assert.equal(missingCredential('env:OPENAI_API_KEY'), undefined);
    assert.equal(missingCredential('client_passthrough'), undefined);
    const link = { file: '/h/.codex/config.toml', enabled: true, port: 3211 };
    assert.equal(clientLinkState(link, 3211), 'connected');
    assert.equal(clientLinkState(link, 3299), 'elsewhere');
    assert.equal(clientLinkState({ ...link, enabled: false }, 3211), 'none');
    assert.equal(clientLinkState({ ...link, error: 'bad TOML' }, 3211), 'unknown');
    assert.equal(clientLinkState(undefined, 3211), 'unknown');
    assert.equal(clientLinkState({ file: 'f', enabled: false, vscodeBaseUrl: 'http://127.0.0.1:3210' }, 3210), 'connected', 'through the VS Code setting only');
    const claude = serviceNode({ service: 'claude', status: { kind: 'running', url: 'http://127.0.0.1:3210', port: 3210 },
      client: { file: '/h/.claude/settings.json', enabled: true, port: 3210, vscodeBaseUrl: 'http://127.0.0.1:3299' } }, T0).children[0]!;
    assert.equal(claude.description, 'connected');
    assert.match(claude.tooltip, /Claude Code extension for VS Code: `ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:3299` \(not this proxy\)/);
  });

  it('reads secret names from auth sources and short hosts from URLs', () => {
    assert.equal(secretNameOf('secret:work'), 'work');
    assert.equal(secretNameOf('client_passthrough (missing_secret:spare)'), 'spare');
    assert.equal(secretNameOf('env:OPENAI_API_KEY, secret:k2'), 'k2');
    assert.equal(secretNameOf('env:SECRET_KEY'), undefined);
    assert.equal(hostOf('http://127.0.0.1:9000/v1'), '127.0.0.1:9000');
    assert.equal(hostOf('not a url'), 'not a url');
    assert.deepEqual(upstreamLabels(['http://h:1/a/v1', 'http://h:1/b/v1/', 'https://x.io/v1']), ['h:1/a/v1', 'h:1/b/v1', 'x.io']);
    assert.deepEqual(upstreamLabels(['http://h:1/a/v1', 'http://h:1/b/v1'], ['fake-a', 'fake-b']), ['fake-a', 'fake-b'], 'provider ids tell same-host upstreams apart');
    assert.deepEqual(upstreamLabels(['http://127.0.0.1:4000/v1', 'http://127.0.0.2:5000/v1']), ['127.0.0.1', '127.0.0.2'], 'no port where the name is enough');
    assert.deepEqual(upstreamLabels(['http://h:1/v1', 'http://h:2/v1']), ['h:1', 'h:2']);
  });

  it('builds service → config → upstream nodes, state first, with Markdown tooltips and action links', () => {
    const d = running({
      detail: detail({ global_override: 'main' }),
      snapshot: snapshot({ main: { last_good_index: 0, upstreams: [up({ last_used_at_ms: T0 - 5000 }), up({ cooldown_remaining_secs: 30, failure_count: 3, last_status: 502, last_error: 'status_502' })] } },
        [], { config_health: { main: { checked_at_ms: T0, upstreams: [{ base_url: 'https://a.example/v1', ok: true, latency_ms: 87, checked_at_ms: T0 - 1000 }] } } }),
      client: { file: '/h/.codex/config.toml', enabled: true, port: 3211 },
    });
    const root = serviceNode(d, T0);
    assert.equal(root.label, 'Codex');
    assert.equal(root.description, 'running · pinned main');
    assert.match(root.tooltip, /running on port 3211/);
    assert.equal(root.contextValue, 'service running');
    const [client, main, backup] = root.children;
    assert.equal(client!.kind, 'client');
    assert.equal(client!.description, 'connected');
    assert.equal(client!.contextValue, 'client connected codex');
    assert.match(client!.tooltip, /command:codexHelper\.disconnectCodex/);
    assert.equal(main!.label, 'Main');
    assert.equal(main!.description, 'pinned · priority 1 · active');
    assert.equal(main!.contextValue, 'config pinned enabled resettable');
    assert.equal(main!.icon.id, 'pinned');
    assert.equal(backup!.description, 'disabled · priority 3');
    assert.equal(backup!.contextValue, 'config unpinned disabled settled');
    assert.match(backup!.tooltip, /priority 3 \(lower is tried first\); the file says 2/);
    assert.match(backup!.tooltip, /the file says enabled/);
    const [a, b] = main!.children;
    assert.equal(a!.label, 'a.example');
    assert.equal(a!.description, 'healthy');
    assert.equal(a!.contextValue, 'upstream secret settled');
    assert.equal(a!.secretName, 'work');
    assert.match(a!.tooltip, /Provider: prov\-a/);
    assert.match(a!.tooltip, /Last probe: ok, 87 ms/);
    assert.match(a!.tooltip, /Credential: `secret:work`/);
    assert.match(a!.tooltip, /Sticky choice/);
    assert.match(a!.tooltip, /\[Set key…\]\(command:codexHelper\.setUpstreamApiKey\?/);
    assert.match(a!.tooltip, /\[Open config\]\(command:codexHelper\.openConfigAt\?/);
    assert.doesNotMatch(a!.tooltip, /Reset cooldown/, 'nothing to reset on a healthy upstream');
    assert.equal(b!.description, 'cooling 30 s');
    assert.equal(b!.contextValue, 'upstream plain resettable');
    assert.match(b!.tooltip, /Last status: 502/);
    const link = /\[Reset cooldown\]\(command:codexHelper\.resetCooldown\?([^)]+)\)/.exec(b!.tooltip);
    assert.ok(link, b!.tooltip);
    assert.deepEqual(JSON.parse(decodeURIComponent(link[1]!)), [{ service: 'codex', config: 'main', upstreamIndex: 1 }]);
    const spare = backup!.children[0]!;
    assert.equal(spare.secretName, 'spare');
    assert.equal(spare.description, 'key missing');
    assert.equal(spare.icon.id, 'warning');
    assert.match(spare.contextValue, /missingKey/);
    assert.match(spare.tooltip, /Credential missing: secret `spare` is not in SecretStorage/);
  });

  it('fits the key fact into the default sidebar width: the description starts with the state', () => {
    const long = 'connect ECONNREFUSED 127.0.0.1:1 — undici: UND_ERR_CONNECT: a very long transport error text that goes on and on and on for 150 characters';
    const d = running({
      snapshot: snapshot({ main: { upstreams: [up({ failure_count: 1, last_used_at_ms: T0 - 60_000, last_error: 'status_429', last_status: 429 }), up({ cooldown_remaining_secs: 12, failure_count: 3 })] } },
        [], { config_health: { main: { checked_at_ms: T0, upstreams: [{ base_url: 'https://a.example/v1', ok: false, error: long, checked_at_ms: T0 - 1000 }] } } }),
    });
    const [main] = serviceNode(d, T0).children;
    const [a, b] = main!.children;
    assert.equal(a!.description, 'failing: connection refused', 'the newer probe decides, with a short reason');
    assert.equal(b!.description, 'cooling 12 s');
    for (const n of [a!, b!, main!]) assert.ok((n.description ?? '').length <= 30, n.description);
    assert.match(a!.tooltip, /Last probe: failed: connect ECONNREFUSED/, 'the full error stays in the tooltip');
  });

  it('a passing probe after failures shows healthy in the tree and the status bar alike', () => {
    const lb = { main: { upstreams: [up({ failure_count: 3, last_used_at_ms: T0 - 60_000, last_error: 'status_502' }), up({ failure_count: 3, last_used_at_ms: T0 - 60_000 })] } };
    const probes = { main: { checked_at_ms: T0, upstreams: [
      { base_url: 'https://a.example/v1', ok: true, checked_at_ms: T0 - 1000 },
      { base_url: 'http://127.0.0.1:9000/v1', ok: true, checked_at_ms: T0 - 1000 },
    ] } };
    const d = running({ snapshot: snapshot(lb, [], { config_health: probes }) });
    const [main] = serviceNode(d, T0).children;
    assert.deepEqual(main!.children.map((c) => c.description), ['healthy', 'healthy']);
    assert.equal(statusBarModel(d, T0)!.warning, false);
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
    assert.match(String(broken.children[1]!.tooltip), /^config\.toml:3: bad level/);
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

  it('is hidden only when the service was stopped; a failed listener keeps an error item whose click offers fixes', () => {
    assert.equal(statusBarModel({ service: 'codex', status: { kind: 'stopped' } }, T0), undefined);
    assert.ok(statusBarModel({ service: 'codex', status: { kind: 'attached', url: 'http://127.0.0.1:4000', port: 4000 } }, T0));
    const failed = statusBarModel({ service: 'claude', status: { kind: 'failed', port: 3210, code: 'EADDRINUSE', message: 'port 3210 on 127.0.0.1 is already in use' } }, T0)!;
    assert.equal(failed.text, '$(error) Claude Code: port 3210 in use');
    assert.equal(failed.error, true);
    assert.equal(failed.command, 'codexHelper.listenerFixes');
    assert.match(failed.tooltip, /already in use/);
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

  it('says "failed over to X" with the reason and the time left of the preferred config, in the status bar and the tree', () => {
    const failover = { preferred: 'main', to: { config: 'backup', index: 0, base_url: 'https://b.example' }, reason: 'status_502',
      since_ms: T0 - 60_000, preferred_retry_at_ms: T0 + 25_000 };
    const d = running({ snapshot: snapshot({}, [], { failover }) });
    const sb = statusBarModel(d, T0)!;
    assert.equal(sb.text, '$(debug-step-over) Codex: auto → backup');
    assert.match(sb.tooltip, /failed over to backup#0 \(status\\_502; main back in 25 s\)/);
    assert.match(sb.tooltip, /Reset main's cooldown/);
    const node = serviceNode(d, T0);
    assert.match(node.description ?? '', /^failed over to backup · /);
    assert.match(String(node.tooltip), /main back in 25 s/);
    // Without a failover nothing of it shows.
    assert.doesNotMatch(serviceNode(running({ snapshot: snapshot({}) }), T0).description ?? '', /failed over/);
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
    assert.match(statusBarModel(all, T0)!.tooltip, /requests flow again in 20 s \(at \d\d:\d\d:\d\d\)/);
    assert.match(statusBarModel(all, T0)!.tooltip, /command:codexHelper\.resetCooldown/);
    const staggered = running({ snapshot: snapshot({ main: { upstreams: [cool, up({ cooldown_remaining_secs: 7, failure_count: 3 })] } }) });
    assert.match(statusBarModel(staggered, T0)!.tooltip, /flow again in 7 s/, 'the soonest cooldown end');
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
      return { dispose: () => { x.canceled = true; } };
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
