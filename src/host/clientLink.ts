// Where Codex and Claude Code point right now, read from their own settings files (never written here), so the
// tree can say "connected", "not connected" or "points at another port". No `vscode` here.
import { claudeHomeDir, claudeSwitchStatus, codexHomeDir, codexSwitchStatus, proxyBaseUrl } from '../io/clientSwitch';
import type { ServiceName } from '../core/types';
import type { ClientLink } from './treeModel';
import { serviceTitle } from './treeModel';
import { t } from './l10n';

/**
 * Reads the client file of `service`; a file that cannot be parsed becomes `error`, never a throw. For Claude Code,
 * `vscodeBaseUrl` reads what the Claude Code extension for VS Code is told (its own setting).
 */
export function readClientLink(service: ServiceName, env: NodeJS.ProcessEnv, vscodeBaseUrl?: () => string | undefined): ClientLink {
  const st = service === 'codex' ? codexSwitchStatus(codexHomeDir(env)) : claudeSwitchStatus(claudeHomeDir(env));
  const link: ClientLink = { file: st.file, enabled: st.enabled };
  const fromVsCode = service === 'claude' ? vscodeBaseUrl?.() : undefined;
  if (fromVsCode) link.vscodeBaseUrl = fromVsCode;
  if (st.port !== undefined) link.port = st.port;
  // A parse error is reported through the message (switchStatus catches it); "not switched" messages are normal.
  if (!st.enabled && /not valid|must hold|is not an object|cannot be edited/.test(st.message)) link.error = st.message;
  return link;
}

/** What Connect changes in a client's file, shown before it is edited. */
export function connectChanges(service: ServiceName, file: string, port: number): { message: string; detail: string } {
  const url = proxyBaseUrl(port);
  const lines = service === 'codex'
    ? ['model_provider = "codex_proxy"', '[model_providers.codex_proxy]', `base_url = "${url}"`,
      'name = "codex-helper", wire_api = "responses"', t('request_max_retries = 0 (only if you set none)')]
    : [`env.ANTHROPIC_BASE_URL = "${url}"`];
  return {
    message: t('Connect {0} to the proxy?', serviceTitle(service)),
    detail: t('This edits {0}:\n\n{1}\n\nComments and other keys are kept and a backup is made; Disconnect restores the file.', file, lines.join('\n')),
  };
}
