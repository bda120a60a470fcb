// UI check of the host layer: status bar item, the activity-bar tree, a command run from the palette (Pin Config…
// with its quick pick) and text inside the recent-requests webview. Screenshots go to test-results/screenshots.
import assert from 'node:assert/strict';

const REQ = JSON.stringify({ model: 'gpt-5', input: 'hello from the UI test', stream: false });

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb, env }) {
  const port = Number(env.E2E_CODEX_PORT);
  await wb.statusBarItem(page, 'Codex: auto').waitFor({ timeout: 30000 });
  const r = await fetch(`http://127.0.0.1:${port}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', session_id: 'ui-session' }, body: REQ });
  assert.equal(r.status, 200);

  await wb.openViewContainer(page, 'Codex Helper');
  const labels = await wb.treeItemLabels(page, { minCount: 4 });
  for (const l of ['Codex', 'Claude Code', 'Main', 'backup']) assert.ok(labels.includes(l), `tree shows ${l}: ${labels.join(', ')}`);
  // The config rows can render a moment before their upstream rows: wait for them instead of reading once.
  const treeRows = page.locator('.pane-body .monaco-list-row[role="treeitem"]');
  const found = await treeRows.filter({ hasText: 'fake-a' }).first().waitFor({ timeout: 15000 }).then(() => true, () => false);
  const rows = await treeRows.allInnerTexts();
  assert.ok(found, `upstream row labelled by its provider id (same host as its sibling): ${rows.join(' | ')}`);
  assert.match(rows.find((r) => r.includes('fake-a')) ?? '', /fake-a\s*(healthy|no traffic|key missing)/, 'the state follows the label at once');
  await screenshot('host-tree');

  await wb.runCommand(page, 'Codex Helper: Pin Config…');
  // Both proxies run, so the command first asks which one.
  const which = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Codex' }).first();
  await which.waitFor({ timeout: 20000 });
  await which.click();
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'backup' }).first();
  await pick.waitFor({ timeout: 20000 });
  await pick.click();
  await wb.statusBarItem(page, 'Codex: backup').waitFor({ timeout: 20000 });
  await screenshot('host-pinned');

  await wb.runCommand(page, 'Codex Helper: Unpin Config');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Codex' }).first().click({ timeout: 20000 });
  await wb.statusBarItem(page, 'Codex: auto').waitFor({ timeout: 20000 });

  await wb.runCommand(page, 'Codex Helper: Show Recent Requests');
  const row = wb.webview(page, '#requests tbody tr').first();
  await row.waitFor({ timeout: 30000 });
  const text = await wb.webview(page, '#requests tbody').innerText();
  assert.match(text, /gpt-5/, `webview rows: ${text.slice(0, 300)}`);
  await screenshot('host-webview');
}
