import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointAnswer } from '../src/store/checkpoints.js';
import type { Sql } from '../src/store/db.js';
import { readMessageBySeq } from '../src/store/history.js';
import { applyMigrations, ensureMigrationTable, migrationFiles, runMigrationsDirect } from '../src/store/migrate.js';
import { finishAnswer, reserveTurn, type AnswerRef } from '../src/store/turns.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport, turnInput } from './support/fixtures.js';

/**
 * Migration 0014 keys the pieces by messages.piece_key. It runs while the previous release's instances still stream
 * (a rolling deploy): the text their answers saved before it must read the same after it, through the new readers
 * and through the previous release's read of the view answer_pieces, and their next checkpoints must go on from it.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.drop();
});

const OWNER = 'owner-a';

/** Applies the migrations before `tag` as the app records them, so that the app's own run applies the rest. */
async function migrateUpTo(sql: Sql, tag: string): Promise<void> {
  const journal = (await import('../src/store/migrations/meta/_journal.json', { with: { type: 'json' } })).default;
  const upTo = journal.entries.findIndex((e) => e.tag === tag);
  expect(upTo).toBeGreaterThan(0);
  await ensureMigrationTable(sql);
  await applyMigrations(sql, migrationFiles().slice(0, upTo));
}

/** How the release before migration 0014 read an answer's saved text (src/store/saved-text.ts then). */
async function previousReleaseRead(ref: AnswerRef): Promise<string | null> {
  const [row] = await db.sql<{ text: string | null }[]>`
    SELECT (
      SELECT string_agg(p.text, '' ORDER BY p.text_offset, p.source_offset) FROM (
        SELECT DISTINCT ON (p.text_offset, p.source_offset) p.text_offset, p.source_offset, p.text, p.sources
        FROM answer_pieces p WHERE p.conversation_id = m.conversation_id AND p.seq = m.seq
        ORDER BY p.text_offset, p.source_offset, length(p.text) DESC, jsonb_array_length(p.sources) DESC NULLS LAST
      ) p
    ) AS text
    FROM messages m WHERE m.conversation_id = ${ref.conversationId} AND m.seq = ${ref.seq}`;
  return row!.text;
}

async function reserve(conversationId: string) {
  const turn = await reserveTurn(db.sql, turnInput(conversationId, { leaseOwner: OWNER }));
  return { ref: { conversationId, seq: turn.assistantMessage.seq }, status: turn.assistantMessage.status };
}

const save = (ref: AnswerRef, chars: number, text: string) =>
  checkpointAnswer(db.sql, { ...ref, owner: OWNER, leaseMs: 60_000, from: { chars, sources: 0 }, text });

const content = async (ref: AnswerRef) => (await readMessageBySeq(db.sql, ref.conversationId, ref.seq))!.content;

async function pieceKeyOf(ref: AnswerRef): Promise<bigint | null> {
  const [row] = await db.sql<{ key: string | null }[]>`
    SELECT piece_key::text AS key FROM messages WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq}`;
  return row!.key === null ? null : BigInt(row!.key);
}

const pieceCount = async () => (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM answer_piece_rows`)[0]!.n;

describe('migration 0014: pieces keyed by the answer', () => {
  it('carries over the pieces of answers still streaming, from both generations, and the previous release reads them as before', async () => {
    await migrateUpTo(db.sql, '0014_piece_keys');
    const { conversationId } = await seedReport(db.sql);
    const streaming = await reserve(conversationId);
    const queued = await reserve(conversationId);
    expect([streaming.status, queued.status]).toEqual(['streaming', 'queued']);
    const other = await seedReport(db.sql);
    const finished = await reserve(other.conversationId);
    expect(await save(finished.ref, 0, 'ended ')).toBe(true);
    expect((await finishAnswer(db.sql, { ...finished.ref, owner: OWNER, status: 'complete', content: 'ended.', error: null })).applied).toBe(true);

    // One piece in each generation's table, as a switch between two checkpoints leaves them.
    expect(await save(streaming.ref, 0, 'first ')).toBe(true);
    await db.sql`UPDATE answer_piece_generation SET current = 1, other_empty = false, switched_at = now()`;
    expect(await save(streaming.ref, 6, 'second ')).toBe(true);
    expect(await previousReleaseRead(streaming.ref)).toBe('first second ');

    await runMigrationsDirect({ url: db.url, directUrl: db.directUrl, pooled: db.pooled }, db.sql);

    expect(await content(streaming.ref)).toBe('first second ');
    expect(await previousReleaseRead(streaming.ref)).toBe('first second ');
    // The finished answer's pieces, never read again, were left behind.
    expect(await pieceCount()).toBe(2);
    expect(await content(finished.ref)).toBe('ended.');
    // Answers in progress have their keys; the next checkpoint goes on where the last one ended.
    expect(await pieceKeyOf(queued.ref)).not.toBeNull();
    expect(await save(streaming.ref, 13, 'third')).toBe(true);
    expect(await content(streaming.ref)).toBe('first second third');
    expect(await previousReleaseRead(streaming.ref)).toBe('first second third');
    // A new answer takes a key after every key before it: the answers in progress sit at the right of the index.
    const later = await reserve(other.conversationId);
    expect(later.status).toBe('streaming');
    expect(await pieceKeyOf(later.ref)).toBeGreaterThan((await pieceKeyOf(queued.ref))!);
    expect(await save(later.ref, 0, 'new')).toBe(true);
    expect(await content(later.ref)).toBe('new');
    expect(await previousReleaseRead(later.ref)).toBe('new');
  });

  it('refuses an answer in progress without a key', async () => {
    const { conversationId } = await seedReport(db.sql);
    const turn = await reserve(conversationId);
    await expect(db.sql`
      UPDATE messages SET piece_key = NULL WHERE conversation_id = ${conversationId} AND seq = ${turn.ref.seq}`).rejects.toMatchObject({
      code: '23514',
      constraint_name: 'messages_piece_key_check',
    });
    await finishAnswer(db.sql, { ...turn.ref, owner: OWNER, status: 'complete', content: 'done', error: null });
  });
});
