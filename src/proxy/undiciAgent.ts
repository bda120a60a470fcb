// Loads undici's Agent by its file path instead of the package entry, on purpose (ARCHITECTURE.md "undici").
// Measured with esbuild 0.28 / undici 7.30.2: the public `import { Agent } from 'undici'` makes dist/proxyWorker.js
// 1.44 MB instead of 0.82 MB (0.74 vs 0.49 MB minified) and costs ~8.5 MB RSS and ~80 ms at load, for fetch, mocks
// and caches we never use. The path is not public API, so it must never break silently: esbuild fails the build if
// the file moves, `test/unit/undiciAgent.test.ts` checks it is still the package's Agent, and this guard throws a
// clear error at load instead of a TypeError on the first request. package.json pins undici to an exact version.
import type { Agent as AgentClass } from 'undici';

export const UNDICI_AGENT_PATH = 'undici/lib/dispatcher/agent.js';

/** Raised when the installed undici no longer ships its Agent at `UNDICI_AGENT_PATH`. */
export class UndiciLayoutError extends Error {
  readonly code = 'UNDICI_LAYOUT';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`undici's Agent is not at ${UNDICI_AGENT_PATH} (${detail}); update src/proxy/undiciAgent.ts for this undici version`, options);
    this.name = 'UndiciLayoutError';
  }
}

/** Checks what the deep path exported and returns it as the Agent class. */
export function asAgentClass(mod: unknown): typeof AgentClass {
  const ctor = typeof mod === 'function' ? mod : (mod as { Agent?: unknown } | null)?.Agent;
  if (typeof ctor !== 'function' || typeof (ctor.prototype as { dispatch?: unknown } | undefined)?.dispatch !== 'function') {
    throw new UndiciLayoutError(`it exports ${typeof mod === 'function' ? 'a function without dispatch()' : typeof mod}`);
  }
  return ctor as typeof AgentClass;
}

function load(): typeof AgentClass {
  let mod: unknown;
  try {
    // A literal path so esbuild bundles (and resolves, or fails the build on) exactly this file.
    mod = require('undici/lib/dispatcher/agent.js');
  } catch (err) {
    throw new UndiciLayoutError('require failed', { cause: err });
  }
  return asAgentClass(mod);
}

/** undici's Agent class (the same class the package exports as `Agent`). */
export const Agent: typeof AgentClass = load();
