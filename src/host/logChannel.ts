// The proxy's Logger over the extension's LogOutputChannel, filtered by `codexHelper.log.level`.
import type * as vscode from 'vscode';
import type { Logger, LogLevel } from '../proxy/logger';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/** A Logger writing to `channel`, dropping lines below `level()` (read per line: the setting can change). */
export function channelLogger(channel: vscode.LogOutputChannel, level: () => LogLevel): Logger {
  const on = (l: LogLevel) => ORDER[l] >= ORDER[level()];
  return {
    debug: (m) => on('debug') && channel.debug(m),
    info: (m) => on('info') && channel.info(m),
    warn: (m) => on('warn') && channel.warn(m),
    error: (m) => on('error') && channel.error(m),
  };
}
