// What the Recent Requests and Stats pages share, loaded before each page's own script: the texts the host sends in
// `init`, the node builders (every node is built with createElement/textContent, never from HTML strings, since
// model names and upstream error text are untrusted) and cost formatting. Plain script under the same strict CSP.
(function () {
  'use strict';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // Texts come from the host in the `init` message, translated (src/webview/pageStrings.ts).
  let S = {};

  function setTexts(strings) {
    if (strings && typeof strings === 'object') S = strings;
  }

  function texts() {
    return S;
  }

  /** A text by name with its `{0}`… filled in; the name itself if the host did not send it. */
  function L(key) {
    const args = Array.prototype.slice.call(arguments, 1);
    const text = typeof S[key] === 'string' ? S[key] : key;
    return text.replace(/\{(\d+)\}/g, (m, i) => (args[Number(i)] === undefined ? m : String(args[Number(i)])));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }

  /** One entry of a chart legend: its colour swatch and its text. */
  function legendItem(cls, text) {
    const s = el('span', 'legend-item');
    s.appendChild(el('span', 'swatch ' + cls));
    s.appendChild(document.createTextNode(text));
    return s;
  }

  function fmtCost(amount, currency) {
    const abs = Math.abs(amount);
    const digits = abs === 0 || abs >= 1 ? 2 : Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(abs))));
    const n = amount.toFixed(digits);
    const sym = currency === 'USD' ? '$' : currency === 'EUR' ? '€' : currency === 'GBP' ? '£' : '';
    return sym ? sym + n : n + ' ' + currency;
  }

  window.codexHelperPage = Object.freeze({ setTexts, texts, L, el, svg, legendItem, fmtCost });
})();
