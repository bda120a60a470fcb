import assert from 'node:assert/strict';
import { buildPriceTable, costOfUsage, envPriceRules, formatCost, matchGlob, matchPrice, priceRequest } from '../../src/core/pricing';
import type { ModelPrice } from '../../src/core/pricing';
import { ConfigError, parseConfigText } from '../../src/core/config';

const table = (prices: Record<string, ModelPrice>, env: Record<string, string> = {}) => buildPriceTable(prices, envPriceRules(env).rules);

describe('pricing: glob matching', () => {
  it('matches * and ? case-insensitively, anchored at both ends', () => {
    assert.ok(matchGlob('gpt-5*', 'gpt-5-codex'));
    assert.ok(matchGlob('gpt-5*', 'GPT-5'));
    assert.ok(matchGlob('claude-*-4-?', 'claude-sonnet-4-5'));
    assert.ok(!matchGlob('gpt-5*', 'my-gpt-5'));
    assert.ok(!matchGlob('gpt-5', 'gpt-5-mini'));
    assert.ok(matchGlob('a.b+(c)', 'a.b+(c)'), 'regex characters are literals');
    assert.ok(!matchGlob('a.b', 'axb'));
  });

  it('the most specific rule wins whatever the file order; ties keep file order', () => {
    const t = table({
      '*': { input: 1, output: 1 },
      'gpt-5*': { input: 2, output: 2 },
      'gpt-5-mini*': { input: 3, output: 3 },
      'gpt-5-mini': { input: 4, output: 4 },
      'gpt-?-nano': { input: 5, output: 5 },
      'gpt-*-nano': { input: 6, output: 6 },
    });
    assert.equal(matchPrice(t, 'gpt-5-mini')?.pattern, 'gpt-5-mini');
    assert.equal(matchPrice(t, 'gpt-5-mini-2025')?.pattern, 'gpt-5-mini*');
    assert.equal(matchPrice(t, 'gpt-5.1')?.pattern, 'gpt-5*');
    assert.equal(matchPrice(t, 'o3')?.pattern, '*');
    assert.equal(matchPrice(t, 'gpt-5-nano')?.pattern, 'gpt-?-nano', 'more literal characters win');
    assert.equal(matchPrice(t, 'gpt-4-nano')?.pattern, 'gpt-?-nano', '? pins a position and beats *');
    assert.equal(matchPrice(t, undefined), undefined);
    const tie = table({ 'a*': { input: 1, output: 1 }, '*a': { input: 2, output: 2 } });
    assert.equal(matchPrice(tie, 'aa')?.pattern, 'a*');
  });

  it('environment prices are a catch-all that any config rule beats', () => {
    const t = table({ 'claude-*': { input: 3, output: 15 } }, { CODEX_HELPER_PRICE_INPUT_PER_1K_USD: '0.002', CODEX_HELPER_PRICE_OUTPUT_PER_1K_USD: '0.008' });
    assert.equal(matchPrice(t, 'claude-opus')?.origin, 'config');
    const env = matchPrice(t, 'gpt-5');
    assert.equal(env?.origin, 'env');
    assert.equal(env?.price.input, 2, 'per 1K becomes per million');
    assert.equal(env?.price.output, 8);
    assert.deepEqual(envPriceRules({ CODEX_HELPER_PRICE_INPUT_PER_1K_USD: 'cheap' }).warnings.length, 1);
    assert.deepEqual(envPriceRules({}).rules, []);
  });
});

describe('pricing: cost of a request', () => {
  const price: ModelPrice = { input: 1.25, cached_input: 0.125, output: 10, reasoning: 20, cache_write: 1.5 };

  it('OpenAI counts cached tokens inside input and reasoning inside output', () => {
    // 1000 input of which 400 cached; 300 output of which 100 reasoning.
    const u = { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 300, reasoning_tokens: 100, total_tokens: 1300 };
    const expected = (600 * 1.25 + 400 * 0.125 + 200 * 10 + 100 * 20) / 1e6;
    assert.ok(Math.abs(costOfUsage(u, price, 'codex') - expected) < 1e-12);
  });

  it('Anthropic reports cache reads and writes beside input', () => {
    const u = { input_tokens: 50, cached_input_tokens: 10_000, cache_creation_input_tokens: 2000, output_tokens: 500, reasoning_tokens: 0, total_tokens: 550 };
    const expected = (50 * 1.25 + 10_000 * 0.125 + 2000 * 1.5 + 500 * 10) / 1e6;
    assert.ok(Math.abs(costOfUsage(u, price, 'claude') - expected) < 1e-12);
  });

  it('cached, reasoning and cache-write prices default to input and output', () => {
    const u = { input_tokens: 1000, cached_input_tokens: 1000, output_tokens: 1000, reasoning_tokens: 1000, total_tokens: 2000 };
    assert.ok(Math.abs(costOfUsage(u, { input: 2, output: 8 }, 'codex') - (1000 * 2 + 1000 * 8) / 1e6) < 1e-12);
    // Counts that contradict each other never go negative.
    const odd = { input_tokens: 10, cached_input_tokens: 50, output_tokens: 5, reasoning_tokens: 9, total_tokens: 15 };
    assert.ok(costOfUsage(odd, price, 'codex') >= 0);
  });

  it('prices the model sent upstream first, then the one asked for; nothing without usage or a rule', () => {
    const t = table({ 'gpt-5': { input: 1, output: 1 }, 'deepseek-*': { input: 0.5, output: 0.5, currency: 'CNY' } });
    const u = { input_tokens: 1_000_000, output_tokens: 0, reasoning_tokens: 0, total_tokens: 1_000_000 };
    assert.deepEqual(priceRequest(t, 'codex', u, 'gpt-5', 'deepseek-chat'), { amount: 0.5, currency: 'CNY', rule: 'deepseek-*' });
    assert.deepEqual(priceRequest(t, 'codex', u, 'gpt-5', 'unpriced-model'), { amount: 1, currency: 'USD', rule: 'gpt-5' });
    assert.equal(priceRequest(t, 'codex', undefined, 'gpt-5'), undefined);
    assert.equal(priceRequest(t, 'codex', u, 'o3'), undefined);
  });

  it('formats small and large amounts per currency', () => {
    assert.equal(formatCost({ USD: 1.234 }), '$1.23');
    assert.equal(formatCost({ USD: 0.004217 }), '$0.0042');
    assert.equal(formatCost({ CNY: 12.5, USD: 0.5 }), '12.50 CNY + $0.50');
    assert.equal(formatCost({}), '');
  });
});

describe('pricing: [pricing] in config.toml', () => {
  it('parses globs with every price field, dates and currencies', () => {
    const { config, warnings } = parseConfigText(`
[pricing."gpt-5*"]
input = 1.25
cached_input = 0.125
output = 10
reasoning = 10
currency = "usd"
as_of = 2025-08-07
source = "openai.com/api/pricing"
[pricing."claude-sonnet-*"]
input = 3
output = 15
cache_write = 3.75
colour = "blue"
`, 'config.toml', 'toml');
    assert.deepEqual(config.pricing?.['gpt-5*'], { input: 1.25, cached_input: 0.125, output: 10, reasoning: 10, currency: 'USD', as_of: '2025-08-07', source: 'openai.com/api/pricing' });
    assert.deepEqual(config.pricing?.['claude-sonnet-*'], { input: 3, output: 15, cache_write: 3.75 });
    assert.deepEqual(Object.keys(config.pricing ?? {}), ['gpt-5*', 'claude-sonnet-*'], 'file order kept');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.key, /colour/);
  });

  it('rejects a missing output, a negative or text price, with file:line and key', () => {
    assert.throws(() => parseConfigText('[pricing."gpt-5"]\ninput = 1\n', 'c.toml', 'toml'), (e: unknown) =>
      e instanceof ConfigError && /c\.toml:1: pricing\.gpt-5\.output: missing required key/.test(e.message));
    assert.throws(() => parseConfigText('[pricing."gpt-5"]\ninput = -1\noutput = 1\n', 'c.toml', 'toml'), (e: unknown) =>
      e instanceof ConfigError && e.line === 2 && /price per million tokens/.test(e.message));
    assert.throws(() => parseConfigText('[pricing."gpt-5"]\ninput = "1"\noutput = 1\n', 'c.toml', 'toml'), ConfigError);
    assert.throws(() => parseConfigText('pricing = 3\n', 'c.toml', 'toml'), /expected a table of model globs/);
  });
});
