// Active health probes: `GET {base_url}/models` per upstream with the same credentials as real traffic,
// bounded in time and concurrency. Results go to state.configHealth; a passing probe also closes the upstream's
// breaker (failure count 0, no cooldown), so traffic and the UI agree that it is healthy again.
import { displayUrl } from '../core/urlMask';
import { resolveUpstreamAuth } from '../core/auth';
import type { UpstreamConfig } from '../core/types';
import type { Logger } from './logger';
import type { ProxyService } from './proxyService';
import { describeTransportError } from './upstream';
import { SimpleRequestError, simpleRequest } from './upstreamCall';

function clampEnv(env: NodeJS.ProcessEnv, names: string[], def: number, min: number, max: number): number {
  for (const n of names) {
    const v = Number(env[n]);
    if (env[n] !== undefined && Number.isFinite(v)) return Math.min(max, Math.max(min, Math.trunc(v)));
  }
  return def;
}

/** URL probed for an upstream: `<base>/models`. */
export function probeUrl(baseUrl: string): string {
  const u = new URL(baseUrl.trim());
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  const probe = new URL('models', u);
  // The base_url's own query (Azure's api-version) applies to every request, probes included.
  probe.search = u.search;
  return probe.toString();
}

/** Runs health checks for configs of a service. */
export class HealthChecker {
  private readonly timeoutMs: number;
  private readonly perConfig: number;
  private readonly maxInflight: number;
  private inflight = 0;
  private readonly queue: Array<() => void> = [];

  constructor(env: NodeJS.ProcessEnv, private readonly log: Logger) {
    this.timeoutMs = clampEnv(env, ['CODEX_HELPER_HEALTHCHECK_TIMEOUT_MS', 'CODEX_HELPER_TUI_HEALTHCHECK_TIMEOUT_MS'], 2500, 300, 20000);
    this.perConfig = clampEnv(env, ['CODEX_HELPER_HEALTHCHECK_UPSTREAM_CONCURRENCY'], 4, 1, 32);
    this.maxInflight = clampEnv(env, ['CODEX_HELPER_HEALTHCHECK_MAX_INFLIGHT'], 2, 1, 16);
  }

  /** Starts checks for `names`; returns at once with which started, were already running, or are unknown. */
  start(svc: ProxyService, names: string[]): { started: string[]; already_running: string[]; missing: string[] } {
    const out = { started: [] as string[], already_running: [] as string[], missing: [] as string[] };
    for (const name of names) {
      const cfg = Object.hasOwn(svc.manager.configs, name) ? svc.manager.configs[name] : undefined;
      if (!cfg) {
        out.missing.push(name);
        continue;
      }
      if (!svc.state.tryBeginHealthCheck(name, cfg.upstreams.length)) {
        out.already_running.push(name);
        continue;
      }
      out.started.push(name);
      void this.runConfig(svc, name, cfg.upstreams);
    }
    return out;
  }

  /** Resolves when the check of `name` is done (for callers that wait, e.g. a progress notification). */
  async waitFor(svc: ProxyService, name: string, pollMs = 100): Promise<void> {
    for (;;) {
      const st = svc.state.healthChecks()[name];
      if (!st || st.done) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async acquire(): Promise<void> {
    if (this.inflight < this.maxInflight) {
      this.inflight++;
      return;
    }
    await new Promise<void>((r) => this.queue.push(r));
    this.inflight++;
  }

  private release(): void {
    this.inflight--;
    this.queue.shift()?.();
  }

  private async runConfig(svc: ProxyService, name: string, upstreams: UpstreamConfig[]): Promise<void> {
    await this.acquire();
    let canceled = false;
    try {
      let next = 0;
      const worker = async () => {
        while (next < upstreams.length && !canceled) {
          const index = next++;
          const r = await this.probe(svc, upstreams[index]!);
          svc.state.recordHealthCheckResult(name, { ...r, checked_at_ms: Date.now() });
          // A passing probe closes the breaker at once; a failing one leaves traffic's verdict alone.
          if (r.ok && svc.lbStore.reset(name, index, { models: false }) > 0) {
            this.log.info(`${svc.service} recovered: ${name}#${index} passed its health check; its cooldown is cleared`);
          }
          if (svc.state.isHealthCheckCancelRequested(name)) canceled = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.perConfig, upstreams.length) }, worker));
    } catch (e) {
      this.log.warn(`health check of ${name} failed: ${(e as Error).message}`);
    } finally {
      svc.state.finishHealthCheck(name, canceled);
      this.release();
    }
  }

  private async probe(svc: ProxyService, up: UpstreamConfig) {
    const started = Date.now();
    // Shown in the admin API and the tree: secret query values masked, as everywhere a URL is shown.
    const base_url = displayUrl(up.base_url);
    let url: string;
    try {
      url = probeUrl(up.base_url);
    } catch (e) {
      return { base_url, ok: false, error: `invalid base_url: ${(e as Error).message}` };
    }
    const auth = resolveUpstreamAuth(svc.service, up, { hasAuthorization: false, hasApiKey: false },
      svc.deps.env, svc.credentials, svc.deps.secrets);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth.token) headers['authorization'] = `Bearer ${auth.token}`;
    if (auth.apiKey) headers['x-api-key'] = auth.apiKey;
    if (svc.service === 'claude') headers['anthropic-version'] = '2023-06-01';
    try {
      const res = await simpleRequest(url, { headers, dispatcher: svc.deps.agent, timeoutMs: this.timeoutMs, maxBytes: 1024 * 1024 });
      const latency = Date.now() - started;
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { base_url, ok, status_code: res.statusCode, latency_ms: latency, error: ok ? undefined : `HTTP ${res.statusCode}` };
    } catch (e) {
      const msg = e instanceof SimpleRequestError && e.code === 'TIMEOUT' ? `timeout after ${this.timeoutMs} ms` : describeTransportError(e);
      return { base_url, ok: false, latency_ms: Date.now() - started, error: msg.length > 140 ? msg.slice(0, 139) + '…' : msg };
    }
  }
}
