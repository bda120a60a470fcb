import { strict as assert } from 'node:assert';
import {
  effectiveModel,
  isModelSupported,
  isModelSupportedFor,
  mappedModelFor,
  matchWildcard,
  modelRoutingWarnings,
} from '../../src/core/modelRouting';
import type { UpstreamConfig } from '../../src/core/types';

function upstream(supported: Record<string, boolean>, mapping: Record<string, string>): UpstreamConfig {
  return { base_url: 'https://api.example.com/v1', auth: {}, tags: {}, supported_models: supported, model_mapping: mapping };
}

describe('modelRouting', () => {
  describe('matchWildcard', () => {
    it('matches exactly without a star', () => {
      assert.equal(matchWildcard('gpt-4', 'gpt-4'), true);
      assert.equal(matchWildcard('gpt-4', 'gpt-4o'), false);
    });
    it('matches prefix and suffix with one star', () => {
      assert.equal(matchWildcard('gpt-*', 'gpt-4o'), true);
      assert.equal(matchWildcard('*-mini', 'o4-mini'), true);
      assert.equal(matchWildcard('claude-*-latest', 'claude-3-5-sonnet-latest'), true);
      assert.equal(matchWildcard('claude-*-latest', 'claude-3-opus'), false);
      assert.equal(matchWildcard('*', 'anything'), true);
      assert.equal(matchWildcard('*', ''), true);
      assert.equal(matchWildcard('gpt-*', 'gpt-'), true);
    });
    it('does not let prefix and suffix overlap (seed edge case)', () => {
      assert.equal(matchWildcard('ab*ba', 'aba'), false);
      assert.equal(matchWildcard('ab*ba', 'abba'), true);
      assert.equal(matchWildcard('a*a', 'a'), false);
    });
    it('never matches with two stars', () => {
      assert.equal(matchWildcard('a*b*', 'axbx'), false);
    });
  });

  describe('effectiveModel', () => {
    it('returns the request unchanged with an empty mapping or no match', () => {
      assert.equal(effectiveModel({}, 'gpt-4o'), 'gpt-4o');
      assert.equal(effectiveModel({ 'claude-*': 'x' }, 'gpt-4o'), 'gpt-4o');
    });
    it('prefers an exact key over any wildcard', () => {
      assert.equal(effectiveModel({ 'gpt-*': 'wild-*', 'gpt-4o': 'exact' }, 'gpt-4o'), 'exact');
    });
    it('picks the most specific wildcard and substitutes the capture into the first star', () => {
      const m = { '*': 'default', 'claude-*': 'anthropic/claude-*', 'claude-3-*': 'old/*/*' };
      assert.equal(effectiveModel(m, 'claude-3-opus'), 'old/opus/*');
      assert.equal(effectiveModel(m, 'claude-sonnet-4'), 'anthropic/claude-sonnet-4');
      assert.equal(effectiveModel(m, 'gpt-5'), 'default');
    });
    it('returns a star-less replacement verbatim', () => {
      assert.equal(effectiveModel({ 'gpt-*': 'gpt-5' }, 'gpt-4o'), 'gpt-5');
    });
    it('breaks specificity ties by the longest literal run, then by file order', () => {
      // Both have 4 literal characters; "gpt-*" has one unbroken run of 4.
      assert.equal(effectiveModel({ 'g*-4o': 'a', 'gpt-*': 'b' }, 'gpt-4o'), 'b');
      assert.equal(effectiveModel({ 'gpt-*': 'b', 'g*-4o': 'a' }, 'gpt-4o'), 'b');
      // Full tie: first in file order wins, whatever order the keys were listed.
      assert.equal(effectiveModel({ 'gp*': 'first', '*4o': 'second' }, 'gpt-4o'), 'first');
      assert.equal(effectiveModel({ '*4o': 'second', 'gp*': 'first' }, 'gpt-4o'), 'second');
    });
  });

  describe('isModelSupported', () => {
    it('supports everything when both maps are empty', () => {
      assert.equal(isModelSupported({}, {}, 'whatever'), true);
    });
    it('uses exact and wildcard allow-list entries', () => {
      const s = { 'gpt-4o': true, 'o*': true };
      assert.equal(isModelSupported(s, {}, 'gpt-4o'), true);
      assert.equal(isModelSupported(s, {}, 'o3'), true);
      assert.equal(isModelSupported(s, {}, 'claude-3'), false);
    });
    it('excludes a model whose entry is false (regression: the seed ignored the value)', () => {
      assert.equal(isModelSupported({ 'gpt-4': false, 'gpt-*': true }, {}, 'gpt-4'), false);
      assert.equal(isModelSupported({ 'gpt-4': false, 'gpt-*': true }, {}, 'gpt-4o'), true);
      // Even when the mapping mentions it.
      assert.equal(isModelSupported({ 'gpt-4': false }, { 'gpt-4': 'gpt-4-turbo' }, 'gpt-4'), false);
      assert.equal(isModelSupported({ 'gpt-*': false }, { 'gpt-*': 'x-*' }, 'gpt-5'), false);
    });
    it('lets the most specific entry decide', () => {
      const s = { '*': true, 'gpt-*': false, 'gpt-5*': true };
      assert.equal(isModelSupported(s, {}, 'gpt-4o'), false);
      assert.equal(isModelSupported(s, {}, 'gpt-5-codex'), true);
      assert.equal(isModelSupported(s, {}, 'o3'), true);
    });
    it('treats a list of only false entries as a deny-list', () => {
      const s = { 'gpt-3.5-turbo': false, 'davinci-*': false };
      assert.equal(isModelSupported(s, {}, 'gpt-4o'), true);
      assert.equal(isModelSupported(s, {}, 'davinci-002'), false);
    });
    it('falls back to the mapping keys when no supported entry matches', () => {
      const s = { 'gpt-*': true };
      assert.equal(isModelSupported(s, { 'claude-*': 'gpt-*' }, 'claude-3'), true);
      assert.equal(isModelSupported(s, { 'sonnet': 'gpt-5' }, 'sonnet'), true);
      assert.equal(isModelSupported(s, { 'sonnet': 'gpt-5' }, 'opus'), false);
    });
    it('accepts everything when only a mapping is configured (mapping renames, it does not restrict)', () => {
      assert.equal(isModelSupported({}, { 'claude-*': 'x' }, 'gpt-4o'), true);
    });
  });

  describe('modelRoutingWarnings', () => {
    it('warns when nothing is configured', () => {
      const w = modelRoutingWarnings('codex', 'main', 0, upstream({}, {}));
      assert.equal(w.length, 1);
      assert.match(w[0] ?? '', /^codex:main upstream\[0\] \(https:\/\/api\.example\.com\/v1\): no supported_models/);
    });
    it('warns when only a mapping is configured', () => {
      const w = modelRoutingWarnings('claude', 'c', 2, upstream({}, { a: 'b' }));
      assert.equal(w.length, 1);
      assert.match(w[0] ?? '', /model_mapping configured but no supported_models/);
    });
    it('flags star-less targets that the allow-list does not support, including false entries', () => {
      const w = modelRoutingWarnings(
        'codex',
        'm',
        1,
        upstream({ 'gpt-*': true, 'gpt-4': false }, { a: 'gpt-5', b: 'claude-3', c: 'gpt-4', d: 'x-*' }),
      );
      assert.deepEqual(
        w.map((s) => /'(\w+)' -> '([\w-]+)'/.exec(s)?.slice(1, 3).join('>')),
        ['b>claude-3', 'c>gpt-4'],
      );
    });
    it('gives no warnings for a consistent set-up', () => {
      assert.deepEqual(modelRoutingWarnings('codex', 'm', 0, upstream({ 'gpt-*': true }, { 'o*': 'gpt-5' })), []);
    });
  });

  describe('answers kept per upstream and model', () => {
    it('match the plain functions for every model, asked again and again, and follow new lists (a reload)', () => {
      const lists: Array<[Record<string, boolean>, Record<string, string>]> = [
        [{}, { 'gpt-5': 'gpt-5-mapped', 'o*': 'gpt-*' }],
        [{ 'gpt-*': true, 'gpt-4o': false }, {}],
        [{ 'claude-*': false }, { 'haiku*': 'claude-haiku-*' }],
      ];
      const models = ['gpt-5', 'gpt-5-codex', 'o3', 'gpt-4o', 'claude-sonnet-4-5', 'haiku-x', '', '*'];
      for (let round = 0; round < 3; round++) {
        for (const [supported, mapping] of lists) {
          for (const m of models) {
            assert.equal(mappedModelFor(mapping, m), effectiveModel(mapping, m), `${JSON.stringify(mapping)} ${m}`);
            assert.equal(isModelSupportedFor(supported, mapping, m), isModelSupported(supported, mapping, m), `${JSON.stringify(supported)} ${m}`);
          }
        }
      }
      const before = { 'gpt-5': 'a' };
      assert.equal(mappedModelFor(before, 'gpt-5'), 'a');
      assert.equal(mappedModelFor({ 'gpt-5': 'b' }, 'gpt-5'), 'b', 'a reloaded mapping is a new object with its own answers');
      assert.equal(isModelSupportedFor({ 'gpt-5': false }, before, 'gpt-5'), false);
      assert.equal(isModelSupportedFor({}, before, 'gpt-5'), true);
    });
  });
});
