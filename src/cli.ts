import { CommanderError } from 'commander';
import { buildProgram, CliError } from './cli/commands.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './log/logger.js';
import { startServer } from './server.js';

/** `report-chat serve` (the default): the whole service on its embedded defaults or on DATABASE_URL. */
async function serveCommand(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'report-chat' } });
  const server = await startServer({ config, log, announce: (text) => process.stdout.write(`\n${text}\n\n`) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Bounded: answers get a grace period of 10 s, saving and closing the rest (retried while the database is
    // unreachable) some seconds more.
    setTimeout(() => {
      log.error({ signal }, 'shutdown took too long; exiting');
      process.exit(1);
    }, 60_000).unref();
    server
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  // Ours replace any SIGINT/SIGTERM handler a library registered (one that stops the database at once), to stop the
  // HTTP server and let answers finish first, then stop the database. Only the listeners process.listeners()
  // shows are removed: under tsx, a hidden one tells the tsx parent that we got the signal (without it, the parent
  // relays the signal and SIGKILLs us 30 ms later, leaving the embedded database running).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
    process.on(signal, () => stop(signal));
  }
}

function fail(message: string, code: number): never {
  process.stderr.write(`report-chat: ${message}\n`);
  process.exit(code);
}

const program = buildProgram(serveCommand);
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof ConfigError) fail(err.message, 2);
  if (err instanceof CliError) fail(err.message, err.exitCode);
  fail(err instanceof Error ? err.message : String(err), 1);
});
