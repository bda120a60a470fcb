// Recent-requests page. Plain script under a strict CSP: no framework, no inline styles, no HTML strings with data
// (model names and upstream error text are untrusted), so every node is built with createElement/textContent.
// Messages follow src/webview/protocol.ts.
(function () {
  'use strict';
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  // media/common.js, loaded first.
  const { setTexts, texts, L, el, svg, legendItem, fmtCost } = window.codexHelperPage;
  const CHART_W = 600;
  const CHART_H = 120;
  const MAX_EXPANDED = 50;
  const COLUMNS = 11;
  const SERVICE_NAMES = { codex: 'Codex', claude: 'Claude Code' };

  const $ = (id) => document.getElementById(id);
  const els = {
    service: $('filter-service'),
    status: $('filter-status'),
    session: $('filter-session'),
    refresh: $('refresh'),
    text: $('filter-text'),
    exportCsv: $('export-csv'),
    exportJson: $('export-json'),
    clear: $('clear-recent'),
    stats: $('open-stats'),
    totals: $('totals'),
    chart: $('chart'),
    legend: $('chart-legend'),
    tbody: document.querySelector('#requests tbody'),
    empty: $('empty'),
    hidden: $('hidden-rows'),
  };

  const saved = vscode.getState() || {};
  let filters = isFilters(saved.filters) ? saved.filters : { service: 'all', status: 'all', session: '', text: '' };
  let textTimer = undefined;
  const expanded = new Set(Array.isArray(saved.expanded) ? saved.expanded.filter((k) => typeof k === 'string') : []);
  let sessionsSig = '';
  let clockOffset = 0;
  let elapsedTimer = undefined;
  let lastUpdate = undefined;

  function isFilters(f) {
    return f && typeof f.service === 'string' && typeof f.status === 'string' && typeof f.session === 'string';
  }

  function saveState() {
    vscode.setState({ filters, expanded: Array.from(expanded).slice(-MAX_EXPANDED) });
  }

  // ---------- formatting ----------
  const nf = new Intl.NumberFormat();
  function fmtInt(n) {
    return nf.format(n);
  }
  function fmtCompact(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
    if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + 'k';
    return String(n);
  }
  function fmtMs(ms) {
    if (ms === undefined || ms === null) return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    const s = Math.round(ms / 1000);
    return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  }
  function fmtCosts(costs) {
    return Object.keys(costs || {}).map((c) => fmtCost(costs[c], c)).join(' + ');
  }
  function fmtElapsed(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return s < 60 ? s + 's' : Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  }
  function fmtTime(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }
  function baseName(p) {
    const parts = String(p).split(/[\\/]/).filter(Boolean);
    return parts.length ? parts[parts.length - 1] : String(p);
  }

  // ---------- filters ----------
  function applyFiltersToControls() {
    els.service.value = filters.service;
    els.status.value = filters.status;
    ensureSessionOption(filters.session);
    els.session.value = filters.session;
    if (els.text.value !== (filters.text || '')) els.text.value = filters.text || '';
  }

  function ensureSessionOption(sid) {
    if (!sid) return;
    for (const o of els.session.options) if (o.value === sid) return;
    const o = el('option', '', sid.length > 16 ? sid.slice(0, 16) + '…' : sid);
    o.value = sid;
    o.title = sid;
    els.session.appendChild(o);
  }

  function onFilterChange() {
    filters = { service: els.service.value, status: els.status.value, session: els.session.value, text: els.text.value.slice(0, 200) };
    saveState();
    vscode.postMessage({ type: 'setFilter', filters });
  }

  els.service.addEventListener('change', onFilterChange);
  els.status.addEventListener('change', onFilterChange);
  els.session.addEventListener('change', onFilterChange);
  els.refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  // Typing refilters after a short pause, not on every key.
  els.text.addEventListener('input', () => {
    if (textTimer !== undefined) clearTimeout(textTimer);
    textTimer = setTimeout(() => {
      textTimer = undefined;
      onFilterChange();
    }, 200);
  });
  els.text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && els.text.value) {
      els.text.value = '';
      onFilterChange();
    }
  });
  els.exportCsv.addEventListener('click', () => vscode.postMessage({ type: 'export', format: 'csv' }));
  els.exportJson.addEventListener('click', () => vscode.postMessage({ type: 'export', format: 'json' }));
  els.clear.addEventListener('click', () => vscode.postMessage({ type: 'clearRecent' }));
  els.stats.addEventListener('click', () => vscode.postMessage({ type: 'openStats' }));

  function renderSessions(sessions) {
    const sig = sessions.join('\n');
    if (sig === sessionsSig) return;
    sessionsSig = sig;
    while (els.session.options.length > 1) els.session.remove(1);
    for (const sid of sessions) {
      const o = el('option', '', sid.length > 16 ? sid.slice(0, 16) + '…' : sid);
      o.value = sid;
      o.title = sid;
      els.session.appendChild(o);
    }
    ensureSessionOption(filters.session);
    els.session.value = filters.session;
  }

  // ---------- totals ----------
  function stat(label, value, cls) {
    const s = el('span', 'stat' + (cls ? ' ' + cls : ''));
    s.appendChild(el('span', 'stat-value', value));
    s.appendChild(el('span', 'stat-label', label));
    return s;
  }

  function renderTotals(t) {
    const frag = document.createDocumentFragment();
    frag.appendChild(stat(L('requests'), fmtInt(t.requests)));
    frag.appendChild(stat(L('active'), fmtInt(t.active), t.active > 0 ? 'is-active' : ''));
    frag.appendChild(stat(L('errors'), fmtInt(t.errors), t.errors > 0 ? 'is-error' : ''));
    const tok = stat(L('tokens'), fmtCompact(t.totalTokens));
    tok.title = L('tokenBreakdown', fmtInt(t.inputTokens), fmtInt(t.outputTokens), fmtInt(t.reasoningTokens), fmtInt(t.cachedTokens));
    frag.appendChild(tok);
    if (t.cost && Object.keys(t.cost).length) {
      const c = stat(L('costEstimate'), fmtCosts(t.cost));
      c.classList.add('stat-cost');
      c.title = L('costTitle');
      frag.appendChild(c);
    }
    frag.appendChild(
      el('span', 'stat-detail',
        L('tokenShort', fmtCompact(t.inputTokens), fmtCompact(t.outputTokens), fmtCompact(t.reasoningTokens), fmtCompact(t.cachedTokens))),
    );
    els.totals.replaceChildren(frag);
  }

  // ---------- chart ----------
  function renderChart(buckets, bucketMs) {
    const n = buckets.length;
    const chart = els.chart;
    chart.setAttribute('viewBox', '0 0 ' + CHART_W + ' ' + CHART_H);
    chart.setAttribute('preserveAspectRatio', 'none');
    const frag = document.createDocumentFragment();
    frag.appendChild(svg('line', { class: 'axis', x1: 0, y1: CHART_H - 0.5, x2: CHART_W, y2: CHART_H - 0.5 }));
    let maxReq = 0;
    let maxTok = 0;
    for (const b of buckets) {
      if (b.requests > maxReq) maxReq = b.requests;
      if (b.tokens > maxTok) maxTok = b.tokens;
    }
    if (n > 0) {
      const w = CHART_W / n;
      const plot = CHART_H - 4;
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
        const ty = maxTok > 0 ? CHART_H - 1 - (b.tokens / maxTok) * plot : CHART_H - 1;
        points.push((x + w / 2).toFixed(1) + ',' + ty.toFixed(1));
        const hit = svg('rect', { class: 'hit', x, y: 0, width: w, height: CHART_H });
        const title = svg('title', {});
        title.textContent = b.errors
          ? L('bucketErrors', fmtTime(b.startMs), b.requests, b.errors, fmtInt(b.tokens))
          : b.requests === 1 ? L('bucketOne', fmtTime(b.startMs), fmtInt(b.tokens)) : L('bucketMany', fmtTime(b.startMs), b.requests, fmtInt(b.tokens));
        hit.appendChild(title);
        frag.appendChild(hit);
      });
      if (maxTok > 0) frag.appendChild(svg('polyline', { class: 'line-tokens', points: points.join(' ') }));
    }
    chart.replaceChildren(frag);

    const legend = document.createDocumentFragment();
    const per = bucketMs === 60000 ? L('perMinute') : L('perSeconds', Math.round(bucketMs / 1000));
    legend.appendChild(legendItem('swatch-requests', L('legendRequests', maxReq, per)));
    legend.appendChild(legendItem('swatch-errors', L('errors')));
    legend.appendChild(legendItem('swatch-tokens', L('legendTokens', fmtCompact(maxTok), per)));
    if (n > 0) legend.appendChild(el('span', 'legend-range', L('legendRange', Math.round((n * bucketMs) / 60000))));
    els.legend.replaceChildren(legend);
  }

  // ---------- table ----------
  function cell(text, cls, title) {
    const td = el('td', cls, text);
    if (title) td.title = title;
    return td;
  }

  function twoLine(main, sub, cls, title) {
    const td = el('td', cls);
    td.appendChild(el('span', 'main', main || '—'));
    if (sub) td.appendChild(el('span', 'sub', sub));
    if (title) td.title = title;
    return td;
  }

  function toggle(row) {
    if (expanded.has(row.key)) expanded.delete(row.key);
    else expanded.add(row.key);
    saveState();
    if (lastUpdate) renderRows(lastUpdate);
  }

  function rowEl(row) {
    const tr = el('tr', 'request-row ' + (row.active ? 'is-active' : 'status-' + row.statusClass));
    tr.dataset.key = row.key;
    const open = expanded.has(row.key);
    const tdToggle = el('td', 'col-toggle');
    const btn = el('button', 'toggle', open ? '▾' : '▸');
    btn.type = 'button';
    btn.title = open ? L('hideDetails') : L('showDetails');
    btn.setAttribute('aria-expanded', String(open));
    btn.addEventListener('click', (ev) => {
      ev.stopPropagation();
      toggle(row);
    });
    tdToggle.appendChild(btn);
    tr.appendChild(tdToggle);

    if (row.active) {
      const td = el('td', 'col-time');
      td.appendChild(el('span', 'spinner', '⟳'));
      const e = el('span', 'elapsed', fmtElapsed(Date.now() - clockOffset - row.timeMs));
      e.dataset.start = String(row.timeMs);
      td.appendChild(e);
      td.title = L('started', new Date(row.timeMs).toLocaleString());
      tr.appendChild(td);
    } else {
      tr.appendChild(cell(fmtTime(row.timeMs), 'col-time', new Date(row.timeMs).toLocaleString()));
    }
    tr.appendChild(cell(row.service, 'col-service service-' + row.service));
    // The full id: prefixes of UUIDv7 session ids collide (they start with the creation time).
    const sessionTd = twoLine(row.cwd ? baseName(row.cwd) : (row.sessionId || ''), row.cwd ? row.sessionId || '' : '', 'col-session',
      [row.sessionId, row.cwd].filter(Boolean).join('\n'));
    tr.appendChild(sessionTd);
    const model = row.mappedModel ? (row.model || '?') + ' → ' + row.mappedModel : row.model;
    tr.appendChild(twoLine(model, row.effort ? L('effort', row.effort) : '', 'col-model'));
    tr.appendChild(twoLine(row.config, row.upstreamHost, 'col-config', row.provider ? L('provider', row.provider) : ''));
    if (row.active) {
      tr.appendChild(cell('…', 'num col-status', L('inFlight')));
      tr.appendChild(cell('', 'num'));
      tr.appendChild(cell('', 'num'));
      tr.appendChild(cell('', 'num'));
    } else {
      const st = cell(row.status ? String(row.status) : 'ERR', 'num col-status', row.errorClass || '');
      if (row.errorClass) st.appendChild(el('span', 'marker', ' ⚠'));
      tr.appendChild(st);
      tr.appendChild(cell(fmtMs(row.durationMs), 'num'));
      tr.appendChild(cell(fmtMs(row.ttfbMs), 'num'));
      if (row.tokens) {
        const t = row.tokens;
        const extra = [t.reasoning ? 'r ' + fmtCompact(t.reasoning) : '', t.cached ? 'c ' + fmtCompact(t.cached) : '']
          .filter(Boolean).join(' · ');
        const cost = row.cost ? fmtCost(row.cost.amount, row.cost.currency) : '';
        tr.appendChild(twoLine(fmtCompact(t.input) + ' / ' + fmtCompact(t.output), [extra, cost].filter(Boolean).join(' · '), 'num col-tokens',
          L('tokenBreakdownTotal', fmtInt(t.input), fmtInt(t.output), fmtInt(t.reasoning), fmtInt(t.cached), fmtInt(t.total)) +
          (cost ? '\n' + L('costEstimateValue', cost) : '')));
      } else {
        tr.appendChild(cell('', 'num col-tokens'));
      }
    }
    tr.appendChild(cell(String(row.attempts), 'num col-tries' + (row.attempts > 1 ? ' is-retried' : '')));
    tr.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('button')) return;
      toggle(row);
    });
    return tr;
  }

  function detailLine(dl, label, value) {
    if (!value) return;
    dl.appendChild(el('dt', '', label));
    dl.appendChild(el('dd', '', value));
  }

  function action(label, msg) {
    const b = el('button', 'link', label);
    b.type = 'button';
    b.addEventListener('click', () => vscode.postMessage(msg));
    return b;
  }

  function stateText(row, a) {
    const states = (lastUpdate && lastUpdate.upstreamStates) || {};
    const s = a.config !== undefined && a.upstreamIndex !== undefined ? states[row.service + '/' + a.config + '#' + a.upstreamIndex] : undefined;
    return s;
  }

  function attemptTable(row) {
    const table = el('table', 'attempts');
    const head = el('tr');
    const headers = Array.isArray(texts().attemptHeaders) ? texts().attemptHeaders : [];
    for (const h of headers) {
      const th = el('th', '', h);
      th.scope = 'col';
      head.appendChild(th);
    }
    const thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    const body = el('tbody');
    for (const a of row.attemptRows) {
      const tr = el('tr', 'attempt attempt-' + a.result);
      tr.appendChild(el('td', 'num', a.n));
      const where = el('td', 'attempt-where');
      where.appendChild(el('span', 'main', a.config || '—'));
      if (a.upstreamHost) where.appendChild(el('span', 'sub', a.upstreamHost));
      tr.appendChild(where);
      tr.appendChild(el('td', 'attempt-result', (a.result === 'ok' ? '✓ ' : a.result === 'skipped' ? '⤼ ' : '✕ ') + a.outcome));
      tr.appendChild(el('td', '', a.model || '—'));
      tr.appendChild(el('td', '', a.atMs !== undefined ? fmtTime(a.atMs) : '—'));
      tr.appendChild(el('td', 'num', a.durationMs !== undefined ? fmtMs(a.durationMs) : '—'));
      tr.appendChild(el('td', 'attempt-message', a.message || '—'));
      const wait = [a.retryAfter ? L('retryAfter', a.retryAfter) : '', a.cooldownSecs ? L('cooled', a.cooldownSecs) : ''].filter(Boolean).join(' · ');
      tr.appendChild(el('td', '', wait || '—'));
      const now = stateText(row, a);
      tr.appendChild(el('td', now ? 'state-' + now.kind : '', now ? now.text : '—'));
      body.appendChild(tr);
    }
    table.appendChild(body);
    return table;
  }

  function sessionLine(dl, row) {
    if (!row.sessionId) return;
    dl.appendChild(el('dt', '', L('session')));
    const dd = el('dd', 'session-id');
    dd.appendChild(el('code', '', row.sessionId));
    dd.appendChild(document.createTextNode(' '));
    dd.appendChild(action(L('copy'), { type: 'copy', key: row.key, what: 'sessionId' }));
    dl.appendChild(dd);
  }

  function detailEl(row) {
    const tr = el('tr', 'detail-row');
    const td = el('td');
    td.colSpan = COLUMNS;
    const dl = el('dl');
    detailLine(dl, L('request'), row.method + ' ' + row.path);
    sessionLine(dl, row);
    detailLine(dl, 'cwd', row.cwd);
    detailLine(dl, L('providerLabel'), row.provider);
    detailLine(dl, L('upstream'), row.upstreamHost);
    detailLine(dl, L('routing'), row.routeNote);
    if (row.cost) detailLine(dl, L('cost'), L('estimate', fmtCost(row.cost.amount, row.cost.currency)));
    if (row.errorClass || row.errorHint) {
      dl.appendChild(el('dt', 'is-error', L('error')));
      dl.appendChild(el('dd', 'is-error', [row.errorClass, row.errorHint].filter(Boolean).join(' — ')));
    }
    td.appendChild(dl);
    if (!row.active && row.triesNote) td.appendChild(el('div', 'chain-title', row.triesNote));
    if (row.attemptRows && row.attemptRows.length) td.appendChild(attemptTable(row));
    const actions = el('div', 'actions');
    if (row.chain.length) actions.appendChild(action(L('copyChain'), { type: 'copy', key: row.key, what: 'chain' }));
    actions.appendChild(action(L('openJson'), { type: 'requestDetails', key: row.key }));
    td.appendChild(actions);
    tr.appendChild(td);
    return tr;
  }

  function bannerEl(source) {
    const tr = el('tr', 'banner-row');
    const td = el('td', '', '⚠ ' + L('proxyBanner', SERVICE_NAMES[source.service] || source.service, source.message || L('unavailable')));
    td.colSpan = COLUMNS;
    tr.appendChild(td);
    return tr;
  }

  function renderRows(u) {
    const frag = document.createDocumentFragment();
    for (const s of u.sources) if (!s.ok) frag.appendChild(bannerEl(s));
    const keys = new Set();
    let anyActive = false;
    for (const row of u.rows) {
      keys.add(row.key);
      if (row.active) anyActive = true;
      frag.appendChild(rowEl(row));
      if (expanded.has(row.key)) frag.appendChild(detailEl(row));
    }
    // Rebuilding the rows would drop keyboard focus from a row's toggle; put it back on the same row.
    const focused = document.activeElement;
    const focusKey = focused && focused.classList.contains('toggle') ? focused.closest('tr').dataset.key : undefined;
    els.tbody.replaceChildren(frag);
    if (focusKey !== undefined) {
      for (const tr of els.tbody.querySelectorAll('tr.request-row')) {
        if (tr.dataset.key === focusKey) { tr.querySelector('button.toggle').focus(); break; }
      }
    }
    // Forget expanded rows that scrolled out, so the saved state stays small.
    let pruned = false;
    for (const k of expanded) if (!keys.has(k)) { expanded.delete(k); pruned = true; }
    if (pruned) saveState();
    els.empty.hidden = u.rows.length > 0;
    if (u.rows.length === 0) renderEmpty(u);
    els.hidden.hidden = u.hiddenRows <= 0;
    els.hidden.textContent = u.hiddenRows > 0 ? L('hiddenRows', u.hiddenRows) : '';
    setElapsedTimer(anyActive);
  }

  function renderEmpty(u) {
    const frag = document.createDocumentFragment();
    const filtered = filters.service !== 'all' || filters.status !== 'all' || filters.session !== '';
    if (filtered) {
      frag.appendChild(el('p', '', L('noMatch')));
    } else {
      frag.appendChild(el('p', '', L('noRequests')));
      const ul = el('ul');
      for (const s of u.sources) {
        if (!s.url) continue;
        const li = el('li');
        li.appendChild(document.createTextNode(SERVICE_NAMES[s.service] + ' → '));
        li.appendChild(el('code', '', s.url));
        li.appendChild(document.createTextNode(' '));
        li.appendChild(action(L('connect', SERVICE_NAMES[s.service]), { type: 'connect', service: s.service }));
        ul.appendChild(li);
      }
      if (!ul.childNodes.length) frag.appendChild(el('p', '', L('noProxy')));
      else frag.appendChild(ul);
    }
    els.empty.replaceChildren(frag);
  }

  function tickElapsed() {
    const now = Date.now() - clockOffset;
    for (const e of els.tbody.querySelectorAll('.elapsed')) e.textContent = fmtElapsed(now - Number(e.dataset.start));
  }

  function setElapsedTimer(on) {
    if (on && elapsedTimer === undefined) elapsedTimer = setInterval(tickElapsed, 1000);
    else if (!on && elapsedTimer !== undefined) {
      clearInterval(elapsedTimer);
      elapsedTimer = undefined;
    }
  }

  // ---------- messages ----------
  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'init') {
      setTexts(msg.strings);
      if (isFilters(msg.filters)) filters = msg.filters;
      applyFiltersToControls();
      saveState();
    } else if (msg.type === 'update') {
      lastUpdate = msg;
      clockOffset = Date.now() - msg.nowMs;
      renderSessions(msg.sessions);
      renderTotals(msg.totals);
      renderChart(msg.buckets, msg.bucketMs);
      renderRows(msg);
      document.body.dataset.rows = String(msg.rows.length);
    }
  });

  applyFiltersToControls();
  vscode.postMessage({ type: 'ready', filters });
})();
