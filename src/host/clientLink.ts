// Where Codex and Claude Code point right now, read from their own settings files (never written here), so the
// tree can say "connected", "not connected" or "points at another port". No `vscode` here.
import { claudeHomeDir, claudeSwitchStatus, codexHomeDir, codexSwitchStatus } from '../core/clientSwitch';
import type { ServiceName } from '../core/types';
import type { ClientLink } from './treeModel';

/** Reads the client file of `service`; a file that cannot be parsed becomes `error`, never a throw. */
export function readClientLink(service: ServiceName, env: NodeJS.ProcessEnv): ClientLink {
  const st = service === 'codex' ? codexSwitchStatus(codexHomeDir(env)) : claudeSwitchStatus(claudeHomeDir(env));
  const link: ClientLink = { file: st.file, enabled: st.enabled };
  if (st.port !== undefined) link.port = st.port;
  // A parse error is reported through the message (switchStatus catches it); "not switched" messages are normal.
  if (!st.enabled && /not valid|must hold|is not an object|cannot be edited/.test(st.message)) link.error = st.message;
  return link;
}
