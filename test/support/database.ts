import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connectPool, databaseUrls, type DbOptions, type Sql } from '../../src/store/db.js';
import { runMigrationsDirect } from '../../src/store/migrate.js';

export interface TestDatabase {
  /** What the app's DATABASE_URL would be: the pooler's, in a run through PgBouncer (TEST_VIA_PGBOUNCER). */
  url: string;
  /** What DATABASE_DIRECT_URL would be (for LISTEN, the migrations): the server itself. Equals `url` otherwise. */
  directUrl: string;
  /** True in a run through PgBouncer. */
  pooled: boolean;
  sql: Sql;
  /** Runs as a superuser on the same server: for fault injection (pg_terminate_backend) and lock holding. */
  admin: Sql;
  /** Another pool on `url`, set up as the app sets up its own (no named prepared statements through the pooler). */
  connect(options?: Omit<DbOptions, 'prepare'>): Sql;
  drop(): Promise<void>;
}

export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh, migrated database on the run's server, dropped (with its connections) by drop(). */
export async function createTestDatabase(options: { max?: number; migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const pooledBase = inject('pooledDatabaseUrl');
  const name = `rc_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 2, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const urls = databaseUrls(databaseUrl(pooledBase ?? adminUrl, name), databaseUrl(adminUrl, name));
  const connect = (o: Omit<DbOptions, 'prepare'> = {}) => connectPool(urls, o);
  const sql = connect({ max: options.max ?? 10, applicationName: 'report-chat-test' });
  if (options.migrate !== false) await runMigrationsDirect(urls, sql);
  return {
    url: urls.url,
    directUrl: urls.directUrl,
    pooled: urls.pooled,
    sql,
    admin,
    connect,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}
