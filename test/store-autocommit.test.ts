import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/app-error.js';
import { connect } from '../src/store/db.js';
import { readAll } from '../src/store/history.js';
import { isTransientDbError } from '../src/store/pg-errors.js';
import { isCommitUncertain } from '../src/store/transaction.js';
import { finishAnswer, reserveTurn } from '../src/store/turns.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport, turnInput } from './support/fixtures.js';

/**
 * The reserve and the finish are each one autocommitted call of a SQL function (migration 0002). What the caller
 * may conclude from a failed call: a refusal rolled everything back, a lost connection may have committed.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const storedWithId = async (id: string) =>
  (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE id = ${id}`)[0]!.n;

describe('one autocommitted call per store transaction', () => {
  it('a reserve whose connection is killed while it runs may have committed: it says so (it did not, here)', async () => {
    const { conversationId } = await seedReport(db.sql);
    const own = db.connect({ max: 1, applicationName: 'autocommit-victim' });
    const holder = await db.sql.reserve();
    try {
      // Hold the conversation's row lock, so that the reserve is certainly in flight when its backend is killed.
      await holder`BEGIN`;
      await holder`UPDATE conversations SET updated_at = now() WHERE id = ${conversationId}`;
      const turn = turnInput(conversationId);
      const reserving = reserveTurn(own, turn).then(
        () => undefined,
        (err: unknown) => err,
      );
      const deadline = Date.now() + 5_000;
      let killed = false;
      while (!killed && Date.now() < deadline) {
        const [row] = await db.sql<{ n: number }[]>`
          SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE application_name = 'autocommit-victim' AND wait_event_type = 'Lock'`;
        killed = (row?.n ?? 0) > 0;
        if (!killed) await sleep(20);
      }
      expect(killed).toBe(true);
      const err = await reserving;
      expect(isTransientDbError(err)).toBe(true);
      expect(isCommitUncertain(err)).toBe(true);
      await holder`ROLLBACK`;
      expect(await storedWithId(turn.userMessageId)).toBe(0);
    } finally {
      holder.release();
      await own.end({ timeout: 1 });
    }
  });

  it('a database that cannot be reached is certain: nothing was sent', async () => {
    const url = new URL(db.url);
    url.port = '1'; // nothing listens there
    const unreachable = connect(url.toString(), { max: 1 });
    try {
      const err = await reserveTurn(unreachable, turnInput(randomUUID())).catch((e: unknown) => e);
      expect(isTransientDbError(err)).toBe(true);
      expect(isCommitUncertain(err)).toBe(false);
    } finally {
      await unreachable.end({ timeout: 1 });
    }
  });

  it('a refused reserve rolls back everything it did: no rows, no version, no seq, no count', async () => {
    const { conversationId } = await seedReport(db.sql);
    await reserveTurn(db.sql, turnInput(conversationId));
    const before = await db.sql`SELECT next_seq, version, message_count FROM conversations WHERE id = ${conversationId}`;
    const limit = { key: `turns:test:${randomUUID()}`, windowSeconds: 3_600, limit: 5 };

    const stale = await reserveTurn(db.sql, turnInput(conversationId, { ifMatch: 0, limits: [limit] })).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(AppError);
    expect((stale as AppError).code).toBe('precondition_failed');
    const full = await reserveTurn(db.sql, turnInput(conversationId, { maxMessages: 3, limits: [limit] })).catch((e: unknown) => e);
    expect((full as AppError).code).toBe('conversation_full');
    const missing = await reserveTurn(db.sql, turnInput(randomUUID())).catch((e: unknown) => e);
    expect((missing as AppError).code).toBe('not_found');

    expect(await db.sql`SELECT next_seq, version, message_count FROM conversations WHERE id = ${conversationId}`).toEqual(before);
    expect((await readAll(db.sql, conversationId)).messages).toHaveLength(2);
    // The refused sends counted nothing against the limit; the next accepted one is the first.
    const ok = await reserveTurn(db.sql, turnInput(conversationId, { limits: [limit] }));
    expect(ok.kind === 'created' && ok.limits.map((l) => l.count)).toEqual([1]);
  });

  it('a finish by an owner who no longer holds the answer changes nothing, not even the version', async () => {
    const { conversationId } = await seedReport(db.sql);
    const turn = await reserveTurn(db.sql, turnInput(conversationId));
    const ref = { conversationId, seq: turn.assistantMessage.seq };
    const version = async () => (await readAll(db.sql, conversationId)).version;
    const v0 = await version();
    const result = await finishAnswer(db.sql, { ...ref, owner: 'owner-b', status: 'complete', content: 'x', error: null });
    expect(result.applied).toBe(false);
    expect(result.message.status).toBe('streaming');
    expect(await version()).toBe(v0);
    const mine = await finishAnswer(db.sql, { ...ref, owner: 'owner-a', status: 'complete', content: 'answer', error: null });
    expect(mine).toMatchObject({ applied: true, message: { status: 'complete', content: 'answer', changedVersion: v0 + 1 } });
  });
});
