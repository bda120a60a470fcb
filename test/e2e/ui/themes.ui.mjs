// Theme check of the VS Code face: with one request row in the Recent Requests webview and the Codex Helper tree
// open, switch to light, dark, high-contrast dark and high-contrast light, screenshot each, and measure legibility
// inside the webview: WCAG contrast of text against its effective background (>= 4.5; table, totals, status cells
// incl. 4xx/5xx/error probes, detail row, toolbar), of the chart bars, token line and legend swatch against their
// background (>= 3), a focus ring on every focusable control, and in high contrast a contrastBorder on boxed controls.
// The measured numbers are written next to the screenshots (theme-contrast.json) so a regression shows its values.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Theme ids and picker labels as shipped in code-server 4.139.1 (Code 1.139.1): the ids lost their "Default "
// prefix for the Modern themes; the dark high-contrast theme kept id "Default High Contrast".
export const THEMES = [
  { shot: 'light', id: 'Light Modern', label: 'Light Modern', wbClass: 'vs', bodyClass: 'vscode-light', hc: false },
  { shot: 'dark', id: 'Dark Modern', label: 'Dark Modern', wbClass: 'vs-dark', bodyClass: 'vscode-dark', hc: false },
  { shot: 'hc', id: 'Default High Contrast', label: 'Dark High Contrast', wbClass: 'hc-black', bodyClass: 'vscode-high-contrast', hc: true },
  { shot: 'hclight', id: 'Default High Contrast Light', label: 'Light High Contrast', wbClass: 'hc-light', bodyClass: 'vscode-high-contrast-light', hc: true },
];
const TEXT_MIN = 4.5;
const GRAPHIC_MIN = 3;
// The palette's text box; a bare `.quick-input-widget input` can also match the widget's check-all checkbox.
const QUICK_INPUT = '.quick-input-widget .quick-input-box input';
const REQ = JSON.stringify({ model: 'gpt-5', input: 'hello from the theme test', stream: false });

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Clicks the quick-pick row whose label is exactly `label` (fuzzy ranking can put another row first). */
async function pickExact(page, label, timeout = 15000) {
  await page.locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }) })
    .first().click({ timeout });
}

/**
 * Runs a palette command by its exact title. Not wb.runCommand: that presses Enter on the first fuzzy match, which
 * for "Preferences: Color Theme" is "Preferences: Browse Color Themes in Marketplace" (dead offline).
 */
export async function runCommandExact(page, title) {
  // The palette can open while the workbench is still settling (a notification or a view taking focus closes it
  // again, leaving the input inert): close whatever is open and try again, a few times, before failing.
  let lastError;
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator(QUICK_INPUT);
      await input.waitFor({ state: 'visible', timeout: 8000 });
      await input.fill(`>${title}`, { timeout: 8000 });
      await pickExact(page, title, 8000);
      return;
    } catch (e) {
      lastError = e;
      await page.waitForTimeout(500 * attempt);
    }
  }
  throw lastError;
}

/** Switches the color theme through "Preferences: Color Theme"; resolves once workbench and webview switched. */
export async function setTheme(page, wb, t) {
  // Writing workbench.colorTheme into settings.json is not picked up by a running code-server 4.139.1 (only after a
  // reload, which would also reload the webview), so the theme goes through the picker like a user would do it.
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await runCommandExact(page, 'Preferences: Color Theme');
      // The picker lists installed themes once the extension registry is ready; typing narrows the virtualized list.
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Light' }).first().waitFor({ timeout: 15000 });
      await page.locator(QUICK_INPUT).fill(t.label, { timeout: 8000 });
      await pickExact(page, t.label, 8000);
      await page.waitForFunction((cls) => document.querySelector('.monaco-workbench')?.classList.contains(cls), t.wbClass, { timeout: 15000 });
      lastError = undefined;
      break;
    } catch (e) {
      lastError = e;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500 * attempt);
    }
  }
  if (lastError) throw lastError;
  // The webview gets the theme by message: its body carries the theme id once the new variables are in place.
  await wb.webview(page, `body[data-vscode-theme-id="${t.id}"].${t.bodyClass}`).waitFor({ state: 'attached', timeout: 15000 });
  // Keep the pointer off the table so no row is hovered in the screenshot.
  await page.mouse.move(5, 845);
}

/**
 * Runs inside the webview frame: contrast numbers for the probes. Text colors with alpha are blended over their
 * background; backgrounds are composited from the element up to the first opaque one.
 */
export function measureInPage(_body, { textProbes, graphicProbes, controls, palette }) {
  const parse = (s) => {
    if (!s || s === 'none' || s === 'transparent') return { r: 0, g: 0, b: 0, a: 0 };
    let m = /^rgba?\(([^)]*)\)$/.exec(s.trim());
    if (m) {
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map((x) => (x.endsWith('%') ? Number(x.slice(0, -1)) / 100 : Number(x)));
      return { r: p[0], g: p[1], b: p[2], a: p[3] ?? 1 };
    }
    m = /^color\(srgb ([^)]*)\)$/.exec(s.trim());
    if (m) {
      const p = m[1].split(/[\s/]+/).filter(Boolean).map(Number);
      return { r: p[0] * 255, g: p[1] * 255, b: p[2] * 255, a: p[3] ?? 1 };
    }
    return null;
  };
  const over = (top, under) => {
    const a = top.a + under.a * (1 - top.a);
    if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
    const mix = (k) => (top[k] * top.a + under[k] * under.a * (1 - top.a)) / a;
    return { r: mix('r'), g: mix('g'), b: mix('b'), a };
  };
  const lum = (c) => {
    const ch = (v) => {
      const x = v / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  };
  const hex = (c) => '#' + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('') +
    (c.a < 1 ? Math.round(c.a * 255).toString(16).padStart(2, '0') : '');
  const rootStyle = getComputedStyle(document.documentElement);
  // Under a fully transparent page the editor background shows through the webview iframe.
  const canvas = parse(rootStyle.getPropertyValue('--vscode-editor-background').trim()) ?? { r: 255, g: 255, b: 255, a: 1 };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let bg = { ...canvas, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const out = { text: {}, graphic: {}, controls: {}, palette: {}, missing: [] };
  // States the fake upstream cannot produce (4xx, 5xx, broken stream, errors total, retries, banner) are probed on
  // clones of the real row/stat with the page's own classes, so the real stylesheet and theme variables apply.
  const probes = [];
  const row = document.querySelector('#requests tbody tr.request-row');
  const tbody = document.querySelector('#requests tbody');
  if (row && tbody) {
    for (const cls of ['status-4xx', 'status-5xx', 'status-error']) {
      const c = row.cloneNode(true);
      c.className = `request-row ${cls} theme-probe`;
      c.querySelector('td.col-tries')?.classList.add('is-retried');
      tbody.appendChild(c);
      probes.push(c);
    }
    const banner = document.createElement('tr');
    banner.className = 'banner-row theme-probe';
    const td = document.createElement('td');
    td.textContent = '⚠ claude proxy: probe';
    banner.appendChild(td);
    tbody.appendChild(banner);
    probes.push(banner);
  }
  const stat = document.querySelector('#totals .stat');
  for (const cls of ['is-error', 'is-active']) {
    if (!stat) break;
    const c = stat.cloneNode(true);
    c.classList.add(cls, 'theme-probe');
    stat.parentElement.appendChild(c);
    probes.push(c);
  }
  for (const [name, sel] of Object.entries(textProbes)) {
    const el = document.querySelector(sel);
    if (!el) { out.missing.push(sel); continue; }
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    out.text[name] = { ratio: ratio(fg, bg), color: hex(parse(getComputedStyle(el).color)), background: hex(bg), text: (el.textContent ?? '').trim().slice(0, 30) };
  }
  for (const [name, { sel, prop }] of Object.entries(graphicProbes)) {
    const el = document.querySelector(sel);
    if (!el) { out.missing.push(sel); continue; }
    const raw = parse(getComputedStyle(el)[prop]);
    // An SVG shape sits on the <svg> element's background.
    const bg = background(el.ownerSVGElement ?? el.parentElement);
    const fg = over(raw, bg);
    out.graphic[name] = { ratio: ratio(fg, bg), alpha: raw.a, color: hex(raw), background: hex(bg) };
  }
  for (const [name, sel] of Object.entries(controls)) {
    const el = document.querySelector(sel);
    if (!el) { out.missing.push(sel); continue; }
    const cs = getComputedStyle(el);
    const bg = background(el.parentElement);
    const bc = parse(cs.borderTopColor);
    const border = cs.borderTopStyle !== 'none' && parseFloat(cs.borderTopWidth) >= 1 && bc.a > 0
      ? ratio(over(bc, bg), bg) : 0;
    el.focus();
    const fs = getComputedStyle(el);
    const oc = parse(fs.outlineColor);
    const outline = document.activeElement === el && fs.outlineStyle !== 'none' && parseFloat(fs.outlineWidth) >= 1 && oc.a > 0
      ? ratio(over(oc, bg), bg) : 0;
    const focusVisible = el.matches(':focus-visible');
    el.blur();
    out.controls[name] = { border, borderColor: hex(bc), focusOutline: outline, outlineColor: hex(oc), background: hex(bg), focusVisible };
  }
  const editorBg = background(document.body);
  for (const v of palette) {
    const raw = rootStyle.getPropertyValue(v).trim();
    const c = parse(getComputedStyle(document.body).getPropertyValue(v).trim()) ?? (raw ? parse(raw) : null);
    out.palette[v] = raw ? { value: raw, ratio: c ? ratio(over(c, editorBg), editorBg) : null } : null;
  }
  for (const p of probes) p.remove();
  out.contrastBorder = rootStyle.getPropertyValue('--vscode-contrastBorder').trim();
  return out;
}

/** Runs against a loaded workbench (the harness already navigated and waited for it). */
export async function run({ page, screenshot, wb, env }) {
  const port = Number(env.E2E_CODEX_PORT);
  await wb.statusBarItem(page, 'Codex: auto').waitFor({ timeout: 30000 });
  const r = await fetch(`http://127.0.0.1:${port}/v1/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json', session_id: 'theme-session' }, body: REQ,
  });
  assert.equal(r.status, 200);
  await r.arrayBuffer();

  await wb.openViewContainer(page, 'Codex Helper');
  await page.locator('.pane-body .monaco-list-row[role="treeitem"]', { hasText: 'Main' }).first().waitFor({ timeout: 20000 });
  await runCommandExact(page, 'Codex Helper: Show Recent Requests');
  await wb.webview(page, '#requests tbody tr.request-row.status-2xx').first().waitFor({ timeout: 30000 });
  await wb.webview(page, '#chart rect.bar-requests').first().waitFor({ state: 'attached', timeout: 15000 });

  const probes = {
    textProbes: {
      header: '#requests thead th:nth-child(2)',
      time: '#requests tbody tr.request-row td.col-time',
      service: '#requests tbody tr.request-row td.col-service',
      model: '#requests tbody tr.request-row td.col-model .main',
      upstreamSub: '#requests tbody tr.request-row td.col-config .sub',
      status: '#requests tbody tr.request-row.status-2xx td.col-status',
      tokens: '#requests tbody tr.request-row td.col-tokens .main',
      totalValue: '#totals .stat .stat-value',
      totalLabel: '#totals .stat .stat-label',
      totalDetail: '#totals .stat-detail',
      legend: '#chart-legend .legend-item',
      status4xx: '#requests tbody tr.status-4xx td.col-status',
      status5xx: '#requests tbody tr.status-5xx td.col-status',
      statusError: '#requests tbody tr.status-error td.col-status',
      retried: '#requests tbody tr.theme-probe td.col-tries.is-retried',
      banner: '#requests tbody tr.banner-row td',
      totalErrors: '#totals .stat.is-error .stat-value',
      totalActive: '#totals .stat.is-active .stat-value',
      detailLabel: '#requests tbody tr.detail-row dt',
      detailValue: '#requests tbody tr.detail-row dd',
      detailLink: '#requests tbody tr.detail-row button.link',
      toolbarLabel: '.toolbar label',
      select: '#filter-service',
      refresh: '#refresh',
    },
    graphicProbes: {
      barRequests: { sel: '#chart rect.bar-requests', prop: 'fill' },
      tokenLine: { sel: '#chart polyline.line-tokens', prop: 'stroke' },
      tokenSwatch: { sel: '#chart-legend .swatch-tokens', prop: 'backgroundColor' },
    },
    controls: {
      select: '#filter-service',
      refresh: '#refresh',
      rowToggle: '#requests tbody tr.request-row button.toggle',
      detailLink: '#requests tbody tr.detail-row button.link',
    },
    // Reported only: which theme colors would work as text or chart colors here.
    palette: ['--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-red',
      '--vscode-charts-blue', '--vscode-charts-purple', '--vscode-testing-iconPassed', '--vscode-testing-iconFailed',
      '--vscode-editorWarning-foreground', '--vscode-errorForeground', '--vscode-gitDecoration-addedResourceForeground',
      '--vscode-gitDecoration-modifiedResourceForeground', '--vscode-gitDecoration-deletedResourceForeground',
      '--vscode-list-warningForeground', '--vscode-list-errorForeground', '--vscode-textLink-foreground',
      '--vscode-debugTokenExpression-number', '--vscode-minimap-findMatchHighlight'],
  };

  // One expanded row, so the detail block (labels, values, link buttons) is in every screenshot and measurement.
  await wb.webview(page, '#requests tbody tr.request-row button.toggle').first().click();
  await wb.webview(page, '#requests tbody tr.detail-row button.link').first().waitFor({ timeout: 10000 });

  const results = {};
  const failures = [];
  let shotDir;
  for (const t of THEMES) {
    await setTheme(page, wb, t);
    const m = await wb.webview(page, 'body').evaluate(measureInPage, probes);
    const tree = await treeLabelContrast(page);
    results[t.shot] = { theme: t.id, ...m, treeLabel: tree };
    const path = await screenshot(`theme-${t.shot}`);
    shotDir = dirname(path);
    const line = Object.entries(m.text).map(([k, v]) => `${k} ${v.ratio}`).join(', ');
    const graphics = Object.entries(m.graphic).map(([k, v]) => `${k} ${v.ratio}`).join(', ');
    console.log(`[themes] ${t.shot} (${t.id}) text: ${line}; graphics: ${graphics}` +
      `; controls ${Object.entries(m.controls).map(([k, v]) => `${k} border ${v.border}/focus ${v.focusOutline}`).join(', ')}; tree ${tree}`);

    if (m.missing.length) failures.push(`${t.shot}: elements missing: ${m.missing.join(', ')}`);
    for (const [k, v] of Object.entries(m.text)) {
      if (!(v.ratio >= TEXT_MIN)) failures.push(`${t.shot}: ${k} contrast ${v.ratio} < ${TEXT_MIN} (${v.color} on ${v.background})`);
    }
    for (const [k, g] of Object.entries(m.graphic)) {
      if (!(g.alpha > 0) || !(g.ratio >= GRAPHIC_MIN)) failures.push(`${t.shot}: ${k} ${g.color} on ${g.background} = ${g.ratio} < ${GRAPHIC_MIN}`);
    }
    for (const [k, v] of Object.entries(m.controls)) {
      // Every control shows a focus ring in every theme.
      if (!(v.focusOutline >= GRAPHIC_MIN)) failures.push(`${t.shot}: ${k} focus outline ${v.outlineColor} = ${v.focusOutline} < ${GRAPHIC_MIN}`);
      // In high contrast the boxed controls are outlined with contrastBorder even without focus; the row toggle and
      // the detail links are icon/link buttons (borderless like VS Code's own), so they only need the focus ring.
      if (t.hc && (k === 'select' || k === 'refresh') && !(v.border >= GRAPHIC_MIN)) {
        failures.push(`${t.shot}: ${k} border ${v.borderColor} = ${v.border} < ${GRAPHIC_MIN} (contrastBorder ${m.contrastBorder})`);
      }
    }
  }
  if (shotDir) writeFileSync(join(shotDir, 'theme-contrast.json'), JSON.stringify(results, null, 2));
  assert.deepEqual(failures, [], failures.join('\n'));
}

/** Contrast of the first tree label in the side bar (VS Code's own styling; reported, not asserted). */
async function treeLabelContrast(page) {
  return page.locator('.pane-body .monaco-list-row[role="treeitem"] .label-name').first().evaluate((el) => {
    const parse = (s) => {
      const m = /^rgba?\(([^)]*)\)$/.exec(s);
      if (!m) return null;
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p[3] ?? 1 };
    };
    let bg = null;
    for (let e = el; e && !bg; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a >= 1) bg = c;
    }
    const fg = parse(getComputedStyle(el).color);
    if (!bg || !fg) return null;
    const blend = (k) => fg[k] * fg.a + bg[k] * (1 - fg.a);
    const lum = (c) => {
      const ch = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
    };
    const [hi, lo] = [lum({ r: blend('r'), g: blend('g'), b: blend('b') }), lum(bg)].sort((x, y) => y - x);
    return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  });
}
