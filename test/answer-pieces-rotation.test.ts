import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointAnswer, rotateAnswerPieces, type RotationStep } from '../src/store/checkpoints.js';
import type { Sql } from '../src/store/db.js';
import { readMessageBySeq } from '../src/store/history.js';
import { finishAnswer, reserveTurn, type AnswerRef } from '../src/store/turns.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport, turnInput } from './support/fixtures.js';

/**
 * Checkpoint pieces are never deleted row by row (migration 0013): they live in two tables, one per generation, read
 * through the view answer_piece_rows; a finish leaves them behind, and the sweeper's rotation truncates the old generation
 * once no answer that could have pieces in it still streams. Each test ends every answer it starts: the rotation
 * waits for all of them, whatever their conversation.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const OWNER = 'owner-a';

async function streamingAnswer(): Promise<AnswerRef> {
  const { conversationId } = await seedReport(db.sql);
  const turn = await reserveTurn(db.sql, turnInput(conversationId, { leaseOwner: OWNER }));
  expect(turn.assistantMessage.status).toBe('streaming');
  return { conversationId, seq: turn.assistantMessage.seq };
}

const save = (ref: AnswerRef, chars: number, text: string) =>
  checkpointAnswer(db.sql, { ...ref, owner: OWNER, leaseMs: 60_000, from: { chars, sources: 0 }, text });

const finish = async (ref: AnswerRef, content: string) =>
  expect((await finishAnswer(db.sql, { ...ref, owner: OWNER, status: 'complete', content, error: null })).applied).toBe(true);

/** What the pieces of `ref` are keyed by (migration 0014). */
async function pieceKey(ref: AnswerRef): Promise<string> {
  const [row] = await db.sql<{ pieceKey: string }[]>`
    SELECT piece_key::text FROM messages WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq}`;
  return row!.pieceKey;
}

/** The pieces of `ref` in each generation's table, by text. */
async function piecesByTable(ref: AnswerRef) {
  const of = async (rows: Promise<{ text: string }[]>) => (await rows).map((r) => r.text);
  return {
    0: await of(db.sql`SELECT text FROM answer_pieces_0 WHERE piece_key = ${await pieceKey(ref)} ORDER BY text_offset`),
    1: await of(db.sql`SELECT text FROM answer_pieces_1 WHERE piece_key = ${await pieceKey(ref)} ORDER BY text_offset`),
  };
}

async function generation() {
  const [g] = await db.sql<{ current: 0 | 1; otherEmpty: boolean }[]>`SELECT current, other_empty FROM answer_piece_generation`;
  return g!;
}

const rotate = (sql: Sql = db.sql) => rotateAnswerPieces(sql, 0);

/** Rotates until the other table is empty again (whatever step the rotation was at). */
async function rotateUntilEmpty(): Promise<void> {
  for (let i = 0; i < 20 && !(await generation()).otherEmpty; i++) {
    if ((await rotate()) === 'waiting') await sleep(300);
  }
  expect((await generation()).otherEmpty).toBe(true);
}

const content = async (ref: AnswerRef) => (await readMessageBySeq(db.sql, ref.conversationId, ref.seq))!.content;

describe('checkpoint pieces in two generations', () => {
  it('a finish deletes no piece, yet its readers see the finished text exactly once', async () => {
    const ref = await streamingAnswer();
    const { current } = await generation();
    expect(await save(ref, 0, 'one ')).toBe(true);
    expect(await save(ref, 4, 'two')).toBe(true);
    expect(await content(ref)).toBe('one two');
    await finish(ref, 'one two three');
    // Still stored, in the current generation's table, and never read again.
    expect((await piecesByTable(ref))[current]).toEqual(['one ', 'two']);
    expect(await content(ref)).toBe('one two three');
  });

  it('an answer streaming across a switch keeps all its text, and the old table is truncated only after it ends', async () => {
    await rotateUntilEmpty();
    const before = await streamingAnswer();
    const { current } = await generation();
    const next = (1 - current) as 0 | 1;
    expect(await save(before, 0, 'first ')).toBe(true);

    expect(await rotate()).toBe('switched');
    expect(await generation()).toEqual({ current: next, otherEmpty: false });
    expect(await save(before, 6, 'second')).toBe(true);
    expect(await piecesByTable(before)).toEqual({ [current]: ['first '], [next]: ['second'] });
    expect(await content(before)).toBe('first second');

    // An answer created after the switch was seen committed checkpoints into the new table only: it never holds up
    // the old one's truncation.
    expect(await rotate()).toBe('horizon');
    const after = await streamingAnswer();
    expect(await save(after, 0, 'later')).toBe(true);
    expect((await piecesByTable(after))[current]).toEqual([]);

    // The answer from before the switch still streams: its pieces in the old table stay, however often it is asked.
    for (let i = 0; i < 3; i++) expect(await rotate()).toBe('waiting');
    expect((await piecesByTable(before))[current]).toEqual(['first ']);
    expect(await content(before)).toBe('first second');

    await finish(before, 'first second.');
    expect(await rotate()).toBe('drained');
    // A second later (TRUNCATE is not MVCC-safe: a snapshot taken before the drain gets that long to read).
    expect(await rotate()).toBe('waiting');
    await sleep(1_100);
    expect(await rotate()).toBe('truncated');
    expect(await generation()).toEqual({ current: next, otherEmpty: true });
    expect(await piecesByTable(before)).toEqual({ [current]: [], [next]: ['second'] });
    expect(await content(before)).toBe('first second.');
    expect(await content(after)).toBe('later');
    // The next switch waits for the current generation to have taken pieces for the time given.
    expect(await rotateAnswerPieces(db.sql, 60_000)).toBe('none');
    await finish(after, 'later.');
  });

  it('two attempts of one checkpoint stored across a switch, one in each table, are read once: the longer', async () => {
    const ref = await streamingAnswer();
    expect(await save(ref, 0, 'start ')).toBe(true);
    // As an unconfirmed attempt and its retry, each inserting where its generation said, neither seeing the other.
    const key = await pieceKey(ref);
    await db.sql`INSERT INTO answer_pieces_0 (piece_key, text_offset, source_offset, text) VALUES (${key}, 6, 0, 'more')`;
    await db.sql`INSERT INTO answer_pieces_1 (piece_key, text_offset, source_offset, text) VALUES (${key}, 6, 0, 'more text')`;
    expect(await content(ref)).toBe('start more text');
    await finish(ref, 'start more text');
  });

  it('rotators on several instances at once switch once and truncate once, and lose nothing', async () => {
    await rotateUntilEmpty();
    // Ten minutes between switches, the last one an hour ago: one switch is due, and a second, once a rotator of
    // the same round has truncated, is not (with no wait at all, a slow round could rightly switch again).
    const betweenSwitchesMs = 600_000;
    await db.sql`UPDATE answer_piece_generation SET switched_at = now() - interval '1 hour'`;
    const pools = Array.from({ length: 4 }, () => db.connect({ max: 1 }));
    try {
      const ref = await streamingAnswer();
      expect(await save(ref, 0, 'a ')).toBe(true);
      const steps: RotationStep[] = [];
      for (let round = 0; round < 12 && !steps.includes('truncated'); round++) {
        steps.push(...(await Promise.all([...pools.map((p) => rotateAnswerPieces(p, betweenSwitchesMs)), save(ref, 2 * (round + 1), 'b ').then(() => 'none' as const)])));
        if (round === 3) await finish(ref, 'done');
        await sleep(400);
      }
      expect(steps.filter((s) => s === 'switched')).toHaveLength(1);
      expect(steps.filter((s) => s === 'truncated')).toHaveLength(1);
      expect(await generation()).toMatchObject({ otherEmpty: true });
      expect(await content(ref)).toBe('done');
    } finally {
      await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
    }
  });

  it('a lookup of one answer\'s pieces is an index scan of each table', async () => {
    const [plan] = await db.sql<{ 'QUERY PLAN': unknown }[]>`
      EXPLAIN (FORMAT JSON) SELECT * FROM answer_piece_rows WHERE piece_key = 2`;
    const text = JSON.stringify(plan);
    expect(text).toContain('answer_pieces_0_pkey');
    expect(text).toContain('answer_pieces_1_pkey');
  });
});
