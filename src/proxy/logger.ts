// The logging seam: the CLI writes to stderr, the extension to its LogOutputChannel.

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/** A logger writing timestamped lines through `write`, dropping lines below `level`. */
export function lineLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  const min = ORDER[level];
  const at = (l: LogLevel) => (msg: string) => {
    if (ORDER[l] >= min) write(`${new Date().toISOString()} ${l.toUpperCase().padEnd(5)} ${msg}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
