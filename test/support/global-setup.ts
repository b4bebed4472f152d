import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { startPgBouncer, type PgBouncer } from './pgbouncer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** Set with TEST_VIA_PGBOUNCER=1: the same server through PgBouncer in transaction mode. */
    pooledDatabaseUrl: string | undefined;
  }
}

/**
 * One PostgreSQL server for the whole run: TEST_DATABASE_URL when set, else an embedded one in a temp folder.
 * Each test file then creates (and drops) a database of its own on it (test/support/database.ts).
 *
 * TEST_VIA_PGBOUNCER=1 puts a PgBouncer (transaction mode, started here, stopped at the end) in front of that
 * server: the tests' pools and apps then talk to it, as on a hosted PostgreSQL's transaction pooler, with the
 * server itself as their direct URL.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const viaPgBouncer = ['1', 'true', 'yes'].includes(process.env.TEST_VIA_PGBOUNCER ?? '');
  const external = process.env.TEST_DATABASE_URL;
  let dir: string | undefined;
  let db: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let bouncer: PgBouncer | undefined;
  const stop = async () => {
    await bouncer?.stop();
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    let adminUrl = external;
    if (!adminUrl) {
      dir = mkdtempSync(join(tmpdir(), 'report-chat-test-'));
      // Our own folder, opened so that the postgres user (as whom the server runs when we are root) reaches DATA_DIR/pg.
      chmodSync(dir, 0o755);
      db = await startEmbeddedPostgres(join(dir, 'data'));
      adminUrl = db.url;
    }
    if (viaPgBouncer) bouncer = await startPgBouncer(adminUrl);
    project.provide('adminDatabaseUrl', adminUrl);
    project.provide('pooledDatabaseUrl', bouncer?.url);
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}
