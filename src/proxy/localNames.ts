// The names this machine answers to when a listener binds every interface (remote mode's Host allowlist).
import { hostname, networkInterfaces } from 'node:os';

/** Every interface address and the host name (with and without its domain). */
export function localNames(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.replace(/%.*$/, ''));
  const h = hostname().toLowerCase();
  if (h) {
    out.add(h);
    out.add(h.split('.')[0]!);
  }
  return [...out];
}
