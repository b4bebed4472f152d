import pino from 'pino';

/**
 * Structured JSON logs (pino) on stderr; pretty when stderr is a terminal. The call shape is pino's:
 * `log.info({ ...fields }, 'message')`. Message contents, tokens, cookies and passwords are never passed to it,
 * and the usual places they could hide are redacted anyway.
 */
export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: string;
  base?: LogFields;
  /** Default: pretty when stderr is a terminal. */
  pretty?: boolean;
  /** A destination stream (tests); default stderr. */
  destination?: pino.DestinationStream;
  /** Shorthand for a destination: each JSON line is passed here. */
  write?: (line: string) => void;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level && LEVELS.has(options.level) ? options.level : 'info';
  const destination = options.destination ?? (options.write ? { write: options.write } : undefined);
  const pretty = options.pretty ?? (destination === undefined && process.stderr.isTTY === true);
  const config: pino.LoggerOptions = {
    level,
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', 'token', 'authorization', 'cookie', '*.password', '*.token', '*.authorization', '*.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
  };
  if (pretty) {
    return pino({ ...config, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(config, destination ?? pino.destination({ dest: 2, sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
