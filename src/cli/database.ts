import type { Config } from '../config/config.js';
import { connectPool, databaseUrls, type Sql } from '../store/db.js';
import { runningEmbeddedUrl, startEmbeddedPostgres } from '../store/embedded-postgres.js';
import { runMigrationsDirect } from '../store/migrate.js';

/**
 * Runs `fn` against the configured database: DATABASE_URL; else the embedded server of DATA_DIR — the one a
 * running `report-chat serve` holds (we talk to it rather than fight over the directory), or one started just for
 * this command and stopped after it. Migrations are applied first (under their lock), so commands never meet an
 * old schema.
 */
export async function withDatabase<T>(config: Config, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const running = config.databaseUrl ? undefined : runningEmbeddedUrl(config.dataDir);
  const embedded = config.databaseUrl || running ? undefined : await startEmbeddedPostgres(config.dataDir);
  const url = config.databaseUrl ?? running ?? embedded!.url;
  const urls = databaseUrls(url, config.databaseUrl ? config.databaseDirectUrl : undefined);
  const sql = connectPool(urls, { max: 4, applicationName: 'report-chat cli' });
  try {
    await runMigrationsDirect(urls, sql);
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
    await embedded?.stop();
  }
}
