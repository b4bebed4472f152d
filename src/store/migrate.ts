import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Sql } from './db.js';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
// An arbitrary constant naming report-chat's migration lock among the database's advisory locks.
const MIGRATION_LOCK_KEY = 7_310_421_907;

/**
 * Applies the drizzle-kit migrations, holding a session advisory lock on one connection so that instances
 * starting at the same moment run them one after another; the later ones find nothing left to do.
 */
export async function runMigrations(sql: Sql): Promise<void> {
  const lock = await sql.reserve();
  try {
    await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    lock.release();
  }
}
