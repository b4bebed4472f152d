/**
 * Structured JSON lines on stderr, with pino's call shape (`log.info({ ...fields }, 'message')`), so the
 * output can be read by any log pipeline. Message contents and secrets are never passed to it.
 */
export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(fields: LogFields): Logger;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 } as const;
type Level = keyof typeof LEVELS;

function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return { type: err.name, message: err.message, code, stack: err.stack, cause: serializeError(err.cause) };
}

export function createLogger(options: { level?: string; base?: LogFields; write?: (line: string) => void } = {}): Logger {
  const level: Level = (options.level && options.level in LEVELS ? options.level : 'info') as Level;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const make = (base: LogFields): Logger => {
    const emit = (at: Exclude<Level, 'silent'>) => (fields: LogFields, msg: string) => {
      if (LEVELS[at] < LEVELS[level]) return;
      const record: LogFields = { level: at, time: new Date().toISOString(), ...base, ...fields, msg };
      if ('err' in record) record.err = serializeError(record.err);
      write(`${JSON.stringify(record)}\n`);
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.base ?? {});
}

export const silentLogger = createLogger({ level: 'silent' });
