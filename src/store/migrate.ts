import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { connect, type DatabaseUrls, type Sql } from './db.js';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
// An arbitrary constant naming report-chat's migration lock among the database's advisory locks.
const MIGRATION_LOCK_KEY = 7_310_421_907;

/**
 * Applies the drizzle-kit migrations, holding a session advisory lock on one connection so that instances
 * starting at the same moment run them one after another; the later ones find nothing left to do.
 *
 * The bookkeeping is drizzle's own (the `drizzle.__drizzle_migrations` table, a migration applied when its journal
 * `when` is later than the newest one recorded), read here rather than by drizzle's migrator: that one reads the
 * `created_at` column through our pool, whose camelCase column transform renames it, so it saw no migration
 * recorded as a number and applied nothing new to a database that already had some.
 */
export async function runMigrations(sql: Sql): Promise<void> {
  const migrations = migrationFiles();
  const lock = await sql.reserve();
  try {
    await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await ensureMigrationTable(sql);
      const [last] = await sql<{ createdAt: number | null }[]>`
        SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1`;
      const pending = migrations.filter((m) => !last || Number(last.createdAt) < m.folderMillis);
      if (pending.length === 0) return;
      await applyMigrations(sql, pending);
    } finally {
      await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    lock.release();
  }
}

/** drizzle's bookkeeping of the migrations applied. */
export async function ensureMigrationTable(sql: Sql): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS drizzle`;
  await sql`CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`;
}

/** The migrations files, in order (drizzle's journal). */
export const migrationFiles = () => readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });

/**
 * Applies `migrations` in one transaction and records each as drizzle does; ensureMigrationTable first (the
 * caller holds the migration lock, or owns the database alone).
 */
export async function applyMigrations(sql: Sql, migrations: ReturnType<typeof migrationFiles>): Promise<void> {
  await sql.begin(async (tx) => {
    for (const migration of migrations) {
      for (const statement of migration.sql) await tx.unsafe(statement);
      await tx`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (${migration.hash}, ${migration.folderMillis})`;
    }
  });
}

/**
 * The migrations on a session of their own: through `pool` when it talks to the database directly; otherwise on a
 * short-lived direct connection, since a session advisory lock taken through a transaction-mode pooler stays on
 * whichever server connection ran it, and the unlock may run on another (the next start would wait forever).
 */
export async function runMigrationsDirect(urls: DatabaseUrls, pool: Sql): Promise<void> {
  if (!urls.pooled) return runMigrations(pool);
  const direct = connect(urls.directUrl, { max: 2, applicationName: 'report-chat migrate' });
  try {
    await runMigrations(direct);
  } finally {
    await direct.end({ timeout: 5 });
  }
}
