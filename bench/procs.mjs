// Process plumbing for the benchmark: pinned child processes, /proc readings (CPU ticks, RSS, open fds), the
// proxy's temporary home and the optional nginx reference. Linux only for the /proc parts; elsewhere the
// readings come back as NaN and the benchmark still runs.
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORES = cpus().length;
const HAS_TASKSET = CORES >= 2 && whichSync('taskset') !== undefined;
let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep the usual 100 */
}

/** Absolute path of `cmd` on PATH (or in /usr/sbin, /sbin), or undefined. */
export function whichSync(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return undefined;
}

/** How processes are placed on cores (printed and stored with the results). */
export function pinningPlan() {
  if (!HAS_TASKSET) return { pinned: false, note: `${CORES} core(s) or no taskset: processes are not pinned` };
  return { pinned: true, proxyCore: 1, clientCore: 0, note: 'proxy/nginx on core 1; mock + load generator on core 0' };
}

/** Spawns `cmd args` pinned to `core` when pinning is available; `ipc` adds a message channel. */
export function spawnPinned(core, cmd, args, { env, ipc = false, cwd } = {}) {
  const stdio = ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])];
  const [c, a] = HAS_TASKSET && core !== undefined ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
  return spawn(c, a, { stdio, env: env ?? process.env, cwd });
}

/** Resolves with the first regex match on the child's stdout (or rejects on exit / timeout). */
export function waitForLine(child, re, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    let errBuf = '';
    const timer = setTimeout(() => done(new Error(`timeout waiting for ${re} (stderr: ${errBuf.slice(-500)})`)), timeoutMs);
    const onOut = (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) done(undefined, m);
    };
    const onErr = (d) => {
      errBuf += d;
      if (errBuf.length > 4000) errBuf = errBuf.slice(-2000);
    };
    const onExit = (code) => done(new Error(`process exited (${code}) before ${re}: ${errBuf.slice(-500)}`));
    function done(err, m) {
      clearTimeout(timer);
      child.stdout.off('data', onOut);
      child.stderr.off('data', onErr);
      child.off('exit', onExit);
      // Keep draining so a chatty child never blocks on a full pipe.
      child.stdout.resume();
      child.stderr.resume();
      if (err) reject(err);
      else resolve(m);
    }
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', onOut);
    child.stderr.on('data', onErr);
    child.once('exit', onExit);
  });
}

/** User+system CPU of a process in milliseconds (all its threads), NaN when unreadable. */
export function cpuMs(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields after the comm: state is index 0, utime is field 14 overall → index 11, stime → 12.
    return ((Number(f[11]) + Number(f[12])) * 1000) / clkTck;
  } catch {
    return NaN;
  }
}

/**
 * CPU time of every thread of a process in milliseconds from the scheduler's per-thread counters (nanoseconds,
 * where `cpuMs` has clock ticks): for comparisons of a few percent. Threads that ended meanwhile are not counted.
 */
export function threadCpuMs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* a thread that ended */
    }
  }
  return ns / 1e6;
}

/** Resident set size in MB, NaN when unreadable. */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of a process: total and sockets. */
export function fdCounts(pid) {
  try {
    const dir = `/proc/${pid}/fd`;
    let sockets = 0;
    const names = readdirSync(dir);
    for (const n of names) {
      try {
        if (readlinkSync(join(dir, n)).startsWith('socket:')) sockets++;
      } catch {
        /* closed while we looked */
      }
    }
    return { total: names.length, sockets };
  } catch {
    return { total: NaN, sockets: NaN };
  }
}

/** Writes a codex-helper home whose codex and claude configs point at the mock. */
export function writeProxyHome(dir, mockPort) {
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(dir, 'codex-home'), { recursive: true });
  mkdirSync(join(dir, 'claude-home'), { recursive: true });
  writeFileSync(join(dir, 'config.toml'), `version = 1

[codex]
active = "main"
[codex.configs.main]
[[codex.configs.main.upstreams]]
base_url = "http://127.0.0.1:${mockPort}/v1"
# Only requests for "gpt-5" are rewritten; the plain scenarios ask for "gpt-5-codex".
[codex.configs.main.upstreams.model_mapping]
"gpt-5" = "gpt-5-mapped"

[claude]
active = "main"
[claude.configs.main]
[[claude.configs.main.upstreams]]
base_url = "http://127.0.0.1:${mockPort}"
`);
  return {
    ...process.env,
    CODEX_HELPER_HOME: dir,
    CODEX_HOME: join(dir, 'codex-home'),
    CLAUDE_HOME: join(dir, 'claude-home'),
    OPENAI_API_KEY: '',
    ANTHROPIC_API_KEY: '',
  };
}

/** Writes a plain nginx reverse proxy config (keep-alive upstream, no response buffering); returns its path. */
export function writeNginxConf(dir, port, mockPort) {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
master_process off;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${join(dir, 'tmp')};
  proxy_temp_path ${join(dir, 'tmp')};
  fastcgi_temp_path ${join(dir, 'tmp')};
  uwsgi_temp_path ${join(dir, 'tmp')};
  scgi_temp_path ${join(dir, 'tmp')};
  client_max_body_size 20m;
  client_body_buffer_size 4m;
  keepalive_requests 100000;
  upstream mock {
    server 127.0.0.1:${mockPort};
    keepalive 64;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`);
  return conf;
}

/** JSON-over-HTTP for the admin API; `connection: close` so no keep-alive socket skews the fd count. */
export async function httpJson(port, method, path, body) {
  const { request } = await import('node:http');
  const data = body ? Buffer.from(JSON.stringify(body)) : undefined;
  return new Promise((resolve, reject) => {
    const headers = { connection: 'close', ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) };
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * A temp directory and a list of child processes for a bench tool, both cleaned up when this process exits (the
 * directory best effort: a proxy may still be writing its last log lines).
 */
export function scratch(prefix) {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const children = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  });
  process.on('SIGINT', () => process.exit(130));
  return { tmp, children };
}

/**
 * Starts each target — a build's directory holding `cli.js` (`codex-helper serve --service codex`, its own home in
 * `tmp`) or `floor` (floorProxy.mjs) — on core 1 in front of the upstream at `upstreamPort`; `nodeArgs` go to node
 * before the script (V8 flags) for every target, and a target's own after `@` (`dist@--max-semi-space-size=8`).
 */
export async function startTargets(targets, upstreamPort, { tmp, children }, nodeArgs = []) {
  const here = dirname(fileURLToPath(import.meta.url));
  const started = [];
  for (const name of targets) {
    const [t, ...own] = name.split('@');
    const args = [...nodeArgs, ...own];
    const port = await freePort();
    const child = t === 'floor'
      ? spawnPinned(1, process.execPath, [...args, join(here, 'floorProxy.mjs'), String(upstreamPort), String(port)], { cwd: here })
      : spawnPinned(1, process.execPath, [...args, join(resolve(t), 'cli.js'), 'serve', '--service', 'codex', '--port', String(port)],
        { env: writeProxyHome(mkdtempSync(join(tmp, 'home-')), upstreamPort), cwd: tmp });
    children.push(child);
    await waitForLine(child, /listening on/);
    started.push({ name, port, pid: child.pid, child });
  }
  return started;
}

/**
 * The bench's spaced-SSE load, as the side-by-side tools run it: 20 Responses events 5 ms apart per stream, a 2 KB
 * request body, 16 streams at a time.
 */
export const SPACED_SSE = Object.freeze({ kind: 'responses', model: 'gpt-5-codex', bytes: 2048, warmup: 0,
  path: '/v1/responses?sse=20&gap=5', stream: true, concurrency: 16 });

/** The side-by-side tools' JIT warm-up of each started target: 3,000 JSON requests, then 64 spaced streams. */
export async function warmForSpacedSse(lg, started) {
  for (const t of started) {
    await lg.run({ ...SPACED_SSE, path: '/v1/responses', stream: false, concurrency: 8, requests: 3000, port: t.port });
    await lg.run({ ...SPACED_SSE, requests: 64, port: t.port });
  }
}

/** Starts the mock upstream (`mock.mjs`) on core 0; its process joins `children`. */
export async function startMock({ children }) {
  const child = spawnPinned(0, process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'mock.mjs'), '0'], { ipc: true });
  children.push(child);
  const m = await waitForLine(child, /mock listening on (\d+)/);
  return { child, port: Number(m[1]) };
}

/** A free loopback port (bound and released). */
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Forks the load generator (`loadgen.mjs`), pinned to core 0 when pinning is possible; `onChild` gets the process
 * (for clean-up). Returns it with `run(spec)`, which resolves with the generator's result for that spec.
 */
export async function startLoadgen(onChild) {
  const c = fork(join(dirname(fileURLToPath(import.meta.url)), 'loadgen.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  onChild?.(c);
  await new Promise((res, rej) => {
    c.once('message', (m) => (m?.ready ? res() : rej(new Error('loadgen did not start'))));
    c.once('exit', (code) => rej(new Error(`loadgen exited ${code}`)));
  });
  // fork() cannot go through taskset; pin the running process (all threads) instead.
  if (pinningPlan().pinned) spawnPinned(undefined, 'taskset', ['-a', '-p', '-c', '0', String(c.pid)]).stdout.resume();
  let next = 0;
  const pending = new Map();
  c.on('message', (m) => {
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  return {
    child: c,
    run: (spec) => new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      c.send({ id, cmd: 'run', spec });
    }),
  };
}
