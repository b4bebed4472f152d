import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../src/store/db.js';
import { readAll } from '../src/store/history.js';
import { reserveTurn, type ReserveInput } from '../src/store/turns.js';
import { AppError } from '../src/errors/app-error.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport } from './support/fixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const reserveInput = (conversationId: string, content: string, id = randomUUID()): ReserveInput => ({
  conversationId,
  userMessageId: id,
  assistantMessageId: randomUUID(),
  content,
  maxMessages: 10_000,
  leaseOwner: 'test-instance',
  leaseMs: 60_000,
});

/** N clients, each on a connection of its own, released together so their transactions really overlap. */
async function onSeparateConnections<T>(n: number, fn: (sql: Sql, i: number) => Promise<T>): Promise<T[]> {
  const clients = Array.from({ length: n }, () => db.connect({ max: 1 }));
  try {
    await Promise.all(clients.map((c) => c`SELECT 1`)); // connect first, so the start line is the same for all
    return await Promise.all(clients.map((c, i) => fn(c, i)));
  } finally {
    await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
  }
}

describe('reserving turns concurrently', () => {
  // Here rather than in store-start-in-reserve.test.ts: tests of one file run one after another, so the two tests
  // with 64 connections never overlap (a server with the default max_connections of 100 refused them).
  it('64 reserves at once that may start their answer: only the first does, the rest queue behind it', async () => {
    const { conversationId } = await seedReport(db.sql);
    const results = await onSeparateConnections(64, (sql, i) =>
      reserveTurn(sql, { ...reserveInput(conversationId, `q${i}`), start: { model: 'model-a' } }),
    );
    expect(results.every((r) => r.kind === 'created')).toBe(true);
    const { messages, version } = await readAll(db.sql, conversationId);
    const answers = messages.filter((m) => m.role === 'assistant');
    expect(answers.map((m) => m.status)).toEqual(['streaming', ...Array(63).fill('queued')]);
    expect(answers[0]!.seq).toBe(2);
    expect(version).toBe(128);
  });

  it('64 turns at once on one conversation get seqs 1..128, each answer right after its question', async () => {
    const { conversationId } = await seedReport(db.sql);
    const results = await onSeparateConnections(64, (sql, i) => reserveTurn(sql, reserveInput(conversationId, `question ${i}`)));
    expect(results.every((r) => r.kind === 'created')).toBe(true);

    const { messages, version } = await readAll(db.sql, conversationId);
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 128 }, (_, i) => i + 1));
    for (let i = 0; i < messages.length; i += 2) {
      const [q, a] = [messages[i]!, messages[i + 1]!];
      expect(q.role).toBe('user');
      expect(a.role).toBe('assistant');
      expect(a.replyTo).toBe(q.id);
      expect(a.status).toBe('queued');
    }
    expect(new Set(messages.filter((m) => m.role === 'user').map((m) => m.content)).size).toBe(64);
    // Two messages created per turn, one version each.
    expect(version).toBe(128);
    expect(new Set(messages.map((m) => m.changedVersion)).size).toBe(128);
    const [conv] = await db.sql<{ nextSeq: number; messageCount: number }[]>`
      SELECT next_seq, message_count FROM conversations WHERE id = ${conversationId}`;
    expect(conv).toEqual({ nextSeq: 129, messageCount: 128 });
  });

  it('32 reservations with the same message id make exactly one turn and 31 replays of it', async () => {
    const { conversationId } = await seedReport(db.sql);
    const id = randomUUID();
    const results = await onSeparateConnections(32, (sql) => reserveTurn(sql, reserveInput(conversationId, 'same question', id)));
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'replay')).toHaveLength(31);
    const answerIds = new Set(results.map((r) => r.assistantMessage.id));
    expect(answerIds.size).toBe(1);
    expect(new Set(results.map((r) => r.userMessage.seq))).toEqual(new Set([1]));

    const { messages, version } = await readAll(db.sql, conversationId);
    expect(messages).toHaveLength(2);
    expect(version).toBe(2);
  });

  it('the same id with different content is an idempotency conflict and stores nothing', async () => {
    const { conversationId } = await seedReport(db.sql);
    const id = randomUUID();
    await reserveTurn(db.sql, reserveInput(conversationId, 'first', id));
    const err = await reserveTurn(db.sql, reserveInput(conversationId, 'second', id)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('idempotency_conflict');
    const { messages, version } = await readAll(db.sql, conversationId);
    expect(messages.map((m) => m.content)).toEqual(['first', '']);
    expect(version).toBe(2);
  });

  it('the same id used in another conversation is not found there, not a replay of a foreign turn', async () => {
    const a = await seedReport(db.sql);
    const b = await seedReport(db.sql);
    const id = randomUUID();
    await reserveTurn(db.sql, reserveInput(a.conversationId, 'hello', id));
    const err = await reserveTurn(db.sql, reserveInput(b.conversationId, 'hello', id)).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('not_found');
    expect((await readAll(db.sql, b.conversationId)).messages).toHaveLength(0);
  });

  it('If-Match makes the append conditional; a replay ignores it', async () => {
    const { conversationId } = await seedReport(db.sql);
    const first = reserveInput(conversationId, 'one');
    const created = await reserveTurn(db.sql, { ...first, ifMatch: 0 });
    expect(created.kind).toBe('created');
    const stale = await reserveTurn(db.sql, { ...reserveInput(conversationId, 'two'), ifMatch: 0 }).catch((e: unknown) => e);
    expect((stale as AppError).code).toBe('precondition_failed');
    const replay = await reserveTurn(db.sql, { ...first, ifMatch: 0 });
    expect(replay.kind).toBe('replay');
    const fresh = await reserveTurn(db.sql, { ...reserveInput(conversationId, 'three'), ifMatch: 2 });
    expect(fresh.userMessage.seq).toBe(3);
  });

  it('a full conversation refuses new turns and keeps every stored message', async () => {
    const { conversationId } = await seedReport(db.sql);
    const small = (content: string) => ({ ...reserveInput(conversationId, content), maxMessages: 4 });
    await reserveTurn(db.sql, small('a'));
    await reserveTurn(db.sql, small('b'));
    const err = await reserveTurn(db.sql, small('c')).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('conversation_full');
    expect((await readAll(db.sql, conversationId)).messages).toHaveLength(4);
  });
});
