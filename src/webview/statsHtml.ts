// The page shell of the Stats webview. Kept free of `vscode` so its CSP can be checked in plain node.
import { t } from '../host/l10n';
import { attr, makeNonce, pageHead, pageScripts } from './requestsHtml';
import type { RequestsHtmlParts } from './requestsHtml';

/** The HTML of the Stats page, with the same strict CSP as Recent Requests. */
export function renderStatsHtml(p: RequestsHtmlParts): string {
  const nonce = p.nonce ?? makeNonce();
  return pageHead(p, nonce, t('Codex Helper: Stats')) + `
<header class="toolbar">
  <label>${attr(t('Service'))}
    <select id="service" aria-label="${attr(t('Service'))}">
      <option value="all">${attr(t('All'))}</option>
      <option value="codex">Codex</option>
      <option value="claude">Claude</option>
    </select>
  </label>
  <span class="ranges" role="group" aria-label="${attr(t('Range'))}">
    <button type="button" class="range" data-range="1h">${attr(t('{0} h', 1))}</button>
    <button type="button" class="range" data-range="24h">${attr(t('{0} h', 24))}</button>
    <button type="button" class="range" data-range="7d">${attr(t('{0} d', 7))}</button>
    <button type="button" class="range" data-range="30d">${attr(t('{0} d', 30))}</button>
  </span>
  <button id="refresh" type="button" title="${attr(t('Refresh now'))}">&#x21bb; ${attr(t('Refresh'))}</button>
  <span class="toolbar-actions">
    <button id="open-requests" type="button">${attr(t('Recent Requests'))}</button>
  </span>
</header>
<div id="banners"></div>
<section id="kpis" aria-label="${attr(t('Totals'))}"></section>
<section id="period" aria-live="polite">
  <h2 id="period-title">${attr(t('Last 24 hours'))}</h2>
  <div id="period-stats"></div>
  <div id="chart-box">
    <svg id="chart" role="img" aria-label="${attr(t('Requests, errors and cost over the selected range'))}"></svg>
    <div id="chart-legend"></div>
  </div>
  <div id="errors"></div>
</section>
<section>
  <h2>${attr(t('Per model'))}</h2>
  <table id="by-model" class="groups"><thead></thead><tbody></tbody></table>
</section>
<section>
  <h2>${attr(t('Per config'))}</h2>
  <table id="by-config" class="groups"><thead></thead><tbody></tbody></table>
</section>
<section>
  <h2>${attr(t('Per provider'))}</h2>
  <table id="by-provider" class="groups"><thead></thead><tbody></tbody></table>
</section>
<section>
  <h2>${attr(t('Sessions'))}</h2>
  <table id="sessions" class="groups"><thead></thead><tbody></tbody></table>
</section>
<p id="pricing-note"></p>
` + pageScripts(p, nonce);
}
