import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../src/store/db.js';
import { readAll } from '../src/store/history.js';
import {
  countActiveBefore,
  finishAnswer,
  INTERRUPTED_ERROR,
  reserveTurn,
  startAnswer,
  stopQueuedAnswer,
  sweepExpiredLeases,
  type ReserveInput,
} from '../src/store/turns.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport, turnInput } from './support/fixtures.js';

/**
 * reserveTurn with `start`: an answer with nothing ahead of it is created `streaming` under the reserving instance's
 * lease, in the reserve's own transaction; one that has to wait is created `queued`, as without `start`.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

// The common path of these tests: started by `instance-a` with `model-a`.
const input = (conversationId: string, content: string, over: Partial<ReserveInput> = {}): ReserveInput =>
  turnInput(conversationId, { content, leaseOwner: 'instance-a', start: { model: 'model-a' }, ...over });

const finish = (sql: Sql, conversationId: string, seq: number, owner = 'instance-a') =>
  finishAnswer(sql, { conversationId, seq, owner, status: 'complete', content: `answer ${seq}`, error: null });

describe('starting the answer in the reserve', () => {
  it('with nothing ahead, the answer is created streaming with the model and the lease, at the second version', async () => {
    const { conversationId } = await seedReport(db.sql);
    const r = await reserveTurn(db.sql, input(conversationId, 'first'));
    expect(r.kind).toBe('created');
    expect(r.userMessage).toMatchObject({ seq: 1, status: 'complete', changedVersion: 1, model: null, leaseOwner: null });
    expect(r.assistantMessage).toMatchObject({
      seq: 2,
      role: 'assistant',
      status: 'streaming',
      content: '',
      model: 'model-a',
      leaseOwner: 'instance-a',
      changedVersion: 2,
      replyTo: r.userMessage.id,
    });
    expect(r.assistantMessage.leaseExpiresAt).not.toBeNull();
    // (Compared in SQL: a pool drizzle's migrator used returns timestamps as strings.)
    const [lease] = await db.sql<{ ms: number }[]>`
      SELECT extract(epoch FROM lease_expires_at - now()) * 1000 AS ms FROM messages WHERE id = ${r.assistantMessage.id}`;
    expect(Number(lease!.ms)).toBeGreaterThan(50_000);
    expect(Number(lease!.ms)).toBeLessThanOrEqual(60_000);
    // Already started: startAnswer finds nothing queued, and no earlier answer blocks it.
    const ref = { conversationId, seq: 2 };
    expect(await countActiveBefore(db.sql, ref)).toBe(0);
    expect(await startAnswer(db.sql, { ...ref, owner: 'instance-a', leaseMs: 60_000, model: 'model-a' })).toBeUndefined();
    // Its owner finishes it: three versions for the whole turn (question, answer created, answer final).
    const done = await finish(db.sql, conversationId, 2);
    expect(done).toMatchObject({ applied: true, message: { status: 'complete', changedVersion: 3, leaseOwner: null } });
    expect((await readAll(db.sql, conversationId)).version).toBe(3);
  });

  it('behind an answer queued or streaming, it is created queued (no model) and starts with startAnswer after that one ends', async () => {
    const { conversationId } = await seedReport(db.sql);
    const first = await reserveTurn(db.sql, input(conversationId, 'first'));
    expect(first.assistantMessage.status).toBe('streaming');
    const second = await reserveTurn(db.sql, input(conversationId, 'second', { leaseOwner: 'instance-b', start: { model: 'model-b' } }));
    expect(second.assistantMessage).toMatchObject({ seq: 4, status: 'queued', model: null, leaseOwner: 'instance-b' });
    // Behind a queued one too.
    const third = await reserveTurn(db.sql, input(conversationId, 'third'));
    expect(third.assistantMessage).toMatchObject({ seq: 6, status: 'queued', model: null });

    await finish(db.sql, conversationId, 2);
    expect(await countActiveBefore(db.sql, { conversationId, seq: 4 })).toBe(0);
    const started = await startAnswer(db.sql, { conversationId, seq: 4, owner: 'instance-b', leaseMs: 60_000, model: 'model-b' });
    expect(started).toMatchObject({ status: 'streaming', model: 'model-b' });
    await finish(db.sql, conversationId, 4, 'instance-b');
    await stopQueuedAnswer(db.sql, { conversationId, seq: 6 });

    // Every earlier answer terminal: the next one starts in its reserve again.
    const fourth = await reserveTurn(db.sql, input(conversationId, 'fourth'));
    expect(fourth.assistantMessage).toMatchObject({ seq: 8, status: 'streaming', model: 'model-a' });
  });

  it('without start, the answer is always created queued', async () => {
    const { conversationId } = await seedReport(db.sql);
    const r = await reserveTurn(db.sql, input(conversationId, 'q', { start: undefined }));
    expect(r.assistantMessage).toMatchObject({ status: 'queued', model: null, leaseOwner: 'instance-a' });
  });

  it('a replay returns the stored turn, streaming or ended, and changes nothing', async () => {
    const { conversationId } = await seedReport(db.sql);
    const first = input(conversationId, 'same');
    const created = await reserveTurn(db.sql, first);
    const replay = await reserveTurn(db.sql, { ...first, assistantMessageId: randomUUID(), leaseOwner: 'instance-b' });
    expect(replay.kind).toBe('replay');
    expect(replay.assistantMessage).toEqual(created.assistantMessage);
    await finish(db.sql, conversationId, 2);
    const later = await reserveTurn(db.sql, first);
    expect(later.kind).toBe('replay');
    expect(later.assistantMessage).toMatchObject({ id: created.assistantMessage.id, status: 'complete' });
    const { messages, version } = await readAll(db.sql, conversationId);
    expect(messages).toHaveLength(2);
    expect(version).toBe(3);
  });

  it('decides on what committed while it waited for the conversation lock, not on what it saw before', async () => {
    // The dangerous interleaving: another turn's reserve holds the lock, inserts its streaming answer and commits
    // while ours waits. Ours must see that answer and queue behind it.
    const { conversationId } = await seedReport(db.sql);
    const holder = await db.sql.reserve();
    const waiter = db.connect({ max: 1, applicationName: 'reserve-waiting' });
    try {
      await holder`BEGIN`;
      await holder`
        UPDATE conversations SET next_seq = next_seq + 2, version = version + 2, message_count = message_count + 2
        WHERE id = ${conversationId}`;
      await holder`
        INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, changed_version, model,
                              lease_owner, lease_expires_at)
        VALUES (${conversationId}, 1, ${randomUUID()}, 'user', 'held', 'complete', NULL, 1, NULL, NULL, NULL),
               (${conversationId}, 2, ${randomUUID()}, 'assistant', '', 'streaming', NULL, 2, 'm', 'instance-x',
                now() + interval '1 minute')`;
      const reserving = reserveTurn(waiter, input(conversationId, 'waits'));
      await waitForLockWait(db, 'reserve-waiting');
      await holder`COMMIT`;
      const r = await reserving;
      expect(r.assistantMessage).toMatchObject({ seq: 4, status: 'queued', model: null });

      // And the other way round: the answer ahead ends while ours waits for the lock; ours then starts at once.
      await holder`BEGIN`;
      await holder`SELECT 1 FROM conversations WHERE id = ${conversationId} FOR UPDATE`;
      await holder`UPDATE messages SET status = 'complete', lease_owner = NULL, lease_expires_at = NULL, changed_version = seq / 2 + 4
                   WHERE conversation_id = ${conversationId} AND seq IN (2, 4)`;
      await holder`UPDATE conversations SET version = 6 WHERE id = ${conversationId}`;
      const next = reserveTurn(waiter, input(conversationId, 'after'));
      await waitForLockWait(db, 'reserve-waiting');
      await holder`COMMIT`;
      expect((await next).assistantMessage).toMatchObject({ seq: 6, status: 'streaming', model: 'model-a' });
    } finally {
      holder.release();
      await waiter.end({ timeout: 5 });
    }
  });

  it('an answer started in the reserve whose instance died is swept to interrupted; the question stays', async () => {
    const { conversationId } = await seedReport(db.sql);
    const r = await reserveTurn(db.sql, input(conversationId, 'then the process died', { leaseMs: 100 }));
    expect(r.assistantMessage.status).toBe('streaming');
    await sleep(200);
    const swept = (await sweepExpiredLeases(db.sql)).filter((m) => m.conversationId === conversationId);
    expect(swept).toHaveLength(1);
    expect(swept[0]).toMatchObject({ seq: 2, status: 'interrupted', error: INTERRUPTED_ERROR, leaseOwner: null });
    const { messages } = await readAll(db.sql, conversationId);
    expect(messages.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'interrupted'],
    ]);
    // The next turn has nothing ahead of it any more.
    expect((await reserveTurn(db.sql, input(conversationId, 'next'))).assistantMessage.status).toBe('streaming');
  });

  it('a stop in the database only ends queued answers: one started in the reserve is stopped by its owner', async () => {
    const { conversationId } = await seedReport(db.sql);
    await reserveTurn(db.sql, input(conversationId, 'q'));
    expect(await stopQueuedAnswer(db.sql, { conversationId, seq: 2 })).toBeUndefined();
    const stopped = await finishAnswer(db.sql, { conversationId, seq: 2, owner: 'instance-a', status: 'stopped', content: 'part', error: null });
    expect(stopped).toMatchObject({ applied: true, message: { status: 'stopped', content: 'part' } });
  });
});

async function waitForLockWait(db: TestDatabase, applicationName: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await db.admin<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${applicationName} AND wait_event_type = 'Lock'`;
    if (row!.n > 0) return;
    await sleep(10);
  }
  throw new Error(`${applicationName} never waited for a lock`);
}
