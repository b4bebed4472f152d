import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../src/store/db.js';
import { isTransientDbError, isUnavailableError, sqlState } from '../src/store/pg-errors.js';
import { ReplicatedPostgres } from './support/replicated-postgres.js';

/**
 * A pool on the multi-host URL under steady writes, through failovers: no statement may ever reach the standby.
 * postgres.js checks a new connection's server (target_session_attrs) only while the query that opened it is
 * still pending; an error during the handshake consumed that query, and the connection then opened on a standby
 * unchecked, where every write failed with 25006 until the promotion. Whether a reconnect meets such an error is
 * a matter of timing, so the test runs several failovers with many writers; on the unguarded driver it saw
 * hundreds of 25006 errors in most runs.
 */
const FAILOVERS = 3;
const WRITERS = 40;

let root: string;
let cluster: ReplicatedPostgres;
let sql: Sql;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'report-chat-session-target-'));
  chmodSync(root, 0o755);
  cluster = await ReplicatedPostgres.start(join(root, 'pg'), { synchronous: true });
  sql = connect(cluster.url, { max: 20, applicationName: 'report-chat-session-target' });
  await sql`CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)`;
  await sql`INSERT INTO counters SELECT g, 0 FROM generate_series(1, ${WRITERS}) g`;
}, 60_000);

afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('failover: the pool writes only on the primary', () => {
  it('no statement is refused as read-only across failovers', async () => {
    const codes = new Map<string, number>();
    let ok = 0;
    let running = true;
    const writers = Array.from({ length: WRITERS }, async (_, i) => {
      while (running) {
        try {
          await sql`UPDATE counters SET n = n + 1 WHERE id = ${i + 1}`;
          ok++;
        } catch (err) {
          const code = sqlState(err) ?? 'other';
          codes.set(code, (codes.get(code) ?? 0) + 1);
          await sleep(20);
        }
        await sleep(Math.random() * 10);
      }
    });
    try {
      for (let i = 0; i < FAILOVERS; i++) {
        await sleep(1_500);
        await cluster.killPrimary();
        await sleep(1_000);
        await cluster.promote();
        await sleep(1_000);
        await cluster.rebuildStandby();
      }
      await sleep(1_000);
    } finally {
      running = false;
      await Promise.race([Promise.all(writers), sleep(10_000)]);
    }
    expect(ok).toBeGreaterThan(100);
    expect(Object.fromEntries(codes)['25006'] ?? 0).toBe(0);
  }, 120_000);

  it("a standby's refusal (25006) is retried, and reported as the database being unavailable", async () => {
    const standby = connect(cluster.nodeUrl(cluster.standby), { max: 1 });
    try {
      const err: unknown = await standby`UPDATE counters SET n = n + 1 WHERE id = 1`.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(sqlState(err)).toBe('25006');
      expect(isTransientDbError(err)).toBe(true);
      expect(isUnavailableError(err)).toBe(true);
    } finally {
      await standby.end({ timeout: 2 });
    }
  }, 60_000);
});
