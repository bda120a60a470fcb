// Markdown for tooltips: escaping of untrusted text (upstream errors, file names) and command links. The tree and
// the status bar render these with a MarkdownString trusted for exactly the commands in `TOOLTIP_COMMANDS`.
import { CMD } from './constants';

/** Commands a tooltip link may run; anything else in a link stays inert. */
export const TOOLTIP_COMMANDS: readonly string[] = [
  CMD.setUpstreamApiKey, CMD.checkConfigHealth, CMD.runHealthChecks, CMD.resetCooldown, CMD.openConfigAt, CMD.openConfigFile,
  CMD.pinConfig, CMD.unpinConfig, CMD.connectCodex, CMD.disconnectCodex, CMD.connectClaude, CMD.disconnectClaude,
  CMD.startProxy, CMD.showLog, CMD.showRecentRequests, CMD.listenerFixes,
];

/** Escapes Markdown (and HTML) so untrusted text shows literally. */
export function md(text: string): string {
  // Only what can start emphasis, code, links, HTML or tables mid-line; lines of ours never start with raw text.
  return text.replace(/[\\`*_[\]<>|~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** Inline code for a value (backticks in it cannot end the span early). */
export function code(text: string): string {
  const t = text.replace(/`/g, "'").replace(/\r?\n/g, ' ');
  return `\`${t}\``;
}

/** `[title](command:id?args)`: a link running one of our commands with JSON arguments. */
export function cmdLink(title: string, command: string, arg?: unknown): string {
  const q = arg === undefined ? '' : `?${encodeURIComponent(JSON.stringify([arg]))}`;
  return `[${md(title)}](command:${command}${q})`;
}

/** Joins the action links of a tooltip into one line. */
export function actions(links: ReadonlyArray<string | undefined>): string {
  return links.filter((l): l is string => !!l).join(' · ');
}
