// The page shell of the Stats webview. Kept free of `vscode` so its CSP can be checked in plain node.
import { makeNonce } from './requestsHtml';
import type { RequestsHtmlParts } from './requestsHtml';

function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The HTML of the Stats page, with the same strict CSP as Recent Requests. */
export function renderStatsHtml(p: RequestsHtmlParts): string {
  const nonce = p.nonce ?? makeNonce();
  const src = p.cspSource;
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${src}; img-src ${src} data:; font-src ${src};`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>Codex Helper: Stats</title>
</head>
<body>
<header class="toolbar">
  <label>Service
    <select id="service" aria-label="Service">
      <option value="all">All</option>
      <option value="codex">Codex</option>
      <option value="claude">Claude</option>
    </select>
  </label>
  <span class="ranges" role="group" aria-label="Range">
    <button type="button" class="range" data-range="1h">1 h</button>
    <button type="button" class="range" data-range="24h">24 h</button>
    <button type="button" class="range" data-range="7d">7 d</button>
    <button type="button" class="range" data-range="30d">30 d</button>
  </span>
  <button id="refresh" type="button" title="Refresh now">&#x21bb; Refresh</button>
  <span class="toolbar-actions">
    <button id="open-requests" type="button">Recent Requests</button>
  </span>
</header>
<div id="banners"></div>
<section id="kpis" aria-label="Totals"></section>
<section id="period" aria-live="polite">
  <h2 id="period-title">Last 24 hours</h2>
  <div id="period-stats"></div>
  <div id="chart-box">
    <svg id="chart" role="img" aria-label="Requests, errors and cost over the selected range"></svg>
    <div id="chart-legend"></div>
  </div>
  <div id="errors"></div>
</section>
<section>
  <h2>Per model</h2>
  <table id="by-model" class="groups"><thead></thead><tbody></tbody></table>
</section>
<section>
  <h2>Per config</h2>
  <table id="by-config" class="groups"><thead></thead><tbody></tbody></table>
</section>
<section>
  <h2>Per provider</h2>
  <table id="by-provider" class="groups"><thead></thead><tbody></tbody></table>
</section>
<section>
  <h2>Sessions</h2>
  <table id="sessions" class="groups"><thead></thead><tbody></tbody></table>
</section>
<p id="pricing-note"></p>
<script nonce="${attr(nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>`;
}
