import assert from 'node:assert/strict';
import { DEFAULT_FILTERS, filtersFromState, PageMessageError, parseFilters, parsePageMessage } from '../../src/webview/protocol';

function rejects(v: unknown): void {
  assert.throws(() => parsePageMessage(v), (e: unknown) => e instanceof PageMessageError && e.code === 'WEBVIEW_BAD_MESSAGE');
}

describe('webview protocol: parsePageMessage', () => {
  const good = { service: 'codex', status: 'error', session: 'sess-1' };

  it('accepts every page message and returns only the known fields', () => {
    assert.deepEqual(parsePageMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parsePageMessage({ type: 'ready', filters: good }), { type: 'ready', filters: good });
    assert.deepEqual(parsePageMessage({ type: 'setFilter', filters: { ...good, extra: 1 }, evil: true }), {
      type: 'setFilter',
      filters: good,
    });
    assert.deepEqual(parsePageMessage({ type: 'refresh' }), { type: 'refresh' });
    assert.deepEqual(parsePageMessage({ type: 'requestDetails', key: 'f:codex:1:2' }), { type: 'requestDetails', key: 'f:codex:1:2' });
    assert.deepEqual(parsePageMessage({ type: 'copy', key: 'a:claude:3', what: 'chain' }), {
      type: 'copy',
      key: 'a:claude:3',
      what: 'chain',
    });
  });

  it('rejects non-objects, unknown types and missing types', () => {
    for (const v of [null, undefined, 42, 'ready', [], [{ type: 'ready' }], {}, { type: 7 }, { type: 'runCommand' }, { type: '__proto__' }]) {
      rejects(v);
    }
  });

  it('rejects bad filters in setFilter', () => {
    rejects({ type: 'setFilter' });
    rejects({ type: 'setFilter', filters: { ...good, service: 'gemini' } });
    rejects({ type: 'setFilter', filters: { ...good, status: '3xx' } });
    rejects({ type: 'setFilter', filters: { ...good, session: 5 } });
    rejects({ type: 'setFilter', filters: { ...good, session: 'x'.repeat(301) } });
    rejects({ type: 'setFilter', filters: { ...good, session: 'a\nb' } });
  });

  it('keeps the ready handshake working when the saved filters are stale', () => {
    assert.deepEqual(parsePageMessage({ type: 'ready', filters: { service: 'old', status: 'all', session: '' } }), { type: 'ready' });
    assert.deepEqual(parsePageMessage({ type: 'ready', filters: 'nope' }), { type: 'ready' });
  });

  it('accepts connect only for a known service', () => {
    assert.deepEqual(parsePageMessage({ type: 'connect', service: 'claude', extra: 1 }), { type: 'connect', service: 'claude' });
    assert.throws(() => parsePageMessage({ type: 'connect', service: 'codex; rm -rf' }), PageMessageError);
    assert.throws(() => parsePageMessage({ type: 'connect' }), PageMessageError);
  });

  it('rejects bad keys and copy targets', () => {
    rejects({ type: 'requestDetails' });
    rejects({ type: 'requestDetails', key: 12 });
    rejects({ type: 'requestDetails', key: 'k'.repeat(201) });
    rejects({ type: 'copy', key: 'k' });
    rejects({ type: 'copy', key: 'k', what: 'apiKey' });
    rejects({ type: 'copy', key: 'k\u0000', what: 'row' });
  });
});

describe('webview protocol: filters', () => {
  it('parseFilters returns a fresh object with only the three fields', () => {
    const f = parseFilters({ service: 'all', status: 'all', session: '', x: 1 });
    assert.deepEqual(f, DEFAULT_FILTERS);
    assert.notEqual(f, DEFAULT_FILTERS);
  });

  it('filtersFromState restores valid saved filters and falls back to defaults otherwise', () => {
    assert.deepEqual(filtersFromState({ filters: { service: 'claude', status: '5xx', session: 's' }, expanded: [] }), {
      service: 'claude',
      status: '5xx',
      session: 's',
    });
    for (const s of [undefined, null, 'x', {}, { filters: { service: 'claude' } }]) {
      assert.deepEqual(filtersFromState(s), DEFAULT_FILTERS);
    }
  });
});
