// The tree, the status bar, quick picks and both webviews rendered with the Simplified Chinese bundle, loaded the
// way @vscode/l10n loads one for tests (the JSON file as a message → translation map), through the same t() seam
// the extension routes to vscode.l10n.t. A test machine need not have the Chinese language pack for this.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LbConfigView } from '../../src/core/lb';
import type { FinishedRequest } from '../../src/core/types';
import type { ApiSnapshot, ConfigsDetail } from '../../src/proxy/adminClient';
import { bundleTranslator, useTranslator } from '../../src/host/l10n';
import type { L10nBundle } from '../../src/host/l10n';
import { failoverNotice } from '../../src/host/failoverNotice';
import { validatePortInput } from '../../src/host/portConflict';
import { configPickItems, effortPickItems } from '../../src/host/quickPicks';
import { statusBarModel } from '../../src/host/statusModel';
import { serviceNode } from '../../src/host/treeModel';
import type { ServiceData } from '../../src/host/treeModel';
import { requestsStrings, statsStrings } from '../../src/webview/pageStrings';
import { renderRequestsHtml } from '../../src/webview/requestsHtml';
import { rowFromFinished } from '../../src/webview/requestsModel';
import { renderStatsHtml } from '../../src/webview/statsHtml';

const T0 = 1_700_000_000_000;
const ZH = JSON.parse(readFileSync(join(process.cwd(), 'l10n/bundle.l10n.zh-cn.json'), 'utf8')) as L10nBundle;
/** Words that would mean an English string slipped through (markdown, ids and values aside). */
const ENGLISH = /\b(running|pinned|priority|healthy|cooling|failing|connected|Check health|Reset cooldown|Open config|requests?|errors?|Last|Pin|Fix|Show)\b/;

const detail = (): ConfigsDetail => ({
  active: 'main',
  config_path: '/home/u/.codex-helper/config.toml',
  configs: [{
    name: 'main', enabled: true, level: 1, effective_enabled: true, effective_level: 1, active: true,
    upstreams: [
      { config: 'main', index: 0, base_url: 'https://a.example/v1', auth_source: 'secret:work', supported_models: {}, model_mapping: {} },
      { config: 'main', index: 1, base_url: 'https://b.example/v1', auth_source: 'missing_env:OPENAI_API_KEY', supported_models: {}, model_mapping: {} },
    ],
  }],
});

const up = (o: Partial<LbConfigView['upstreams'][number]> = {}) => ({ failure_count: 0, usage_exhausted: false, penalty_streak: 0, ...o });

function snapshot(recent: FinishedRequest[], extra: Partial<ApiSnapshot['snapshot']> = {}): ApiSnapshot {
  const stats = { total: 3, ok_2xx: 2, err_429: 0, err_4xx: 0, err_5xx: 1, avg_attempts: 1, retry_rate: 0 };
  return {
    api_version: 1, service_name: 'codex', configs: [],
    snapshot: {
      refreshed_at_ms: T0, active: [], recent, session_config_overrides: {}, session_effort_overrides: {}, session_stats: {},
      config_health: {}, health_checks: {},
      lb_view: { main: { upstreams: [up({ last_used_at_ms: T0 - 1000 }), up({ cooldown_remaining_secs: 30, failure_count: 3, last_error: 'status_502' })] } } as Record<string, unknown>,
      usage_rollup: { since_start: {} as never, by_day: [], by_config: [], by_config_day: {}, by_provider: [], by_provider_day: {} },
      stats_5m: { ...stats }, stats_1h: { ...stats }, ...extra,
    },
  } as ApiSnapshot;
}

const failedOver: FinishedRequest = {
  id: 7, service: 'codex', method: 'POST', path: '/v1/responses', status_code: 200, duration_ms: 900, ended_at_ms: T0 - 30_000,
  config_name: 'main', upstream_base_url: 'https://b.example/v1',
  retry: { attempts: 2, upstream_chain: ['main:https://a.example/v1 (idx=0) status=502 class=- model=-', 'main:https://b.example/v1 (idx=1) status=200 class=- model=-'] },
} as FinishedRequest;

const data = (): ServiceData => ({
  service: 'codex', status: { kind: 'running', url: 'http://127.0.0.1:3211', port: 3211 }, detail: detail(),
  snapshot: snapshot([failedOver]), client: { file: '/h/.codex/config.toml', enabled: true, port: 3211 },
});

describe('rendering in Simplified Chinese (zh-cn bundle through the t() seam)', () => {
  before(() => useTranslator(bundleTranslator(ZH)));
  after(() => useTranslator(undefined));

  it('the tree: service, client, config and upstream nodes', () => {
    const root = serviceNode(data(), T0);
    assert.equal(root.description, '运行中 · 自动');
    assert.match(root.tooltip, /^\*\*Codex 代理\*\* — 运行中，端口 3211/);
    assert.match(root.tooltip, /自动选择配置（按优先级和健康状态）/);
    assert.match(root.tooltip, /\[固定配置…\]\(command:codexHelper\.pinConfig/);
    const [client, main] = root.children;
    assert.equal(client!.label, 'Codex 客户端');
    assert.equal(client!.description, '已连接');
    assert.match(client!.tooltip, /Codex 的请求经由此代理发送。/);
    assert.match(main!.description!, /^优先级 1 · 激活$/);
    assert.match(main!.tooltip, /2 个上游/);
    const [a, b] = main!.children;
    assert.equal(a!.description, '健康');
    assert.equal(b!.description, '冷却中 30 秒 · 缺少密钥');
    assert.match(b!.tooltip, /缺少凭据：环境变量 `OPENAI_API_KEY` 未设置/);
    assert.match(b!.tooltip, /\[重置冷却\]\(command:codexHelper\.resetCooldown/);
    for (const n of [root, client!, main!, a!, b!]) assert.doesNotMatch(`${n.description ?? ''}\n${n.tooltip.replace(/\(command:[^)]*\)|`[^`]*`/g, '')}`, ENGLISH, n.id);
  });

  it('the status bar: text and tooltip, failover included', () => {
    const d = data();
    d.snapshot!.snapshot.failover = { preferred: 'main', to: { config: 'backup', index: 0, base_url: 'https://c.example' }, reason: 'HTTP 502', since_ms: T0 - 60_000, preferred_retry_at_ms: T0 + 25_000 };
    const m = statusBarModel(d, T0)!;
    assert.equal(m.text, '$(debug-step-over) Codex: 自动 → backup');
    assert.match(m.tooltip, /已故障转移到 backup#0（HTTP 502；main 将在 25 秒后恢复）/);
    assert.match(m.tooltip, /\[重置 main 的冷却\]/);
    assert.match(m.tooltip, /最近 5 分钟：3 个请求，1 个错误/);
    assert.match(m.tooltip, /最近一次故障转移：main \(a\.example\) → main \(b\.example\)，30 秒前/);
    assert.doesNotMatch(m.tooltip.replace(/\(command:[^)]*\)|`[^`]*`/g, ''), ENGLISH);
    const failed = statusBarModel({ service: 'claude', status: { kind: 'failed', port: 3210, code: 'EADDRINUSE', message: 'listen EADDRINUSE' } }, T0)!;
    assert.equal(failed.text, '$(error) Claude Code: 端口 3210 被占用');
  });

  it('quick picks, validation messages and notifications', () => {
    const items = configPickItems(data(), detail(), T0, 'main', [{ label: '$(sync) x', value: null }]);
    assert.match(items[1]!.description!, /^当前 · /);
    const effort = effortPickItems(undefined);
    assert.equal(effort.at(-1)!.label, '$(check) $(close) 不覆盖');
    assert.equal(effort.at(-1)!.description, '当前：由客户端决定');
    assert.equal(validatePortInput('0', []), '请输入 1 到 65535 之间的端口号。');
    const f = { preferred: 'main', to: { config: 'backup', index: 0, base_url: 'https://c.example' }, reason: '', since_ms: T0 - 60_000 };
    assert.equal(failoverNotice('codex', undefined, f, T0)!.message, 'Codex：main 不可用，已故障转移到 backup#0（首选配置不可用）。');
    assert.equal(failoverNotice('codex', f, undefined, T0)!.message, 'Codex：请求已重新流向 main（60 秒后恢复）。');
  });

  it('the webviews: page shells, texts sent in `init`, and row notes', () => {
    const html = renderRequestsHtml({ cspSource: 'vscode-resource:', scriptUri: 's.js', styleUri: 's.css', commonScriptUri: 'c.js', commonStyleUri: 'c.css', nonce: 'n', lang: 'zh-cn' });
    assert.match(html, /<html lang="zh-cn">/);
    assert.match(html, /<title>Codex Helper：最近请求<\/title>/);
    assert.match(html, />导出 CSV</);
    assert.match(html, /<th>会话 \/ 工作目录<\/th>/);
    assert.match(renderStatsHtml({ cspSource: 'c', scriptUri: 's', styleUri: 'y', commonScriptUri: 'c', commonStyleUri: 'z', nonce: 'n' }), /<h2>按模型<\/h2>/);
    const s = requestsStrings();
    assert.equal(s.noRequests, '还没有请求。请让你的客户端指向代理：');
    assert.deepEqual(s.attemptHeaders.slice(0, 3), ['#', '配置 / 上游', '结果']);
    assert.equal(statsStrings().rangeTitle['7d'], '最近 7 天');
    const row = rowFromFinished(failedOver);
    assert.equal(row.triesNote, '2 次尝试，跨上游（故障转移）；最后一次成功。');
    // Every text the pages get is translated (none left as the English key).
    const flat = (o: unknown): string[] => (typeof o === 'string' ? [o] : Array.isArray(o) ? o.flatMap(flat) : Object.values(o as object).flatMap(flat));
    const untranslated = [...flat(requestsStrings()), ...flat(statsStrings())]
      .filter((v) => /[a-z]{4,}/i.test(v.replace(/Retry-After|TTFB|CODEX_HELPER_PRICE_\*|config\.toml|\[pricing[^\]]*\]|codexHelper|Codex Helper/g, '')) && !/[\u4e00-\u9fff]/.test(v));
    assert.deepEqual(untranslated, []);
  });

  it('falls back to English for a key a bundle lacks, and back to English entirely when reset', () => {
    useTranslator(bundleTranslator({}));
    assert.equal(serviceNode(data(), T0).description, 'running · auto');
    useTranslator(undefined);
    assert.equal(serviceNode(data(), T0).description, 'running · auto');
    useTranslator(bundleTranslator(ZH));
    assert.equal(serviceNode(data(), T0).description, '运行中 · 自动');
  });
});
