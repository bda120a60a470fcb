// The extension's own face in Simplified Chinese in a real workbench: the tree, the status bar tooltip, the pin quick
// pick and the Recent Requests webview. This machine's VS Code has no Chinese language pack, so run.mjs starts it with
// CODEX_HELPER_L10N_BUNDLE=l10n/bundle.l10n.zh-cn.json and the extension loads that bundle through its t() seam
// (VS Code's own chrome and the command titles from package.nls stay English without the pack).
// Run: CODEX_HELPER_L10N_BUNDLE=$PWD/l10n/bundle.l10n.zh-cn.json node scripts/e2e/run.mjs --only ui --ui-dir test/e2e/ui-l10n --keep-shots
import assert from 'node:assert/strict';

const REQ = JSON.stringify({ model: 'gpt-5', input: 'hello from the l10n test', stream: false });

async function admin(port, path, body) {
  const r = await fetch(`http://127.0.0.1:${port}/__codex_helper/api/v1/${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.ok(r.status < 300, `${path} → ${r.status}`);
  return r.status === 204 ? undefined : r.json();
}

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb, env }) {
  const port = Number(env.E2E_CODEX_PORT);
  const item = wb.statusBarItem(page, 'Codex: 自动');
  await item.waitFor({ timeout: 30000 });

  // A failover through relay (its first upstream answers 502 and cools down), so rows and tooltips have content.
  await admin(port, 'overrides/global-config', { config_name: 'relay' });
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQ });
    assert.equal(r.status, 200);
  } finally {
    await admin(port, 'overrides/global-config', { config_name: null });
  }

  await wb.openViewContainer(page, 'Codex Helper');
  const rows = page.locator('.pane-body .monaco-list-row[role="treeitem"]');
  await rows.filter({ hasText: /冷却中 \d+分/ }).first().waitFor({ timeout: 20000 });
  const texts = (await rows.allInnerTexts()).join(' | ');
  assert.match(texts, /运行中/, texts);
  assert.match(texts, /优先级 1/, texts);
  assert.match(texts, /Codex 客户端/, texts);
  assert.doesNotMatch(texts, /\b(running|priority|cooling|healthy|failing)\b/, texts);
  await screenshot('zh-cn-tree');

  await item.hover();
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: '最近 5 分钟' }).first();
  await hover.waitFor({ timeout: 20000 });
  assert.match(await hover.innerText(), /最近一次故障转移/);
  await screenshot('zh-cn-statusbar-tooltip');
  await page.mouse.move(700, 300);

  await wb.runCommand(page, 'Codex Helper: Pin Config…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Codex' }).first().click({ timeout: 20000 });
  const auto = page.locator('.quick-input-list .monaco-list-row', { hasText: '自动（按优先级和健康状态）' }).first();
  await auto.waitFor({ timeout: 20000 });
  assert.match(await auto.innerText(), /当前/);
  assert.match(await page.locator('.quick-input-widget').first().innerText(), /该服务的每个请求都发往固定的配置|优先级/);
  await screenshot('zh-cn-quickpick');
  await page.keyboard.press('Escape');

  await wb.runCommand(page, 'Codex Helper: Show Recent Requests');
  const row = wb.webview(page, '#requests tbody tr.request-row').filter({ hasText: 'relay' }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
  await wb.webview(page, 'table.attempts').first().waitFor({ timeout: 20000 });
  const detail = await wb.webview(page, 'tr.detail-row').first().innerText();
  assert.match(detail, /次尝试，跨上游（故障转移）/, detail);
  assert.match(detail, /配置 \/ 上游/, detail);
  assert.match(await wb.webview(page, 'header.toolbar').first().innerText(), /导出 CSV/);
  assert.match(await wb.webview(page, '#totals').first().innerText(), /请求/);
  await screenshot('zh-cn-webview');
}
