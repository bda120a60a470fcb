// Small helpers for driving the VS Code web workbench with playwright-core (selectors as of VS Code 1.139).
// UI tests get these as `wb` in their context so selectors live in one place.

/** Waits until the workbench shell is rendered. */
export async function waitForWorkbench(page, timeout = 60000) {
  await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout });
}

/** Returns the status bar item locator whose text contains `text` (string or RegExp). */
export function statusBarItem(page, text) {
  return page.locator('.statusbar-item', { hasText: text }).first();
}

/** Runs a command from the palette by its visible title (e.g. "Codex Helper: Show Requests"). */
export async function runCommand(page, title, timeout = 20000) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout });
  await page.keyboard.press('Enter');
}

/** Opens an activity-bar view container by the start of its aria-label (its title). */
export async function openViewContainer(page, titlePrefix, timeout = 20000) {
  const item = page.locator(`.activitybar .action-item [aria-label^="${titlePrefix}"]`).first();
  await item.waitFor({ state: 'visible', timeout });
  const container = item.locator('xpath=ancestor-or-self::li[contains(concat(" ", @class, " "), " action-item ")][1]');
  // Clicking an already selected container collapses the side bar.
  if (!((await container.getAttribute('class', { timeout })) ?? '').split(/\s+/).includes('checked')) await item.click();
}

/** Labels of the tree items currently rendered in visible side-bar panes. */
export async function treeItemLabels(page, { minCount = 1, timeout = 20000 } = {}) {
  const rows = page.locator('.pane-body .monaco-list-row[role="treeitem"] .label-name');
  await page.waitForFunction(
    (n) => document.querySelectorAll('.pane-body .monaco-list-row[role="treeitem"] .label-name').length >= n,
    minCount, { timeout });
  return rows.allInnerTexts();
}

/** Locator inside the active webview's content frame (outer iframe.webview.ready -> inner #active-frame). */
export function webview(page, selector) {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame').locator(selector);
}

/** Texts of the notification toasts currently shown. */
export async function notificationTexts(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}
