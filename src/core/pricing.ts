// Prices per model and the cost of one request. There is no built-in price list: prices change without notice and a
// stale table would show confident wrong numbers. They come from `[pricing."<model glob>"]` in config.toml and from
// the seed's `CODEX_HELPER_PRICE_*_PER_1K_USD` environment variables (a catch-all `*` rule), and every cost shown is
// labelled an estimate.
import type { ServiceName, UsageMetrics } from './types';

/** Prices per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Cache reads (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`); defaults to `input`. */
  cached_input?: number;
  /** Reasoning tokens, which providers count inside the output; defaults to `output`. */
  reasoning?: number;
  /** Anthropic `cache_creation_input_tokens`; defaults to `input`. */
  cache_write?: number;
  /** ISO 4217 code or any short label; defaults to USD. */
  currency?: string;
  /** When the price was looked up, as written by the user (shown next to costs). */
  as_of?: string;
  /** Where the price came from (a URL or a note). */
  source?: string;
}

export interface PriceRule {
  /** Model glob: `*` matches any run of characters, `?` one character; case-insensitive. */
  pattern: string;
  price: ModelPrice;
  origin: 'config' | 'env';
}

/** Rules in file order; `matchPrice` picks the most specific one. */
export interface PriceTable {
  rules: PriceRule[];
  /** Memo of `matchPrice` by model name (a table is immutable once built). */
  memo?: Map<string, PriceRule | null>;
}

export interface RequestCost {
  amount: number;
  currency: string;
  /** The rule that priced it (its glob). */
  rule: string;
}

export const DEFAULT_CURRENCY = 'USD';
const PER_MILLION = 1_000_000;

const regexCache = new Map<string, RegExp>();

function globRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 'is');
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** Whether `model` matches the glob `pattern` (case-insensitive). */
export function matchGlob(pattern: string, model: string): boolean {
  return globRegex(pattern).test(model);
}

/** Literal characters first, then fewer `*` (a `?` pins a position, a `*` does not). */
function specificity(pattern: string): [number, number] {
  let literal = 0;
  let stars = 0;
  for (const ch of pattern) {
    if (ch === '*') stars += 1;
    else if (ch !== '?') literal += 1;
  }
  return [literal, -stars];
}

/** The most specific rule whose glob matches `model`; ties go to the earlier rule (file order, then env). */
export function matchPrice(table: PriceTable, model: string | undefined): PriceRule | undefined {
  if (!model) return undefined;
  const memo = table.memo?.get(model);
  if (memo !== undefined) return memo ?? undefined;
  const found = findPrice(table, model);
  if (table.memo) {
    if (table.memo.size >= 1000) table.memo.clear();
    table.memo.set(model, found ?? null);
  }
  return found;
}

function findPrice(table: PriceTable, model: string): PriceRule | undefined {
  let best: PriceRule | undefined;
  let bestSpec: [number, number] = [-1, -Infinity];
  for (const r of table.rules) {
    if (!matchGlob(r.pattern, model)) continue;
    const s = specificity(r.pattern);
    if (s[0] > bestSpec[0] || (s[0] === bestSpec[0] && s[1] > bestSpec[1])) {
      best = r;
      bestSpec = s;
    }
  }
  return best;
}

/**
 * Cost of one request's usage. OpenAI (`codex`) counts cached tokens inside `input_tokens`; Anthropic (`claude`)
 * reports cache reads and cache writes beside them. Both count reasoning tokens inside the output.
 */
export function costOfUsage(u: UsageMetrics, p: ModelPrice, service: ServiceName): number {
  const cached = Math.max(0, u.cached_input_tokens ?? 0);
  const creation = Math.max(0, u.cache_creation_input_tokens ?? 0);
  const input = Math.max(0, u.input_tokens);
  const uncached = service === 'claude' ? input : Math.max(0, input - cached - creation);
  const output = Math.max(0, u.output_tokens);
  const reasoning = Math.min(output, Math.max(0, u.reasoning_tokens));
  const sum =
    uncached * p.input +
    cached * (p.cached_input ?? p.input) +
    creation * (p.cache_write ?? p.input) +
    (output - reasoning) * p.output +
    reasoning * (p.reasoning ?? p.output);
  return sum / PER_MILLION;
}

/**
 * Prices a finished request: the model sent upstream (after mapping) first, since that is what the provider bills,
 * then the model the client asked for. Undefined without usage or without a matching rule.
 */
export function priceRequest(
  table: PriceTable,
  service: ServiceName,
  usage: UsageMetrics | undefined,
  model: string | undefined,
  mappedModel?: string,
): RequestCost | undefined {
  if (!usage || table.rules.length === 0) return undefined;
  const rule = matchPrice(table, mappedModel) ?? matchPrice(table, model);
  if (!rule) return undefined;
  return { amount: costOfUsage(usage, rule.price, service), currency: rule.price.currency ?? DEFAULT_CURRENCY, rule: rule.pattern };
}

export const ENV_PRICE_INPUT = 'CODEX_HELPER_PRICE_INPUT_PER_1K_USD';
export const ENV_PRICE_OUTPUT = 'CODEX_HELPER_PRICE_OUTPUT_PER_1K_USD';

/**
 * The seed's environment prices (USD per 1K tokens, every model) as a catch-all `*` rule; config rules are more
 * specific and win. Returns warnings for values that are not non-negative numbers (those are ignored).
 */
export function envPriceRules(env: Readonly<Record<string, string | undefined>>): { rules: PriceRule[]; warnings: string[] } {
  const warnings: string[] = [];
  const read = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) {
      warnings.push(`${name} must be a non-negative number (USD per 1K tokens); ignored`);
      return undefined;
    }
    return n;
  };
  const input = read(ENV_PRICE_INPUT);
  const output = read(ENV_PRICE_OUTPUT);
  if (input === undefined && output === undefined) return { rules: [], warnings };
  const price: ModelPrice = {
    input: (input ?? 0) * 1000,
    output: (output ?? 0) * 1000,
    currency: DEFAULT_CURRENCY,
    source: `environment (${[input !== undefined ? ENV_PRICE_INPUT : '', output !== undefined ? ENV_PRICE_OUTPUT : ''].filter(Boolean).join(', ')})`,
  };
  return { rules: [{ pattern: '*', price, origin: 'env' }], warnings };
}

/** Config rules first (file order), then the environment's catch-all. */
export function buildPriceTable(config: Readonly<Record<string, ModelPrice>> | undefined, env: PriceRule[]): PriceTable {
  const rules: PriceRule[] = Object.entries(config ?? {}).map(([pattern, price]) => ({ pattern, price, origin: 'config' }));
  return { rules: [...rules, ...env], memo: new Map() };
}

/** Adds `amount` to a per-currency sum in place. */
export function addCost(into: Record<string, number>, currency: string, amount: number): void {
  if (!Number.isFinite(amount)) return;
  into[currency] = (into[currency] ?? 0) + amount;
}

/** Adds every currency of `b` into `a` in place. */
export function mergeCosts(a: Record<string, number>, b: Readonly<Record<string, number>> | undefined): void {
  if (!b) return;
  for (const [c, v] of Object.entries(b)) addCost(a, c, v);
}

/** `$1.23`, `€0.0042`, `12.50 CNY`; several currencies joined with ` + `. Small amounts keep 2 significant digits. */
export function formatCost(costs: Readonly<Record<string, number>> | undefined): string {
  const entries = Object.entries(costs ?? {}).filter(([, v]) => Number.isFinite(v));
  if (entries.length === 0) return '';
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([cur, v]) => {
      const abs = Math.abs(v);
      const digits = abs === 0 ? 2 : abs >= 1 ? 2 : Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(abs))));
      const n = v.toFixed(digits);
      const sym = cur === 'USD' ? '$' : cur === 'EUR' ? '€' : cur === 'GBP' ? '£' : undefined;
      return sym ? `${sym}${n}` : `${n} ${cur}`;
    })
    .join(' + ');
}
