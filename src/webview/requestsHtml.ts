// The page shell of the recent-requests webview. Kept free of `vscode` so its CSP can be checked in plain node.
import { randomBytes } from 'node:crypto';
import { t } from '../host/l10n';

export interface RequestsHtmlParts {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Webview URIs (as strings) of the page's own script and stylesheet (media/requests.js and media/requests.css). */
  scriptUri: string;
  styleUri: string;
  /** Webview URIs of media/common.js and media/common.css, what every page shares; loaded before the page's own. */
  commonScriptUri: string;
  commonStyleUri: string;
  /** Defaults to a fresh random nonce; tests pass one in. */
  nonce?: string;
  /** VS Code's display language (`vscode.env.language`), for the page's `lang`. */
  lang?: string;
}

/** A fresh nonce for one render (16 random bytes, base64). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Escapes text for an attribute value or element content. */
export function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<!DOCTYPE html>` up to `<body>`: the strict CSP (only the nonce'd scripts and `media/` styles), the page's
 * language and stylesheets (the shared one first, so the page's own may refine it), and `title`. Shared by every
 * webview page. */
export function pageHead(p: RequestsHtmlParts, nonce: string, title: string): string {
  const src = p.cspSource;
  const csp = // l10n-ignore: the CSP is not shown
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${src}; ` + // l10n-ignore
    `img-src ${src} data:; font-src ${src};`;
  return `<!DOCTYPE html>
<html lang="${attr(p.lang ?? 'en')}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.commonStyleUri)}">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>${attr(title)}</title>
</head>
<body>`;
}

/** The page's scripts, the shared one first, each with the render's nonce; then the end of the document. */
export function pageScripts(p: RequestsHtmlParts, nonce: string): string {
  return `<script nonce="${attr(nonce)}" src="${attr(p.commonScriptUri)}"></script>
<script nonce="${attr(nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>`;
}

/** The HTML of the page, with a strict CSP: only our nonce'd script and stylesheets from `media/`. */
export function renderRequestsHtml(p: RequestsHtmlParts): string {
  const nonce = p.nonce ?? makeNonce();
  const h = (text: string) => attr(text);
  return pageHead(p, nonce, t('Codex Helper: Recent Requests')) + `
<header class="toolbar">
  <label>${h(t('Service'))}
    <select id="filter-service" aria-label="${h(t('Service filter'))}">
      <option value="all">${h(t('All'))}</option>
      <option value="codex">Codex</option>
      <option value="claude">Claude</option>
    </select>
  </label>
  <label>${h(t('Status'))}
    <select id="filter-status" aria-label="${h(t('Status filter'))}">
      <option value="all">${h(t('All'))}</option>
      <option value="2xx">2xx</option>
      <option value="4xx">4xx</option>
      <option value="5xx">5xx</option>
      <option value="error">${h(t('Errors'))}</option>
    </select>
  </label>
  <label>${h(t('Session'))}
    <select id="filter-session" aria-label="${h(t('Session filter'))}">
      <option value="">${h(t('All sessions'))}</option>
    </select>
  </label>
  <label class="filter-text">${h(t('Filter'))}
    <input id="filter-text" type="search" placeholder="${h(t('model, config, session, status…'))}" aria-label="${h(t('Free-text filter'))}" maxlength="200" spellcheck="false">
  </label>
  <button id="refresh" type="button" title="${h(t('Refresh now'))}">&#x21bb; ${h(t('Refresh'))}</button>
  <span class="toolbar-actions">
    <button id="export-csv" type="button" title="${h(t('Save the rows shown as CSV'))}">${h(t('Export CSV'))}</button>
    <button id="export-json" type="button" title="${h(t('Save the rows shown as JSON'))}">${h(t('Export JSON'))}</button>
    <button id="clear-recent" type="button" title="${h(t('Empty the recent-requests list (asks first)'))}">${h(t('Clear…'))}</button>
    <button id="open-stats" type="button" title="${h(t('Usage, cost and latency over 1 h to 30 days'))}">${h(t('Stats'))}</button>
  </span>
</header>
<section id="totals" aria-live="polite"></section>
<section id="chart-box">
  <svg id="chart" role="img" aria-label="${h(t('Requests and tokens per minute over the last hour'))}"></svg>
  <div id="chart-legend"></div>
</section>
<table id="requests">
  <thead>
    <tr>
      <th class="col-toggle" aria-label="${h(t('Details'))}"></th>
      <th>${h(t('Time'))}</th><th>${h(t('Service'))}</th><th>${h(t('Session / cwd'))}</th><th>${h(t('Model'))}</th><th>${h(t('Config / upstream'))}</th>
      <th class="num">${h(t('Status'))}</th><th class="num">${h(t('Duration'))}</th><th class="num">TTFB</th>
      <th class="num" title="${h(t('input / output / reasoning / cached'))}">${h(t('Tokens'))}</th><th class="num">${h(t('Tries'))}</th>
    </tr>
  </thead>
  <tbody></tbody>
</table>
<div id="empty" hidden>${h(t('No requests yet.'))}</div>
<p id="hidden-rows" hidden></p>
` + pageScripts(p, nonce);
}
