import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../src/store/db.js';
import { readContextHistory, type ContextMessage } from '../src/store/history.js';
import type { MessageRow, MessageStatus } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport } from './support/fixtures.js';

/**
 * readContextHistory reads newest-first in pages and adds up the budget itself. It must return exactly what the
 * single window-function query it replaced returned: the newest `complete` messages before `seq`, newest first,
 * each included while the messages newer than it hold fewer than `maxChars` characters (PostgreSQL's length(), so
 * code points, not UTF-16 units).
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The query readContextHistory used before it read in pages. */
async function reference(sql: Sql, conversationId: string, seq: number, maxChars: number): Promise<MessageRow[]> {
  return sql<MessageRow[]>`
    SELECT * FROM (
      SELECT *, sum(length(content)) OVER (ORDER BY seq DESC) AS running_chars
      FROM messages
      WHERE conversation_id = ${conversationId} AND seq < ${seq} AND status = 'complete'
      ORDER BY seq DESC
    ) newest
    WHERE running_chars - length(content) < ${maxChars}
    ORDER BY seq DESC`;
}

interface Spec {
  status: MessageStatus;
  content: string;
}

/** A conversation holding exactly these messages (odd seqs are questions, even seqs answers). */
async function conversationWith(sql: Sql, specs: Spec[]): Promise<string> {
  const { conversationId } = await seedReport(sql);
  for (let i = 0; i < specs.length; i += 500) {
    const chunk = specs.slice(i, i + 500).map((m, j) => {
      const seq = i + j + 1;
      const user = seq % 2 === 1;
      return {
        conversation_id: conversationId,
        seq,
        id: randomUUID(),
        role: user ? 'user' : 'assistant',
        content: m.content,
        status: user ? 'complete' : m.status,
        changed_version: seq,
      };
    });
    await sql`INSERT INTO messages ${sql(chunk)}`;
  }
  await sql`UPDATE conversations SET next_seq = ${specs.length + 1}, version = ${specs.length}, message_count = ${specs.length}
            WHERE id = ${conversationId}`;
  return conversationId;
}

const ids = (rows: Pick<MessageRow, 'seq' | 'id'>[]) => rows.map((m) => `${m.seq}:${m.id}`);

async function expectSame(conversationId: string, seq: number, maxChars: number): Promise<ContextMessage[]> {
  const got = await readContextHistory(db.sql, conversationId, seq, maxChars);
  const want = await reference(db.sql, conversationId, seq, maxChars);
  expect(ids(got)).toEqual(ids(want));
  // What the model's context needs of each row, without the helper column of either query.
  for (const [i, row] of got.entries()) {
    const { id, seq: s, role, content, authorId } = want[i]!;
    expect(row).toEqual({ id, seq: s, role, content, authorId, authorName: null });
  }
  return got;
}

const fill = (n: number, length: number, status: MessageStatus = 'complete'): Spec[] =>
  Array.from({ length: n }, (_, i) => ({ status, content: String(i % 10).repeat(length) }));

describe('readContextHistory', () => {
  it('includes the message that crosses the budget and stops there (exact boundaries)', async () => {
    const conv = await conversationWith(db.sql, fill(10, 100));
    expect((await expectSame(conv, 11, 500)).map((m) => m.seq)).toEqual([10, 9, 8, 7, 6]);
    expect((await expectSame(conv, 11, 501)).map((m) => m.seq)).toEqual([10, 9, 8, 7, 6, 5]);
    expect((await expectSame(conv, 11, 1)).map((m) => m.seq)).toEqual([10]);
    expect(await expectSame(conv, 11, 0)).toEqual([]);
    expect((await expectSame(conv, 5, 250)).map((m) => m.seq)).toEqual([4, 3, 2]);
    expect(await expectSame(conv, 1, 1_000)).toEqual([]);
    expect((await expectSame(conv, 11, 10_000)).length).toBe(10);
  });

  it('leaves out answers that are not complete, and does not count them against the budget', async () => {
    const specs: Spec[] = [];
    // Seven statuses for the answers at odd indexes: each status comes round.
    const statuses: MessageStatus[] = ['complete', 'failed', 'stopped', 'interrupted', 'queued', 'streaming', 'complete'];
    for (let i = 0; i < 24; i++) specs.push({ status: statuses[i % statuses.length]!, content: 'x'.repeat(40) });
    const conv = await conversationWith(db.sql, specs);
    const got = await expectSame(conv, 25, 10_000);
    const stored = new Map((await db.sql<{ seq: number; status: string }[]>`
      SELECT seq, status FROM messages WHERE conversation_id = ${conv}`).map((m) => [m.seq, m.status]));
    expect(got.every((m) => stored.get(m.seq) === 'complete')).toBe(true);
    expect(got.filter((m) => m.role === 'assistant').length).toBeGreaterThan(0);
    await expectSame(conv, 25, 200);
  });

  it('counts characters as PostgreSQL does: an emoji is one character, not two UTF-16 units', async () => {
    const conv = await conversationWith(db.sql, [
      { status: 'complete', content: 'a' },
      { status: 'complete', content: '😀😀😀' },
      { status: 'complete', content: 'é'.repeat(3) },
      { status: 'complete', content: '😀'.repeat(4) },
    ]);
    // Newest first: 4 (4 chars), 3 (3 chars): 7 < 8 includes 2; 10 >= 8 stops before 1.
    expect((await expectSame(conv, 5, 8)).map((m) => m.seq)).toEqual([4, 3, 2]);
    expect((await expectSame(conv, 5, 7)).map((m) => m.seq)).toEqual([4, 3]);
  });

  it('reads across pages: exactly one page, several pages, and a budget larger than the conversation', async () => {
    const exactlyOnePage = await conversationWith(db.sql, fill(200, 10));
    expect((await expectSame(exactlyOnePage, 201, 1_000_000)).length).toBe(200);
    expect((await expectSame(exactlyOnePage, 201, 1_995)).length).toBe(200);
    expect((await expectSame(exactlyOnePage, 201, 1_990)).length).toBe(199);

    // Short messages first, long ones later: the page size estimated from the first page is far off.
    const mixed = await conversationWith(db.sql, [...fill(2_500, 400), ...fill(400, 5)]);
    for (const budget of [1_000, 2_000, 2_001, 50_000, 400_000, 1_000_000, 10_000_000]) await expectSame(mixed, 2_901, budget);
    await expectSame(mixed, 1_234, 100_000);
    await expectSame(mixed, 2_501, 400_000);
  });

  it('returns what the window-function query returned, for random conversations, budgets and positions', async () => {
    const message = fc.record({
      status: fc.constantFrom<MessageStatus>('complete', 'complete', 'complete', 'failed', 'stopped', 'interrupted', 'streaming', 'queued'),
      content: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.nat({ max: 3_000 }).map((n) => 'w'.repeat(n)),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 700, size: 'max' }),
        fc.nat({ max: 800 }),
        fc.oneof(fc.nat({ max: 3_000 }), fc.nat({ max: 400_000 })),
        async (specs, at, budget) => {
          const conv = await conversationWith(db.sql, specs.map((s) => ({ ...s, content: s.content.replace(/\0/g, '') })));
          await expectSame(conv, Math.min(at, specs.length + 1), budget);
          await expectSame(conv, specs.length + 1, budget);
        },
      ),
      { numRuns: 40, endOnFailure: true },
    );
  });
});
