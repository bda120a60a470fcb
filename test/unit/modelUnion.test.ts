import assert from 'node:assert/strict';
import { anthropicModelList, openAiModelList, parseModelList, unionModels } from '../../src/core/modelUnion';
import type { UpstreamModelList } from '../../src/core/modelUnion';
import type { ServiceConfig, ServiceConfigManager, UpstreamConfig } from '../../src/core/types';

const up = (base_url: string, supported_models: Record<string, boolean> = {}, model_mapping: Record<string, string> = {}): UpstreamConfig =>
  ({ base_url, auth: {}, tags: {}, supported_models, model_mapping });
const cfg = (name: string, upstreams: UpstreamConfig[], enabled = true): ServiceConfig => ({ name, enabled, level: 1, upstreams });

describe('model union', () => {
  const mgr: ServiceConfigManager = {
    active: 'a',
    configs: {
      a: cfg('a', [up('http://a', { 'gpt-5*': true, 'gpt-5-pro': false }), up('http://a2', {}, { 'fast': 'gpt-5-mini' })]),
      b: cfg('b', [up('http://b', { 'gpt-5': true, 'o3': true, 'gpt-4*': true }, { 'gpt-4o': 'gpt-5' })]),
      off: cfg('off', [up('http://off', { 'secret-model': true })], false),
    },
  };
  const fetched: Record<string, UpstreamModelList> = {
    'http://a': { models: [{ id: 'gpt-5', created: 7 }, { id: 'gpt-5-pro' }, { id: 'dall-e-3' }, { id: 'gpt-5-mini', display_name: 'GPT-5 mini' }] },
  };

  it('lists each model once with the configs that serve it, from lists, supported_models and mapping', () => {
    const got = unionModels(mgr, {}, (_c, _i, u) => fetched[u.base_url]);
    assert.deepEqual(got.map((m) => [m.id, m.configs, m.sources]), [
      ['fast', ['a'], ['model_mapping']],
      ['gpt-4o', ['b'], ['model_mapping']],
      ['gpt-5', ['a', 'b'], ['upstream', 'supported_models']],
      ['gpt-5-mini', ['a'], ['upstream']],
      ['o3', ['b'], ['supported_models']],
    ]);
    const five = got.find((m) => m.id === 'gpt-5');
    assert.equal(five?.created, 7);
    assert.equal(got.find((m) => m.id === 'gpt-5-mini')?.display_name, 'GPT-5 mini');
    // 'gpt-5-pro' is excluded by `false`, 'dall-e-3' is outside a's allow-list, 'gpt-4*' is a pattern, 'secret-model'
    // belongs to a disabled config.
  });

  it('follows runtime enable/disable overrides, and an upstream that never answered contributes its config names only', () => {
    const got = unionModels(mgr, { b: { enabled: false }, off: { enabled: true } }, () => undefined);
    assert.deepEqual(got.map((m) => m.id), ['fast', 'secret-model']);
  });

  it('a wildcard mapping key is not a model; a mapping key the allow-list excludes is not listed', () => {
    const m: ServiceConfigManager = { configs: { x: cfg('x', [up('http://x', { 'gpt-5': true, 'o1': false }, { 'claude-*': 'gpt-5', 'o1': 'gpt-5' })]) } };
    assert.deepEqual(unionModels(m, {}, () => undefined).map((x) => x.id), ['gpt-5']);
  });

  it('reads OpenAI, Anthropic and Codex list shapes and ignores junk', () => {
    assert.deepEqual(parseModelList({ object: 'list', data: [{ id: 'a', created: 1, owned_by: 'o' }, { id: 'a' }, { nope: 1 }, 'b'] }),
      { models: [{ id: 'a', created: 1, owned_by: 'o' }, { id: 'b' }] });
    assert.deepEqual(parseModelList({ data: [{ type: 'model', id: 'claude-x', display_name: 'Claude X', created_at: '2025-01-01T00:00:00Z' }], has_more: false }),
      { models: [{ id: 'claude-x', display_name: 'Claude X', created: 1735689600 }] });
    assert.deepEqual(parseModelList({ models: [{ slug: 'gpt-5-codex' }] }), { models: [{ id: 'gpt-5-codex', codex_info: { slug: 'gpt-5-codex' } }] });
    assert.equal(parseModelList({ error: 'x' }), undefined);
    assert.equal(parseModelList('text'), undefined);
  });

  it('renders the OpenAI and Anthropic list shapes', () => {
    const models = [{ id: 'm1', configs: ['a', 'b'], sources: ['upstream' as const], created: 5 }];
    assert.deepEqual(openAiModelList(models), { object: 'list', data: [{ id: 'm1', object: 'model', created: 5, owned_by: 'a', configs: ['a', 'b'] }] });
    assert.deepEqual(anthropicModelList(models), {
      data: [{ type: 'model', id: 'm1', display_name: 'm1', created_at: '1970-01-01T00:00:05.000Z', configs: ['a', 'b'] }],
      has_more: false, first_id: 'm1', last_id: 'm1',
    });
  });

  it('passes Codex-shaped entries on under `models` only when an upstream gave them', () => {
    const info = { slug: 'gpt-5-codex', display_name: 'GPT-5 Codex', supported_reasoning_levels: [{ effort: 'high' }] };
    const m: ServiceConfigManager = { configs: { x: cfg('x', [up('http://x')]), y: cfg('y', [up('http://y', { 'o3': true })]) } };
    const lists: Record<string, UpstreamModelList> = { 'http://x': parseModelList({ models: [info] })! };
    const union = unionModels(m, {}, (_c, _i, u) => lists[u.base_url]);
    const body = openAiModelList(union) as { data: Array<{ id: string }>; models?: unknown[] };
    assert.deepEqual(body.data.map((d) => d.id), ['gpt-5-codex', 'o3']);
    assert.deepEqual(body.models, [info]);
    assert.equal((openAiModelList(unionModels(m, {}, () => undefined)) as { models?: unknown }).models, undefined);
  });
});
