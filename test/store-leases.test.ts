import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrls } from '../src/store/db.js';
import { readAll } from '../src/store/history.js';
import { runMigrationsDirect } from '../src/store/migrate.js';
import { PATIENT_RETRY, withRetry } from '../src/store/retry.js';
import {
  finishAnswer,
  INTERRUPTED_ERROR,
  reserveTurn,
  startAnswer,
  sweepExpiredLeases,
} from '../src/store/turns.js';
import { checkpointAnswer } from '../src/store/checkpoints.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport, turnInput } from './support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function reserveOne(conversationId: string, leaseMs = 60_000, owner = 'owner-a') {
  return reserveTurn(db.sql, turnInput(conversationId, { leaseMs, leaseOwner: owner, start: undefined }));
}

describe('leases and the sweeper', () => {
  it('an answer whose lease expires is swept to interrupted with its partial text; the question stays', async () => {
    const { conversationId } = await seedReport(db.sql);
    const turn = await reserveOne(conversationId);
    const ref = { conversationId, seq: turn.assistantMessage.seq };
    expect(await startAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 200, model: 'test' })).toBeDefined();
    expect(await checkpointAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 200, from: { chars: 0, sources: 0 }, text: 'partial' })).toBe(true);
    expect(await checkpointAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 200, from: { chars: 7, sources: 0 }, text: ' ans' })).toBe(true);
    await sleep(300);

    // Two sweepers at once (two instances): the answer is swept exactly once.
    const [a, b] = await Promise.all([sweepExpiredLeases(db.sql), sweepExpiredLeases(db.connect({ max: 1 }))]);
    const swept = [...a, ...b].filter((m) => m.conversationId === conversationId);
    expect(swept).toHaveLength(1);
    expect(swept[0]).toMatchObject({ status: 'interrupted', content: 'partial ans', error: INTERRUPTED_ERROR });

    const { messages, version } = await readAll(db.sql, conversationId);
    expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
      ['user', 'complete', 'question'],
      ['assistant', 'interrupted', 'partial ans'],
    ]);
    expect(version).toBe(4); // created x2, streaming, interrupted

    // The owner comes back too late: its checkpoint and finish do not resurrect the answer.
    expect(await checkpointAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 200, from: { chars: 11, sources: 0 }, text: 'more' })).toBe(false);
    const late = await finishAnswer(db.sql, { ...ref, owner: 'owner-a', status: 'complete', content: 'full answer', error: null });
    expect(late.applied).toBe(false);
    expect(late.message.status).toBe('interrupted');
  });

  it('a queued answer whose waiting owner died is swept too', async () => {
    const { conversationId } = await seedReport(db.sql);
    await reserveOne(conversationId, 100);
    await sleep(200);
    await sweepExpiredLeases(db.sql);
    const { messages } = await readAll(db.sql, conversationId);
    expect(messages.map((m) => m.status)).toEqual(['complete', 'interrupted']);
  });

  it('a live lease is not swept', async () => {
    const { conversationId } = await seedReport(db.sql);
    await reserveOne(conversationId, 60_000);
    await sweepExpiredLeases(db.sql);
    const { messages } = await readAll(db.sql, conversationId);
    expect(messages.map((m) => m.status)).toEqual(['complete', 'queued']);
  });
});

describe('the final commit', () => {
  it('is retried and committed when its connection is killed mid-transaction', async () => {
    const { conversationId } = await seedReport(db.sql);
    const turn = await reserveOne(conversationId);
    const ref = { conversationId, seq: turn.assistantMessage.seq };
    await startAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 60_000, model: 'test' });

    const appSql = db.connect({ max: 1, applicationName: 'finish-under-test' });
    const blocker = db.connect({ max: 1 });
    try {
      // Hold the conversation's row lock so the finish blocks inside its transaction, where we kill it.
      const holder = await blocker.reserve();
      await holder`BEGIN`;
      await holder`SELECT 1 FROM conversations WHERE id = ${conversationId} FOR UPDATE`;
      let attempts = 0;
      const finishing = withRetry(() => {
        attempts++;
        return finishAnswer(appSql, { ...ref, owner: 'owner-a', status: 'complete', content: 'the whole answer', error: null });
      }, PATIENT_RETRY);

      let killed = 0;
      for (let i = 0; i < 100 && killed === 0; i++) {
        await sleep(50);
        const rows = await db.admin<{ killed: boolean }[]>`
          SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
          WHERE application_name = 'finish-under-test' AND wait_event_type = 'Lock'`;
        killed = rows.filter((r) => r.killed).length;
      }
      expect(killed).toBe(1);
      await holder`COMMIT`;
      holder.release();

      const result = await finishing;
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(result.applied).toBe(true);
      expect(result.message).toMatchObject({ status: 'complete', content: 'the whole answer' });
      const { messages } = await readAll(db.sql, conversationId);
      expect(messages[1]).toMatchObject({ status: 'complete', content: 'the whole answer', leaseOwner: null });
    } finally {
      await appSql.end({ timeout: 5 });
      await blocker.end({ timeout: 5 });
    }
  });

  it('a retry after a commit whose acknowledgement was lost is recognised as applied', async () => {
    const { conversationId } = await seedReport(db.sql);
    const turn = await reserveOne(conversationId);
    const ref = { conversationId, seq: turn.assistantMessage.seq };
    await startAnswer(db.sql, { ...ref, owner: 'owner-a', leaseMs: 60_000, model: 'test' });
    const input = { ...ref, owner: 'owner-a', status: 'complete' as const, content: 'answer', error: null };
    expect((await finishAnswer(db.sql, input)).applied).toBe(true);
    const again = await finishAnswer(db.sql, input);
    expect(again.applied).toBe(true);
    expect((await readAll(db.sql, conversationId)).version).toBe(4);
  });
});

describe('migrations', () => {
  it('two instances migrating the same empty database at the same moment both succeed, once, and leave no lock', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    const urls = databaseUrls(fresh.url, fresh.directUrl);
    const a = fresh.connect({ max: 2 });
    const b = fresh.connect({ max: 2 });
    try {
      // As src/server.ts does: through a transaction pooler (TEST_VIA_PGBOUNCER), on the direct URL.
      await Promise.all([runMigrationsDirect(urls, a), runMigrationsDirect(urls, b)]);
      const [locks] = await a<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
      expect(locks?.n).toBe(0);
      const [applied] = await a<{ n: number }[]>`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`;
      const journal = (await import('../src/store/migrations/meta/_journal.json', { with: { type: 'json' } })).default;
      expect(applied?.n).toBe(journal.entries.length);
      const tables = await a<{ tablename: string }[]>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
      expect(tables.map((t) => t.tablename)).toEqual(['admin_sessions', 'answer_piece_generation', 'answer_pieces_0', 'answer_pieces_1', 'api_tokens', 'conversations', 'external_identities', 'invites', 'messages', 'rate_limit_windows', 'report_members', 'report_revisions', 'reports', 'sessions', 'sign_in_failures', 'users']);
    } finally {
      await a.end({ timeout: 5 });
      await b.end({ timeout: 5 });
      await fresh.drop();
    }
  });
});
