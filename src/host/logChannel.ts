// The proxy's Logger over the extension's LogOutputChannel, filtered by `codexHelper.log.level`.
import type * as vscode from 'vscode';
import type { Logger, LogLevel } from '../proxy/logger';
import { channelLines } from './logFormat';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/**
 * A Logger writing to `channel`, dropping lines below `level()` (read per line: the setting can change). A
 * multi-line message keeps its first line at its level; the details after it are written at debug only.
 */
export function channelLogger(channel: vscode.LogOutputChannel, level: () => LogLevel): Logger {
  const on = (l: LogLevel) => ORDER[l] >= ORDER[level()];
  const write = (l: Exclude<LogLevel, 'off'>, m: string) => {
    for (const line of channelLines(l, m)) if (on(line.level)) channel[line.level](line.text);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
