import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

/**
 * One PostgreSQL server for the whole run: TEST_DATABASE_URL when set, else an embedded one in a temp folder.
 * Each test file then creates (and drops) a database of its own on it (test/support/database.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return async () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'report-chat-test-'));
  // Our own folder, opened so that the postgres user (as whom the server runs when we are root) reaches DATA_DIR/pg.
  chmodSync(dir, 0o755);
  const db = await startEmbeddedPostgres(join(dir, 'data'));
  project.provide('adminDatabaseUrl', db.url);
  return async () => {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
