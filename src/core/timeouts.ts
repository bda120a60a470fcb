// Upstream timeouts: `[timeouts]` with an upstream's own `timeouts` over it, over the defaults below.
// Why these defaults (README "Timeouts"):
// - connect 10 s: a TCP/TLS handshake that takes longer is a dead or black-holed host, not a slow model.
// - stream first byte 120 s: a streaming answer sends its headers before the model thinks, so two minutes of
//   silence means a stuck relay; failing over then beats the client's own 5-minute idle timeout.
// - first byte 300 s: a non-streaming answer's headers come only with the whole answer, and reasoning models take
//   minutes; five minutes covers them and still ends a hung upstream long before the old 10-minute hold.
// - idle 300 s: reasoning models can think for minutes between two events; Codex itself gives up after 300 s.
import type { TimeoutsConfig, UpstreamConfig } from './types';

export interface ResolvedTimeouts {
  connect_ms: number;
  first_byte_ms: number;
  stream_first_byte_ms: number;
  idle_ms: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ResolvedTimeouts> = Object.freeze({
  connect_ms: 10_000,
  first_byte_ms: 300_000,
  stream_first_byte_ms: 120_000,
  idle_ms: 300_000,
});

/** The global `[timeouts]` over the defaults; 0 for a field means "no limit" (as undici reads it). */
export function resolveTimeouts(global: TimeoutsConfig | undefined): ResolvedTimeouts {
  return { ...DEFAULT_TIMEOUTS, ...defined(global) };
}

/** An upstream's own `timeouts` over the resolved global ones (the same object when it has none). */
export function upstreamTimeouts(global: ResolvedTimeouts, up: UpstreamConfig): ResolvedTimeouts {
  return up.timeouts ? { ...global, ...defined(up.timeouts) } : global;
}

/** Time allowed until the response headers of one request. */
export function firstByteMs(t: ResolvedTimeouts, streaming: boolean): number {
  return streaming ? t.stream_first_byte_ms : t.first_byte_ms;
}

function defined(t: TimeoutsConfig | undefined): TimeoutsConfig {
  const out: TimeoutsConfig = {};
  if (!t) return out;
  for (const [k, v] of Object.entries(t) as Array<[keyof TimeoutsConfig, number | undefined]>) if (v !== undefined) out[k] = v;
  return out;
}
