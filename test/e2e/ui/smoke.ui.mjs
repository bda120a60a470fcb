// UI smoke: the workbench loads with the extension installed and shows no activation error.
import assert from 'node:assert/strict';

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb }) {
  // Give onStartupFinished activation time to fail loudly if it is going to.
  await page.waitForTimeout(3000);
  const toasts = await wb.notificationTexts(page);
  const bad = toasts.filter((t) => /codex.?helper/i.test(t) && /fail|error|cannot/i.test(t));
  assert.deepEqual(bad, [], `activation problems: ${bad.join(' | ')}`);
  await screenshot('workbench');
}
