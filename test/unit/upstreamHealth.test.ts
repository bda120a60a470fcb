import assert from 'node:assert/strict';
import type { ConfigsDetail } from '../../src/proxy/adminClient';
import { configPickItems, effortPickItems } from '../../src/host/quickPicks';
import type { ServiceData } from '../../src/host/treeModel';
import { configHealthSummary, formatDuration, latestProbe, shortReason, upstreamHealth } from '../../src/host/upstreamHealth';

const T0 = 1_700_000_000_000;
const lb = (o: Record<string, unknown> = {}) => ({ failure_count: 0, usage_exhausted: false, penalty_streak: 0, ...o });

describe('upstream health (one source for tree, status bar, quick picks and webview)', () => {
  it('shortens load-balancer errors and raw probe errors to a few words', () => {
    assert.equal(shortReason('status_502'), 'HTTP 502');
    assert.equal(shortReason('upstream_transport_error'), 'connection error');
    assert.equal(shortReason('cloudflare_challenge'), 'Cloudflare challenge');
    assert.equal(shortReason('connect ECONNREFUSED 127.0.0.1:9 (undici UND_ERR_SOCKET) …'), 'connection refused');
    assert.equal(shortReason('getaddrinfo ENOTFOUND relay.example'), 'host not found');
    assert.equal(shortReason('Headers Timeout Error'), 'timed out');
    assert.equal(shortReason(undefined, 401), 'HTTP 401');
    assert.equal(shortReason(undefined, 200), undefined);
    assert.ok(shortReason('some completely unknown and very long error message from far away')!.length <= 22);
  });

  it('formats durations readably', () => {
    assert.equal(formatDuration(8), '8 s');
    assert.equal(formatDuration(125), '2m 05s');
    assert.equal(formatDuration(3840), '1h 04m');
  });

  it('lets the newer of probe and traffic decide, except that a running cooldown always shows', () => {
    const okProbe = { base_url: 'u', ok: true, checked_at_ms: T0 };
    const badProbe = { base_url: 'u', ok: false, status_code: 401, error: 'HTTP 401 Unauthorized', checked_at_ms: T0 };
    assert.equal(upstreamHealth(lb({ failure_count: 3, last_used_at_ms: T0 - 1, last_error: 'status_502' }), okProbe, T0, T0).text, 'healthy');
    assert.equal(upstreamHealth(lb({ last_used_at_ms: T0 + 5 }), badProbe, T0, T0 + 10).text, 'healthy', 'a later success beats an older failed probe');
    assert.equal(upstreamHealth(lb({ last_used_at_ms: T0 - 5 }), badProbe, T0, T0).text, 'failing: HTTP 401');
    assert.equal(upstreamHealth(undefined, okProbe, T0, T0).text, 'healthy', 'a probe alone is enough');
    const cooling = upstreamHealth(lb({ cooldown_remaining_secs: 12, failure_count: 3, last_used_at_ms: T0 - 1 }), okProbe, T0, T0);
    assert.equal(cooling.text, 'cooling 12 s');
  });

  it('finds the newest probe of an upstream among the appended records', () => {
    const h = { checked_at_ms: T0, upstreams: [{ base_url: 'a', ok: false }, { base_url: 'b', ok: true }, { base_url: 'a', ok: true, latency_ms: 5 }] };
    assert.equal(latestProbe(h, 'a')?.latency_ms, 5);
    assert.equal(latestProbe(h, 'c'), undefined);
  });

  it('summarises a config in one line', () => {
    const s = (kind: 'healthy' | 'cooling' | 'failing' | 'unknown', text = kind as string) => ({ kind, text, source: 'traffic' as const });
    assert.deepEqual(configHealthSummary([s('healthy'), s('healthy')]), { kind: 'healthy', text: 'all healthy' });
    assert.deepEqual(configHealthSummary([s('cooling', 'cooling 5 s')]), { kind: 'cooling', text: 'cooling 5 s' });
    assert.deepEqual(configHealthSummary([s('cooling'), s('failing'), s('healthy')]), { kind: 'healthy', text: '1 cooling, 1 failing, 1 healthy' });
    assert.deepEqual(configHealthSummary([s('unknown'), s('unknown')]), { kind: 'unknown', text: 'no traffic' });
  });
});

describe('quick pick items', () => {
  const detail: ConfigsDetail = {
    config_path: '/h/config.toml',
    global_override: 'backup',
    configs: [
      { name: 'main', alias: 'Main', enabled: true, level: 1, effective_enabled: true, effective_level: 1, active: true,
        upstreams: [{ config: 'main', index: 0, base_url: 'https://a.example/v1', auth_source: 'inline', supported_models: {}, model_mapping: {} }] },
      { name: 'backup', enabled: true, level: 2, effective_enabled: true, effective_level: 2, active: false,
        upstreams: [{ config: 'backup', index: 0, base_url: 'https://b.example/v1', auth_source: 'inline', supported_models: {}, model_mapping: {} }] },
    ],
  };
  const data = (lbView: Record<string, unknown>): ServiceData => ({
    service: 'codex', status: { kind: 'running', url: 'http://127.0.0.1:3211', port: 3211 }, detail,
    snapshot: { api_version: 1, service_name: 'codex', configs: [], snapshot: { refreshed_at_ms: T0, lb_view: lbView, config_health: {} } } as never,
  });

  it('marks the current pin and shows the same health as the tree for every config', () => {
    const items = configPickItems(data({ main: { upstreams: [lb({ cooldown_remaining_secs: 20, failure_count: 3 })] } }), detail, T0, 'backup',
      [{ label: '$(sync) Automatic', value: null }]);
    assert.deepEqual(items.map((i) => i.label), ['$(sync) Automatic', 'Main', '$(check) backup']);
    assert.equal(items[1]!.description, 'cooling 20 s · priority 1 · active');
    assert.equal(items[2]!.description, 'current · no traffic · priority 2');
    assert.equal(items.filter((i) => i.current).length, 1);
    const auto = configPickItems(data({}), { ...detail, global_override: undefined }, T0, null, [{ label: 'Automatic', value: null }]);
    assert.equal(auto[0]!.label, '$(check) Automatic');
    assert.equal(auto[0]!.current, true);
  });

  it('marks the current effort override, or "No override" when there is none', () => {
    assert.deepEqual(effortPickItems('high').filter((i) => i.current).map((i) => i.value), ['high']);
    const none = effortPickItems(undefined);
    assert.equal(none.at(-1)!.current, true);
    assert.equal(none.at(-1)!.value, null);
  });
});

describe('client links and the connect confirmation', () => {
  it('reads where Codex points from its own config.toml, and tells what Connect will change', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readClientLink, connectChanges } = await import('../../src/host/clientLink');
    const root = mkdtempSync(join(tmpdir(), 'chp-link-'));
    try {
      const env = { CODEX_HOME: join(root, 'codex'), CLAUDE_HOME: join(root, 'claude') };
      assert.deepEqual(readClientLink('codex', env), { file: join(root, 'codex', 'config.toml'), enabled: false });
      mkdirSync(env.CODEX_HOME);
      writeFileSync(join(env.CODEX_HOME, 'config.toml'), 'model_provider = "codex_proxy"\n[model_providers.codex_proxy]\nbase_url = "http://127.0.0.1:3299"\n');
      const link = readClientLink('codex', env);
      assert.equal(link.enabled, true);
      assert.equal(link.port, 3299);
      writeFileSync(join(env.CODEX_HOME, 'config.toml'), 'model_provider = [oops\n');
      assert.match(readClientLink('codex', env).error ?? '', /not valid TOML/);
      const c = connectChanges('codex', '/h/.codex/config.toml', 3211);
      assert.equal(c.message, 'Connect Codex to the proxy?');
      assert.match(c.detail, /This edits \/h\/\.codex\/config\.toml/);
      assert.match(c.detail, /base_url = "http:\/\/127\.0\.0\.1:3211"/);
      assert.match(c.detail, /Disconnect restores the file/);
      assert.match(connectChanges('claude', '/h/.claude/settings.json', 3210).detail, /env\.ANTHROPIC_BASE_URL = "http:\/\/127\.0\.0\.1:3210"/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
