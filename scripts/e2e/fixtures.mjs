// Hook for e2e test authors: runs before code-server starts, after the temp root exists.
// ctx: { root, home, userDataDir, extensionsDir, workspace, logs, env, settings } (env = knobs the extension host
// will see, settings = user settings.json about to be written). Write files (e.g. a codex-helper config under
// ctx.env.CODEX_HELPER_HOME) and return { settings?, env? } to add user settings / environment variables.
//
// This one: a fake upstream (in the harness process, on 127.0.0.1:0) answering the Responses and Messages APIs and
// echoing the credential it got, and a codex-helper config with codex configs main (two upstreams), backup, relay
// (a failing and a working upstream, for failover and cooldowns) and spare (a rejected key that is also missing).
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Starts the fake upstream on `host`; it answers until the harness exits (unref'd, never keeps it alive). */
function startFakeUpstream(host = '127.0.0.1') {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const auth = req.headers['authorization'] ?? req.headers['x-api-key'] ?? null;
      let body;
      // /cool/… always fails (a relay that is down), /auth/… rejects its key, also on health probes.
      if (url.startsWith('/cool/')) {
        const text = JSON.stringify({ error: { message: 'relay overloaded, try later', type: 'server_error' } });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (url.startsWith('/auth/')) {
        const text = JSON.stringify({ error: { message: 'invalid api key', type: 'authentication_error' } });
        res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (url.endsWith('/models')) body = { object: 'list', data: [{ id: 'gpt-5' }] };
      else if (url.includes('/messages')) body = { id: 'msg_e2e', type: 'message', role: 'assistant', model: 'claude-e2e', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 4, output_tokens: 2 }, echo_auth: auth };
      else body = { id: 'resp_e2e', object: 'response', model: 'gpt-5', output: [], usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 }, echo_auth: auth, path: url };
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.unref();
      resolve(`http://${host}:${server.address().port}`);
    });
  });
}

/** Writes the codex-helper config, starts the fake upstream and mirrors the port settings as machine settings. */
export async function prepare(_root, ctx) {
  const upstream = await startFakeUpstream();
  // A second host (all of 127/8 is loopback on Linux) so relay's two upstreams get short, distinct labels.
  const upstream2 = await startFakeUpstream('127.0.0.2');
  const home = ctx.env.CODEX_HELPER_HOME;
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.toml'), `version = 1

[codex]
active = "main"

[codex.configs.main]
alias = "Main"
level = 1
[[codex.configs.main.upstreams]]
base_url = "${upstream}/a/v1"
auth = { auth_token_secret = "e2e-key" }
tags = { provider_id = "fake-a" }
[[codex.configs.main.upstreams]]
base_url = "${upstream}/b/v1"
auth = { auth_token = "sk-inline-e2e" }
tags = { provider_id = "fake-b" }

[codex.configs.backup]
level = 2
[[codex.configs.backup.upstreams]]
base_url = "${upstream}/c/v1"
auth = { auth_token = "sk-inline-e2e" }

[codex.configs.relay]
alias = "Relay"
level = 3
[[codex.configs.relay.upstreams]]
base_url = "${upstream}/cool/v1"
auth = { auth_token = "sk-inline-e2e" }
tags = { provider_id = "relay-down" }
[[codex.configs.relay.upstreams]]
base_url = "${upstream2}/r2/v1"
auth = { auth_token = "sk-inline-e2e" }
tags = { provider_id = "relay-ok" }

[codex.configs.spare]
level = 4
[[codex.configs.spare.upstreams]]
base_url = "${upstream}/auth/v1"
auth = { auth_token_env = "E2E_MISSING_KEY" }

[claude]
active = "cl"
[claude.configs.cl]
[[claude.configs.cl.upstreams]]
base_url = "${upstream}/claude"
auth = { api_key = "sk-ant-e2e" }

[pricing."gpt-5*"]
input = 1250
output = 10000
as_of = "2026-01-01"
source = "e2e fixture (inflated so small test usage shows cents)"

[retry]
# A cooled upstream stays cooling for the whole UI run, so its state can be seen and screenshotted.
transport_cooldown_secs = 600
`);
  // The port settings are machine-scoped: in a remote window (code-server is one) VS Code reads those from the
  // machine settings file, not from user settings.
  const machine = join(ctx.userDataDir, 'Machine');
  mkdirSync(machine, { recursive: true });
  writeFileSync(join(machine, 'settings.json'), JSON.stringify({
    'codexHelper.codex.port': ctx.settings['codexHelper.codex.port'],
    'codexHelper.claude.port': ctx.settings['codexHelper.claude.port'],
  }, null, 2));
  return { env: { E2E_UPSTREAM_URL: upstream } };
}
