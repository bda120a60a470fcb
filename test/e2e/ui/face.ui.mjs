// The face a user reads at a glance, in a real workbench: the tree at the default sidebar width with a cooling and
// a failing upstream, the pin quick pick with health, the Recent Requests webview with an expanded failover row,
// the Connect confirmation, and the first-run welcome view. Screenshots go to test-results/screenshots.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const REQ = JSON.stringify({ model: 'gpt-5', input: 'hello from the face test', stream: false });

async function admin(port, path, body) {
  const r = await fetch(`http://127.0.0.1:${port}/__codex_helper/api/v1/${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.ok(r.status < 300, `${path} → ${r.status}`);
  return r.status === 204 ? undefined : r.json();
}

async function until(what, fn, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb, env }) {
  const port = Number(env.E2E_CODEX_PORT);
  await wb.statusBarItem(page, 'Codex: auto').waitFor({ timeout: 30000 });

  // A failover: relay's first upstream answers 502 (twice, then it cools down for 10 min), its second answers.
  await admin(port, 'overrides/global-config', { config_name: 'relay' });
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', session_id: '019a2b3c-4d5e-7f00-8a1b-2c3d4e5f6a7b' }, body: REQ });
    assert.equal(r.status, 200);
  } finally {
    await admin(port, 'overrides/global-config', { config_name: null });
  }
  const lb = await admin(port, 'status/lb');
  assert.ok(lb.relay?.upstreams[0]?.cooldown_remaining_secs > 0, `relay upstream 0 cooling: ${JSON.stringify(lb.relay)}`);
  // spare's key is rejected: its health probe fails (and no request ever went there).
  await admin(port, 'healthcheck/start', { config_names: ['spare'] });
  await until('spare probed', async () => (await admin(port, 'status/config-health')).spare?.upstreams.length > 0);

  await wb.openViewContainer(page, 'Codex Helper');
  const rows = page.locator('.pane-body .monaco-list-row[role="treeitem"]');
  await rows.filter({ hasText: 'failing: HTTP 401' }).first().waitFor({ timeout: 20000 });
  await rows.filter({ hasText: /cooling \d+m/ }).first().waitFor({ timeout: 20000 });
  // State first: the state (not what follows it) must be fully visible at the default sidebar width.
  // The rows are redrawn every second (the countdown) and the list reuses their elements: a measurement taken while
  // its element is detached or being reused reads all zeros, so each row is measured until it reads a laid-out row.
  for (const [label, state] of [['relay', /cooling \d+m \d+s/], ['spare', /failing: HTTP 401/]]) {
    const desc = rows.filter({ hasText: state }).first().locator('.label-description').first();
    let last;
    for (const end = Date.now() + 5000; ;) {
      const text = await desc.innerText().catch(() => '');
      const m = state.exec(text);
      const n = m?.index === 0 ? m[0].length : -1;
      const box = n > 0 ? await desc.evaluate((e, len) => {
        const t = document.createTreeWalker(e, NodeFilter.SHOW_TEXT).nextNode();
        if (!t || !e.isConnected) return undefined;
        const r = document.createRange();
        r.setStart(t, 0);
        r.setEnd(t, Math.min(len, t.length));
        const clip = (e.closest('.monaco-icon-label-container') ?? e.closest('.monaco-list-row')).getBoundingClientRect();
        return { stateRight: r.getBoundingClientRect().right, clipRight: clip.right, clipWidth: clip.width };
      }, n).catch(() => undefined) : undefined;
      last = { text, n, box };
      if (box && box.clipWidth > 0) break;
      if (Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(last.n > 0, `${label}: the description starts with the state: "${last.text}"`);
    assert.ok(last.box && last.box.clipWidth > 0, `${label}: the row never laid out: ${JSON.stringify(last)}`);
    // An ellipsis would cover the last characters: keep one character's width of margin.
    assert.ok(last.box.stateRight <= last.box.clipRight - 8,
      `${label}: the state in "${last.text}" is cut off at the default sidebar width (${JSON.stringify(last.box)})`);
  }
  // The countdown moves on its own (no request, no fetch): the row is redrawn each second.
  const coolingRow = rows.filter({ hasText: /cooling \d+m/ }).first();
  const before = await coolingRow.innerText();
  await until('the countdown moves', async () => (await coolingRow.innerText()) !== before, 5000);
  const texts = (await rows.allInnerTexts()).join(' | ');
  assert.match(texts, /priority 1/, texts);
  assert.match(texts, /key missing|failing: HTTP 401/, texts);
  assert.match(texts, /Codex client/, texts);
  await screenshot('tree-states');

  // The pin quick pick: current choice marked, health and priority per config, a placeholder.
  await wb.runCommand(page, 'Codex Helper: Pin Config…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Codex' }).first().click({ timeout: 20000 });
  const relayItem = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Relay' }).first();
  await relayItem.waitFor({ timeout: 20000 });
  assert.match(await relayItem.innerText(), /cooling.*priority 3/s);
  assert.match(await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Automatic' }).first().innerText(), /current/);
  await screenshot('quickpick-health');
  await page.keyboard.press('Escape');

  // Recent Requests: the failover row expanded shows the attempts as a table.
  await wb.runCommand(page, 'Codex Helper: Show Recent Requests');
  const failover = wb.webview(page, '#requests tbody tr.request-row').filter({ hasText: 'relay' }).first();
  await failover.waitFor({ timeout: 30000 });
  await failover.click();
  const table = wb.webview(page, 'table.attempts').first();
  await table.waitFor({ timeout: 20000 });
  const detail = await wb.webview(page, 'tr.detail-row').first().innerText();
  assert.match(detail, /attempts across upstreams \(failover\)/, detail);
  assert.match(detail, /HTTP 502/, detail);
  assert.match(detail, /019a2b3c-4d5e-7f00-8a1b-2c3d4e5f6a7b/, 'the full session id');
  await screenshot('webview-failover');

  // Connect asks first, showing the file and the change.
  const codexConfig = join(env.CODEX_HOME, 'config.toml');
  await wb.runCommand(page, 'Codex Helper: Connect Codex to Proxy');
  const dialog = page.locator('.monaco-dialog-box').first();
  await dialog.waitFor({ timeout: 20000 });
  const question = await dialog.innerText();
  assert.match(question, /Connect Codex to the proxy\?/);
  assert.match(question, /config\.toml/);
  assert.match(question, new RegExp(`base_url = "http://127\\.0\\.0\\.1:${port}"`));
  assert.ok(!existsSync(codexConfig), 'nothing is written before the answer');
  await screenshot('connect-confirmation');
  await dialog.locator('.monaco-button', { hasText: /^Connect$/ }).first().click();
  await until('Codex config patched', async () => existsSync(codexConfig) && readFileSync(codexConfig, 'utf8').includes('codex_proxy'));
  await rows.filter({ hasText: /Codex client\s*connected/ }).first().waitFor({ timeout: 20000 });
  await wb.runCommand(page, 'Codex Helper: Disconnect Codex from Proxy');
  await until('Codex config restored', async () => !existsSync(codexConfig));

  // First run: without a config file the Get Started view explains what to do.
  const file = join(env.CODEX_HELPER_HOME, 'config.toml');
  renameSync(file, `${file}.away`);
  try {
    await fetch(`http://127.0.0.1:${port}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQ }).catch(() => undefined);
    await wb.openViewContainer(page, 'Codex Helper');
    const welcome = page.locator('.pane-body .welcome-view-content', { hasText: 'No config file yet' }).first();
    await welcome.waitFor({ timeout: 20000 });
    assert.match(await welcome.innerText(), /Import from ~\/\.codex/);
    await screenshot('first-run-welcome');
  } finally {
    renameSync(`${file}.away`, file);
  }
}
