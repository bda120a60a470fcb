// UI smoke: the workbench loads, the installed extension is listed, and no Codex Helper error toast shows.
// Feature checks (status bar, tree views, webviews) belong in their own *.ui.mjs files.
import assert from 'node:assert/strict';

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb }) {
  await wb.runCommand(page, 'View: Show Extensions');
  await page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'Codex Helper' }).first().waitFor({ timeout: 30000 });
  const toasts = await wb.notificationTexts(page);
  const bad = toasts.filter((t) => /codex.?helper/i.test(t) && /fail|error|cannot/i.test(t));
  assert.deepEqual(bad, [], `Codex Helper error notifications: ${bad.join(' | ')}`);
  await screenshot('workbench');
}
