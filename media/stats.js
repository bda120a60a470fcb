// Stats page. Plain script under a strict CSP: every node is built with createElement/textContent (model and config
// names are untrusted). Messages follow the Stats part of src/webview/protocol.ts.
(function () {
  'use strict';
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  // media/common.js, loaded first.
  const { setTexts, texts, L, el, svg, legendItem, fmtCost } = window.codexHelperPage;
  const CHART_W = 600;
  const CHART_H = 140;
  const RANGES = ['1h', '24h', '7d', '30d'];
  const SERVICE_NAMES = { codex: 'Codex', claude: 'Claude Code' };

  function table(key) {
    const v = texts()[key];
    return v && typeof v === 'object' ? v : {};
  }

  const $ = (id) => document.getElementById(id);
  const els = {
    service: $('service'),
    ranges: Array.from(document.querySelectorAll('button.range')),
    refresh: $('refresh'),
    openRequests: $('open-requests'),
    banners: $('banners'),
    kpis: $('kpis'),
    periodTitle: $('period-title'),
    periodStats: $('period-stats'),
    chart: $('chart'),
    legend: $('chart-legend'),
    errors: $('errors'),
    byModel: $('by-model'),
    byConfig: $('by-config'),
    byProvider: $('by-provider'),
    sessions: $('sessions'),
    pricingNote: $('pricing-note'),
  };

  const saved = vscode.getState() || {};
  let state = isState(saved.state) ? saved.state : { range: '24h', service: 'all' };

  function isState(s) {
    return s && RANGES.indexOf(s.range) >= 0 && ['all', 'codex', 'claude'].indexOf(s.service) >= 0;
  }

  // ---------- formatting ----------
  const nf = new Intl.NumberFormat();
  const fmtInt = (n) => nf.format(Math.round(n));
  function fmtCompact(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(1) + 'B';
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
    if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + 'k';
    return String(Math.round(n));
  }
  function fmtMs(ms) {
    if (ms === undefined || ms === null) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }
  function fmtPct(r) {
    return (r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1) + '%';
  }
  function fmtCosts(costs) {
    const keys = Object.keys(costs || {});
    if (keys.length === 0) return '—';
    return keys.sort((a, b) => costs[b] - costs[a]).map((c) => fmtCost(costs[c], c)).join(' + ');
  }
  function mainCurrency(costs) {
    let best;
    for (const c in costs || {}) if (best === undefined || costs[c] > costs[best]) best = c;
    return best;
  }
  function fmtWhen(ms, bucketMs) {
    const d = new Date(ms);
    if (bucketMs >= 86400000) return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
    if (bucketMs >= 3600000) return d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  // ---------- controls ----------
  function saveState() {
    vscode.setState({ state });
  }

  function applyState() {
    els.service.value = state.service;
    for (const b of els.ranges) {
      const on = b.dataset.range === state.range;
      b.classList.toggle('is-selected', on);
      b.setAttribute('aria-pressed', String(on));
    }
    const title = table('rangeTitle')[state.range];
    if (title) els.periodTitle.textContent = title;
  }

  function setState(next) {
    state = next;
    applyState();
    saveState();
    vscode.postMessage({ type: 'setState', state });
  }

  els.service.addEventListener('change', () => setState({ range: state.range, service: els.service.value }));
  for (const b of els.ranges) b.addEventListener('click', () => setState({ range: b.dataset.range, service: state.service }));
  els.refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  els.openRequests.addEventListener('click', () => vscode.postMessage({ type: 'openRequests' }));

  // ---------- rendering ----------
  function kpi(title, t, estimate) {
    const card = el('div', 'kpi');
    card.appendChild(el('div', 'kpi-title', title));
    const grid = el('dl', 'kpi-grid');
    const line = (label, value, cls) => {
      grid.appendChild(el('dt', '', label));
      grid.appendChild(el('dd', cls || '', value));
    };
    line(L('requests'), fmtInt(t.requests));
    line(L('tokens'), fmtCompact(t.tokens.total));
    line(estimate ? L('costEstimate') : L('cost'), fmtCosts(t.cost), 'kpi-cost');
    line(L('errors'), t.requests ? fmtPct(t.error_rate) : '—', t.errors > 0 ? 'is-error' : '');
    card.appendChild(grid);
    card.title = L('tokenBreakdown', fmtInt(t.tokens.input), fmtInt(t.tokens.output), fmtInt(t.tokens.reasoning), fmtInt(t.tokens.cached)) +
      (t.unpriced ? '\n' + L('unpricedTitle', fmtInt(t.unpriced)) : '');
    return card;
  }

  function renderKpis(r, priced) {
    const frag = document.createDocumentFragment();
    frag.appendChild(kpi(L('today'), r.today, priced));
    frag.appendChild(kpi(L('days7'), r.last_7d, priced));
    frag.appendChild(kpi(L('days30'), r.last_30d, priced));
    els.kpis.replaceChildren(frag);
  }

  function metric(label, value, title) {
    const s = el('span', 'metric');
    s.appendChild(el('span', 'metric-value', value));
    s.appendChild(el('span', 'metric-label', label));
    if (title) s.title = title;
    return s;
  }

  function renderPeriod(t) {
    const frag = document.createDocumentFragment();
    frag.appendChild(metric(L('requests'), fmtInt(t.requests)));
    frag.appendChild(metric(L('errorRate'), t.requests ? fmtPct(t.error_rate) : '—'));
    frag.appendChild(metric(L('latency'), fmtMs(t.p50_ms) + ' / ' + fmtMs(t.p95_ms), L('latencyTitle')));
    frag.appendChild(metric(L('ttfb'), fmtMs(t.ttfb_p50_ms) + ' / ' + fmtMs(t.ttfb_p95_ms), L('ttfbTitle')));
    frag.appendChild(metric(L('outputTps'), t.output_tps !== undefined ? t.output_tps.toFixed(1) : '—', L('outputTpsTitle')));
    frag.appendChild(metric(L('tokensInOut'), fmtCompact(t.tokens.input) + ' / ' + fmtCompact(t.tokens.output)));
    frag.appendChild(metric(L('costEstimate'), fmtCosts(t.cost)));
    els.periodStats.replaceChildren(frag);

    const classes = Object.keys(t.errors_by_class).sort((a, b) => t.errors_by_class[b] - t.errors_by_class[a]);
    const box = document.createDocumentFragment();
    if (classes.length) {
      box.appendChild(el('span', 'errors-title', L('errorsByClass')));
      for (const c of classes) {
        const n = t.errors_by_class[c];
        const chip = el('span', 'chip', (table('classLabel')[c] || c) + ' ' + fmtInt(n) + ' (' + fmtPct(n / t.requests) + ')');
        chip.title = c;
        box.appendChild(chip);
      }
    }
    els.errors.replaceChildren(box);
  }

  function renderChart(chart) {
    const buckets = chart.buckets;
    const n = buckets.length;
    els.chart.setAttribute('viewBox', '0 0 ' + CHART_W + ' ' + CHART_H);
    els.chart.setAttribute('preserveAspectRatio', 'none');
    const frag = document.createDocumentFragment();
    frag.appendChild(svg('line', { class: 'axis', x1: 0, y1: CHART_H - 0.5, x2: CHART_W, y2: CHART_H - 0.5 }));
    let maxReq = 0;
    const totalCost = {};
    for (const b of buckets) {
      if (b.requests > maxReq) maxReq = b.requests;
      for (const c in b.cost) totalCost[c] = (totalCost[c] || 0) + b.cost[c];
    }
    const cur = mainCurrency(totalCost);
    let maxCost = 0;
    if (cur) for (const b of buckets) if ((b.cost[cur] || 0) > maxCost) maxCost = b.cost[cur] || 0;
    const w = n ? CHART_W / n : CHART_W;
    const plot = CHART_H - 6;
    const points = [];
    buckets.forEach((b, i) => {
      const x = i * w;
      if (b.requests > 0) {
        const h = (b.requests / maxReq) * plot;
        frag.appendChild(svg('rect', { class: 'bar-requests', x: x + 0.5, y: CHART_H - h, width: Math.max(1, w - 1), height: h }));
        if (b.errors > 0) {
          const eh = (b.errors / maxReq) * plot;
          frag.appendChild(svg('rect', { class: 'bar-errors', x: x + 0.5, y: CHART_H - eh, width: Math.max(1, w - 1), height: eh }));
        }
      }
      if (cur) {
        const v = b.cost[cur] || 0;
        points.push((x + w / 2).toFixed(1) + ',' + (maxCost > 0 ? CHART_H - 1 - (v / maxCost) * plot : CHART_H - 1).toFixed(1));
      }
      const hit = svg('rect', { class: 'hit', x, y: 0, width: w, height: CHART_H });
      const title = svg('title', {});
      const when = fmtWhen(b.start_ms, chart.bucket_ms);
      title.textContent = (b.errors
        ? L('bucketTitleErrors', when, fmtInt(b.requests), fmtInt(b.errors), fmtInt(b.tokens))
        : L('bucketTitle', when, fmtInt(b.requests), fmtInt(b.tokens))) +
        (Object.keys(b.cost).length ? ', ' + fmtCosts(b.cost) : '');
      hit.appendChild(title);
      frag.appendChild(hit);
    });
    if (cur && maxCost > 0) frag.appendChild(svg('polyline', { class: 'line-cost', points: points.join(' ') }));
    els.chart.replaceChildren(frag);

    const legend = document.createDocumentFragment();
    const per = chart.bucket_ms >= 86400000 ? L('perDay')
      : chart.bucket_ms >= 3600000 ? L('perHours', Math.round(chart.bucket_ms / 3600000))
        : chart.bucket_ms >= 120000 ? L('perMinutes', Math.round(chart.bucket_ms / 60000)) : L('perMinute');
    legend.appendChild(legendItem('swatch-requests', L('legendRequests', fmtInt(maxReq), per)));
    legend.appendChild(legendItem('swatch-errors', L('errors')));
    if (cur && maxCost > 0) legend.appendChild(legendItem('swatch-cost', L('legendCost', cur, fmtCost(maxCost, cur), per)));
    if (n) legend.appendChild(el('span', 'legend-range', L('legendRange', fmtWhen(buckets[0].start_ms, chart.bucket_ms))));
    els.legend.replaceChildren(legend);
  }

  const GROUP_COL_COUNT = 9;

  function renderGroups(table, groups, viaLabel) {
    const head = el('tr');
    const cols = Array.isArray(texts().groupCols) ? texts().groupCols : [];
    cols.forEach((c, i) => head.appendChild(el('th', i > 0 ? 'num' : '', c)));
    head.appendChild(el('th', '', viaLabel));
    table.tHead.replaceChildren(head);
    const frag = document.createDocumentFragment();
    if (groups.length === 0) {
      const tr = el('tr', 'empty-row');
      const td = el('td', '', L('noRequestsInRange'));
      td.colSpan = GROUP_COL_COUNT + 1;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    for (const g of groups.slice(0, 50)) {
      const t = g.totals;
      const tr = el('tr', 'group-row');
      tr.appendChild(el('td', 'group-key', g.key === '-' ? L('unknown') : g.key));
      tr.appendChild(el('td', 'num', fmtInt(t.requests)));
      tr.appendChild(el('td', 'num' + (t.errors ? ' is-error' : ''), t.requests ? fmtPct(t.error_rate) : '—'));
      tr.appendChild(el('td', 'num', fmtCompact(t.tokens.input) + ' / ' + fmtCompact(t.tokens.output)));
      tr.appendChild(el('td', 'num', fmtCosts(t.cost)));
      tr.appendChild(el('td', 'num', fmtMs(t.p50_ms)));
      tr.appendChild(el('td', 'num', fmtMs(t.p95_ms)));
      tr.appendChild(el('td', 'num', fmtMs(t.ttfb_p50_ms)));
      tr.appendChild(el('td', 'num', t.output_tps !== undefined ? t.output_tps.toFixed(1) : '—'));
      tr.appendChild(el('td', 'via', g.via.join(', ')));
      frag.appendChild(tr);
    }
    table.tBodies[0].replaceChildren(frag);
  }

  function renderSessions(rows) {
    const head = el('tr');
    // Columns 2–4 (turns, tokens, cost) are numbers.
    const cols = Array.isArray(texts().sessionCols) ? texts().sessionCols : [];
    cols.forEach((c, i) => head.appendChild(el('th', i >= 2 && i <= 4 ? 'num' : '', c)));
    els.sessions.tHead.replaceChildren(head);
    const frag = document.createDocumentFragment();
    if (rows.length === 0) {
      const tr = el('tr', 'empty-row');
      const td = el('td', '', L('noSessions'));
      td.colSpan = 7;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    for (const s of rows) {
      const tr = el('tr', 'group-row');
      const id = el('td', 'group-key', s.id.length > 13 ? s.id.slice(0, 13) + '…' : s.id);
      id.title = s.id;
      tr.appendChild(id);
      tr.appendChild(el('td', '', s.service));
      tr.appendChild(el('td', 'num', fmtInt(s.turns)));
      tr.appendChild(el('td', 'num', fmtCompact(s.tokens)));
      tr.appendChild(el('td', 'num', fmtCosts(s.cost)));
      tr.appendChild(el('td', '', s.lastModel || '—'));
      const cwd = el('td', 'via', s.cwd ? s.cwd.split(/[\\/]/).filter(Boolean).pop() || s.cwd : '');
      if (s.cwd) cwd.title = s.cwd;
      tr.appendChild(cwd);
      frag.appendChild(tr);
    }
    els.sessions.tBodies[0].replaceChildren(frag);
  }

  function renderBanners(sources) {
    const frag = document.createDocumentFragment();
    if (sources.length === 0) frag.appendChild(el('div', 'banner', L('noProxy')));
    for (const s of sources) {
      if (!s.ok) frag.appendChild(el('div', 'banner', '⚠ ' + L('proxyBanner', SERVICE_NAMES[s.service] || s.service, s.message || L('unavailable'))));
    }
    els.banners.replaceChildren(frag);
  }

  function renderPricing(p, period) {
    const frag = document.createDocumentFragment();
    if (p.rules === 0) {
      frag.appendChild(document.createTextNode(L('noPrices') + ' '));
      const b = el('button', 'link', L('openConfig'));
      b.type = 'button';
      b.addEventListener('click', () => vscode.postMessage({ type: 'openConfig' }));
      frag.appendChild(b);
    } else {
      frag.appendChild(document.createTextNode(L('pricesFrom', p.rules, p.notes.join('; '))));
      if (period.unpriced > 0) frag.appendChild(document.createTextNode(' ' + L('unpricedInRange', fmtInt(period.unpriced))));
    }
    els.pricingNote.replaceChildren(frag);
  }

  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'init') {
      setTexts(msg.strings);
      if (isState(msg.state)) state = msg.state;
      applyState();
      saveState();
    } else if (msg.type === 'stats') {
      const r = msg.report;
      renderBanners(msg.sources);
      renderKpis(r, msg.pricing.rules > 0);
      renderPeriod(r.period);
      renderChart(r.chart);
      renderGroups(els.byModel, r.by_model, L('viaConfigs'));
      renderGroups(els.byConfig, r.by_config, L('viaProviders'));
      renderGroups(els.byProvider, r.by_provider, L('viaConfigs'));
      renderSessions(Array.isArray(msg.sessions) ? msg.sessions : []);
      renderPricing(msg.pricing, r.period);
      document.body.dataset.range = r.range;
      document.body.dataset.requests = String(r.period.requests);
    }
  });

  applyState();
  vscode.postMessage({ type: 'ready', state });
})();
