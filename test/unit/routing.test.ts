import assert from 'node:assert/strict';
import { chooseConfigs } from '../../src/core/routing';
import type { ServiceConfig, ServiceConfigManager } from '../../src/core/types';

function cfg(name: string, level = 1, enabled = true, upstreams = 1): ServiceConfig {
  return {
    name,
    level,
    enabled,
    upstreams: Array.from({ length: upstreams }, (_, i) => ({ base_url: `https://${name}${i}.example`, auth: {}, tags: {}, supported_models: {}, model_mapping: {} })),
  };
}

function mgr(active: string | undefined, ...configs: ServiceConfig[]): ServiceConfigManager {
  return { active, configs: Object.fromEntries(configs.map((c) => [c.name, c])) };
}

const names = (m: ServiceConfigManager, ...rest: Parameters<typeof chooseConfigs> extends [unknown, ...infer R] ? R : never) =>
  chooseConfigs(m, ...rest).configs.map((c) => c.name);

describe('config choice per request (chooseConfigs)', () => {
  it('single level: active first, then the rest by name', () => {
    const m = mgr('m', cfg('z'), cfg('m'), cfg('a'));
    assert.deepEqual(names(m, undefined), ['m', 'a', 'z']);
    assert.equal(chooseConfigs(m, undefined).mode, 'single_level_multi');
  });

  it('multi level: by level, active first within a level, then name', () => {
    const m = mgr('c', cfg('a', 2), cfg('b', 1), cfg('c', 2), cfg('d', 1));
    assert.deepEqual(names(m, undefined), ['b', 'd', 'c', 'a']);
    assert.equal(chooseConfigs(m, undefined).mode, 'multi_level');
  });

  it('levels are clamped to 1..10', () => {
    const m = mgr(undefined, cfg('low', 0), cfg('high', 99), cfg('mid', 5));
    assert.deepEqual(names(m, undefined), ['low', 'mid', 'high']);
  });

  it('disabled configs are skipped unless active; configs without upstreams never count', () => {
    const m = mgr('off-but-active', cfg('off', 1, false), cfg('off-but-active', 1, false), cfg('on'), cfg('empty', 1, true, 0));
    assert.deepEqual(names(m, undefined), ['off-but-active', 'on']);
  });

  it('with no candidate falls back to the active config (even disabled), else to the smallest name', () => {
    assert.deepEqual(names(mgr('x', cfg('x', 1, false, 0)), undefined), ['x']);
    assert.deepEqual(names(mgr(undefined, cfg('b', 1, false), cfg('a', 1, false)), undefined), ['a']);
    assert.equal(chooseConfigs(mgr(undefined), undefined).mode, 'empty');
  });

  it('a pin selects exactly one config, ignoring enabled and level; an unknown pin falls back to the active config', () => {
    const m = mgr('a', cfg('a', 1), cfg('b', 3, false));
    const pinned = chooseConfigs(m, { name: 'b', source: 'session' });
    assert.deepEqual(pinned.configs.map((c) => c.name), ['b']);
    assert.equal(pinned.mode, 'pinned');
    assert.deepEqual(pinned.pinned, { name: 'b', source: 'session', found: true });
    const unknown = chooseConfigs(m, { name: 'ghost', source: 'global' });
    assert.deepEqual(unknown.configs.map((c) => c.name), ['a']);
    assert.equal(unknown.pinned?.found, false);
  });

  it('runtime meta overrides change enabled and level', () => {
    const m = mgr(undefined, cfg('a', 1), cfg('b', 2));
    assert.deepEqual(names(m, undefined, { a: { level: 3 } }), ['b', 'a']);
    assert.deepEqual(names(m, undefined, { a: { enabled: false } }), ['b']);
    assert.deepEqual(names(mgr(undefined, cfg('a', 1, false), cfg('b')), undefined, { a: { enabled: true } }), ['a', 'b']);
  });
});
