// The price table of the running proxy: `[pricing]` of the current config snapshot plus the environment's
// `CODEX_HELPER_PRICE_*` catch-all, rebuilt only when the config snapshot changes.
import { buildPriceTable, envPriceRules, priceRequest } from '../core/pricing';
import type { PriceRule, PriceTable, RequestCost } from '../core/pricing';
import type { ProxyConfig, ServiceName, UsageMetrics } from '../core/types';
import type { Logger } from './logger';

/** One per proxy host; services and the request log price through it. */
export class PriceBook {
  private readonly envRules: PriceRule[];
  private cache: { cfg: ProxyConfig; table: PriceTable } | undefined;

  constructor(private readonly config: () => ProxyConfig, env: NodeJS.ProcessEnv, log: Logger) {
    const r = envPriceRules(env);
    for (const w of r.warnings) log.warn(w);
    this.envRules = r.rules;
  }

  /** The rules in force (config rules in file order, then the environment's). */
  table(): PriceTable {
    const cfg = this.config();
    if (this.cache?.cfg !== cfg) this.cache = { cfg, table: buildPriceTable(cfg.pricing, this.envRules) };
    return this.cache.table;
  }

  /** Cost of one request, or undefined without usage or a matching rule. */
  price = (service: ServiceName, usage: UsageMetrics | undefined, model: string | undefined, mapped: string | undefined): RequestCost | undefined =>
    priceRequest(this.table(), service, usage, model, mapped);
}
