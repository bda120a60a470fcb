// Is a codex-helper already serving this port? Asks the admin contract's capabilities path, which only a
// codex-helper answers with 200 (another program on the port answers something else, or nothing).
import * as http from 'node:http';
import { ADMIN_PREFIX, CAPABILITIES_PATH } from '../core/adminContract';

/** Whether a codex-helper proxy answers its capabilities route on host:port (800 ms budget). */
export function isProxyListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: ADMIN_PREFIX + CAPABILITIES_PATH, agent: false }, (res) => {
      clearTimeout(timer);
      res.resume();
      res.on('end', () => req.destroy());
      resolve(res.statusCode === 200);
    });
    // An explicit destroy (not an unref'd AbortSignal timer) so a peer that accepts and never answers is let go.
    const timer = setTimeout(() => {
      req.destroy();
      resolve(false);
    }, 800);
    req.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
