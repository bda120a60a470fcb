// Free loopback ports for the e2e runners (fixed ports collide with other work on the machine).
import { createServer } from 'node:net';

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** `n` different free ports on 127.0.0.1. */
export async function distinctPorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
