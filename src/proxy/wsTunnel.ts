// WebSocket upgrades (Codex tries `GET /v1/responses` with `Upgrade: websocket` against its built-in provider).
// The upgrade is tunnelled to the upstream the router picks, with the same URL rewrite and credentials as HTTP;
// when no upstream can take it the client gets an immediate error so it falls back to HTTP+SSE at once.
import type { IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { sessionIdFromHeaders } from '../core/session';
import type { Logger } from './logger';
import type { ProxyService } from './proxyService';
import { upstreamPath } from './targetUrl';
import { displayUrl } from '../core/urlMask';
import { injectCredentials, resolveCredentials } from './credentials';
import { upgradeRequestHeaders } from './headers';
import { recordFinished } from './requestRecord';
import type { RecordRoute } from './requestRecord';

// Codex falls back to HTTP+SSE at once only on 426; any other refusal costs it 7 upgrade attempts (~6.5 s) and
// a 400 is fatal. So every refusal, ours or the upstream's, reaches the client as 426.
const NO_WEBSOCKET = 426;
const MAX_UPGRADE_HEAD = 16 * 1024;
const UPGRADE_TIMEOUT_MS = 10_000;

/**
 * A tunnel with no bytes either way for this long is idle as far as a graceful stop is concerned (ProxyHost.stop):
 * it is closed at once instead of holding the stop for the whole grace period. Codex keeps its WebSocket open
 * between turns, so most tunnels a stop finds are idle; one still carrying an answer keeps the stop waiting.
 */
export const TUNNEL_QUIET_MS = 1000;

/** When each tunnel (both of its sockets share the record) last carried a byte, or began. */
const lastActivity = new WeakMap<Duplex, { at: number }>();

/** True when `socket` belongs to a tunnel that carried nothing for `TUNNEL_QUIET_MS` (or is not a tunnel's). */
export function tunnelQuiet(socket: Duplex, now = Date.now()): boolean {
  const a = lastActivity.get(socket);
  return !a || now - a.at >= TUNNEL_QUIET_MS;
}

function refuse(socket: Duplex, reason: string): void {
  const body = JSON.stringify({ error: { message: reason, type: 'websocket_unavailable' } });
  socket.end(
    `HTTP/1.1 ${NO_WEBSOCKET} Upgrade Required\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Tunnels one upgrade request to the chosen upstream, or refuses it at once. */
export function tunnelUpgrade(
  svc: ProxyService,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  log: Logger,
  track: Set<Duplex>,
): void {
  socket.on('error', () => socket.destroy());
  const activity = { at: Date.now() };
  const touch = () => {
    activity.at = Date.now();
  };
  lastActivity.set(socket, activity);
  track.add(socket);
  socket.once('close', () => track.delete(socket));
  const sid = sessionIdFromHeaders(req.headers);
  const startedAt = Date.now();
  const url0 = req.url ?? '/';
  const path0 = url0.split('?')[0] ?? '/';
  // A tunnel is recorded like any request: begun here, finished exactly once when it is refused or closes.
  const id = svc.state.beginRequest({ session_id: sid, method: 'GET', path: path0, started_at_ms: startedAt });
  let finished = false;
  let route: RecordRoute | undefined;
  let auth: ReturnType<typeof resolveCredentials> | undefined;
  const finish = (status: number, errorClass?: string) => {
    if (finished) return;
    finished = true;
    recordFinished(svc.deps, {
      id, method: 'GET', path: path0, status, startedAtMs: startedAt, endedAtMs: Date.now(), route, sessionId: sid, errorClass,
      auth: auth && { authorization: auth.authorization, x_api_key: auth.x_api_key },
    });
  };
  let opened = false;
  socket.once('close', () => (opened ? finish(101, 'websocket') : finish(NO_WEBSOCKET, 'websocket_refused')));
  const refuseAndFinish = (reason: string) => {
    refuse(socket, reason);
    finish(NO_WEBSOCKET, 'websocket_refused');
  };
  const choice = svc.choose(sid);
  const cfg = choice.configs[0];
  const idx = cfg ? svc.lbStore.balancer(cfg).select(new Set(), false) : undefined;
  const up = cfg && idx !== undefined ? cfg.upstreams[idx] : undefined;
  if (!cfg || !up) return refuseAndFinish('no upstream available for a WebSocket; use HTTP');
  // A tunnel is a blind pipe: model mapping, model filters, effort overrides and body filters cannot apply to
  // its frames. When any of them would, refuse so the client uses HTTP, where they do.
  if (Object.keys(up.model_mapping).length > 0 || Object.keys(up.supported_models).length > 0) {
    return refuseAndFinish(`config '${cfg.name}' maps or filters models, which needs HTTP; use HTTP`);
  }
  if (sid !== undefined && svc.state.getSessionEffort(sid) !== undefined) {
    return refuseAndFinish('this session has a reasoning-effort override, which needs HTTP; use HTTP');
  }
  if (svc.deps.filter.ruleCount > 0) return refuseAndFinish('request filters (filter.json) need HTTP; use HTTP');
  route = { config: cfg.name, provider: up.tags['provider_id'], base: displayUrl(up.base_url) };
  svc.state.updateRequestRoute(id, cfg.name, up.tags['provider_id'], route.base);
  let target: URL;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  try {
    target = new URL(up.base_url);
    target = new URL(upstreamPath(up.base_url, q < 0 ? url : url.slice(0, q), q < 0 ? '' : url.slice(q + 1)), target.origin);
  } catch {
    return refuseAndFinish(`invalid base_url for ${cfg.name}`);
  }
  auth = resolveCredentials(svc.deps, up, req.headers);
  if (auth.invalid !== undefined) return refuseAndFinish(`${auth.invalid}; use HTTP`);
  // The same header rules and credential injection as an HTTP request (headers.ts, credentials.ts).
  const headers = upgradeRequestHeaders(req.headers);
  injectCredentials(headers, auth);
  const lines = [`GET ${target.pathname}${target.search} HTTP/1.1`, `host: ${target.host}`];
  for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  const upstreamSocket: Duplex = target.protocol === 'https:'
    ? tlsConnect({ host: target.hostname, port, servername: target.hostname, ALPNProtocols: ['http/1.1'] })
    : netConnect({ host: target.hostname, port });
  let connected = false;
  // pending until the upstream answers the upgrade; only an open tunnel is torn down with the upstream.
  let phase: 'pending' | 'open' | 'refused' = 'pending';
  const refuseOnce = (reason: string) => {
    if (phase !== 'pending') return;
    phase = 'refused';
    refuseAndFinish(reason);
  };
  // Bounds the whole upgrade (connect and answer): an upstream that accepts and never answers is refused too.
  const timer = setTimeout(() => {
    if (phase !== 'pending') return;
    refuseOnce('upstream did not answer the WebSocket upgrade in time; use HTTP');
    upstreamSocket.destroy();
  }, UPGRADE_TIMEOUT_MS);
  upstreamSocket.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    connected = true;
    upstreamSocket.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstreamSocket.write(head);
    awaitUpgradeAnswer(upstreamSocket, (status, buffered) => {
      clearTimeout(timer);
      if (phase !== 'pending') return;
      if (status === 101) {
        phase = 'open';
        opened = true;
        socket.write(buffered);
        touch();
        upstreamSocket.on('data', touch);
        socket.on('data', touch);
        upstreamSocket.pipe(socket);
        socket.pipe(upstreamSocket);
        return;
      }
      log.info(`${svc.service} websocket: ${target.host} answered ${status ?? 'garbage'} to the upgrade; told the client 426`);
      refuseOnce(`upstream answered ${status ?? 'an unreadable response'} to the WebSocket upgrade; use HTTP`);
      upstreamSocket.destroy();
    });
  });
  upstreamSocket.on('error', (e) => {
    clearTimeout(timer);
    log.warn(`${svc.service} websocket tunnel to ${target.host}: ${e.message}`);
    if (phase === 'open') socket.destroy();
    else refuseOnce(`upstream ${connected ? 'failed' : 'unreachable'} for WebSocket: ${e.message}`);
  });
  // Tunnels are not half-closed: whichever side ends first ends both (server sockets are allowHalfOpen).
  lastActivity.set(upstreamSocket, activity);
  track.add(upstreamSocket);
  const closeBoth = () => {
    if (phase === 'open') socket.destroy();
    else refuseOnce('upstream closed the connection during the WebSocket upgrade; use HTTP');
    upstreamSocket.destroy();
  };
  socket.once('end', closeBoth);
  socket.once('close', closeBoth);
  upstreamSocket.once('end', closeBoth);
  upstreamSocket.once('close', () => {
    track.delete(upstreamSocket);
    if (phase === 'open') socket.destroy();
    else if (connected) refuseOnce('upstream closed the connection during the WebSocket upgrade; use HTTP');
  });
}

/** Reads the upstream's answer head; calls back once with its status (undefined if unreadable) and the bytes read. */
function awaitUpgradeAnswer(upstream: Duplex, done: (status: number | undefined, buffered: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const onData = (c: Buffer) => {
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    if (buf.indexOf('\r\n\r\n') < 0 && buf.length < MAX_UPGRADE_HEAD) return;
    upstream.off('data', onData);
    upstream.pause();
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(buf.length, 64)));
    done(m ? Number(m[1]) : undefined, buf);
  };
  upstream.on('data', onData);
}
