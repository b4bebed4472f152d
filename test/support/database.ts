import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connect, type Sql } from '../../src/store/db.js';
import { runMigrations } from '../../src/store/migrate.js';

export interface TestDatabase {
  url: string;
  sql: Sql;
  /** Runs as a superuser on the same server: for fault injection (pg_terminate_backend) and lock holding. */
  admin: Sql;
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
  const name = `rc_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 2, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = databaseUrl(adminUrl, name);
  const sql = connect(url, { max: options.max ?? 10, applicationName: 'report-chat-test' });
  if (options.migrate !== false) await runMigrations(sql);
  return {
    url,
    sql,
    admin,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}
