// The page shell of the recent-requests webview. Kept free of `vscode` so its CSP can be checked in plain node.
import { randomBytes } from 'node:crypto';

export interface RequestsHtmlParts {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Webview URIs (as strings) of media/requests.js and media/requests.css. */
  scriptUri: string;
  styleUri: string;
  /** Defaults to a fresh random nonce; tests pass one in. */
  nonce?: string;
}

/** A fresh nonce for one render (16 random bytes, base64). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The HTML of the page, with a strict CSP: only our nonce'd script and stylesheets from `media/`. */
export function renderRequestsHtml(p: RequestsHtmlParts): string {
  const nonce = p.nonce ?? makeNonce();
  const src = p.cspSource;
  const csp =
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${src}; ` +
    `img-src ${src} data:; font-src ${src};`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>Codex Helper: Recent Requests</title>
</head>
<body>
<header class="toolbar">
  <label>Service
    <select id="filter-service" aria-label="Service filter">
      <option value="all">All</option>
      <option value="codex">Codex</option>
      <option value="claude">Claude</option>
    </select>
  </label>
  <label>Status
    <select id="filter-status" aria-label="Status filter">
      <option value="all">All</option>
      <option value="2xx">2xx</option>
      <option value="4xx">4xx</option>
      <option value="5xx">5xx</option>
      <option value="error">Errors</option>
    </select>
  </label>
  <label>Session
    <select id="filter-session" aria-label="Session filter">
      <option value="">All sessions</option>
    </select>
  </label>
  <label class="filter-text">Filter
    <input id="filter-text" type="search" placeholder="model, config, session, status…" aria-label="Free-text filter" maxlength="200" spellcheck="false">
  </label>
  <button id="refresh" type="button" title="Refresh now">&#x21bb; Refresh</button>
  <span class="toolbar-actions">
    <button id="export-csv" type="button" title="Save the rows shown as CSV">Export CSV</button>
    <button id="export-json" type="button" title="Save the rows shown as JSON">Export JSON</button>
    <button id="clear-recent" type="button" title="Empty the recent-requests list (asks first)">Clear…</button>
    <button id="open-stats" type="button" title="Usage, cost and latency over 1 h to 30 days">Stats</button>
  </span>
</header>
<section id="totals" aria-live="polite"></section>
<section id="chart-box">
  <svg id="chart" role="img" aria-label="Requests and tokens per minute over the last hour"></svg>
  <div id="chart-legend"></div>
</section>
<table id="requests">
  <thead>
    <tr>
      <th class="col-toggle" aria-label="Details"></th>
      <th>Time</th><th>Service</th><th>Session / cwd</th><th>Model</th><th>Config / upstream</th>
      <th class="num">Status</th><th class="num">Duration</th><th class="num">TTFB</th>
      <th class="num" title="input / output / reasoning / cached">Tokens</th><th class="num">Tries</th>
    </tr>
  </thead>
  <tbody></tbody>
</table>
<div id="empty" hidden>No requests yet.</div>
<p id="hidden-rows" hidden></p>
<script nonce="${attr(nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>`;
}
