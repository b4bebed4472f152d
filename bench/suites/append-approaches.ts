import { randomUUID } from 'node:crypto';
import type { Sql } from '../../src/store/db.js';
import { finishAnswer, reserveTurn, startAnswer } from '../../src/store/turns.js';

/**
 * The ways of storing one exchange (a user message and its answer) that the store suites compare. Each appends
 * the same two messages with the same text to a conversation picked by the caller.
 */
export type ApproachName = 'floor' | 'floor-2tx' | 'ours' | 'jsonb-concat' | 'jsonb-function';

export const APPROACHES: readonly ApproachName[] = ['floor', 'floor-2tx', 'ours', 'jsonb-concat', 'jsonb-function'];

export const APPROACH_LABELS: Record<ApproachName, string> = {
  floor: 'floor: bare 2-row INSERT',
  // What any design pays that commits the question before the answer exists, as a chat must (the client is told
  // "saved" before the model is called): two commits per exchange, with nothing but a bare INSERT in each.
  'floor-2tx': 'two-commit floor: 2 bare 1-row INSERTs',
  // The app's path: reserveTurn, which starts the answer when nothing is ahead of it, then finishAnswer; startAnswer
  // only for an answer the reserve left queued (the share of those is counted, see `oursFallbacks`).
  ours: 'ours: reserve (starts) + finish',
  'jsonb-concat': 'JSONB: history = history || $1',
  'jsonb-function': 'JSONB: plpgsql SELECT then UPDATE',
};

/** A 20-chunk answer of ~300 characters, as the fake model streams in the HTTP suite. */
export const ANSWER_CHUNKS = Array.from({ length: 20 }, (_, i) => `part ${String(i + 1).padStart(2, '0')} of the answer. `);
export const ANSWER = ANSWER_CHUNKS.join('');
export const question = (tag: string) => `Question ${tag}: what was the root cause of the outage, and what should we do first?`;

const LEASE_OWNER = 'bench-store';

/** Tables and the function of the comparison approaches, beside the app's own tables (same database). */
export async function createApproachTables(sql: Sql): Promise<void> {
  // The floor stores the same rows in a table of the same shape, indexes and checks as `messages`, minus the
  // foreign key; seqs come from a sequence, so no conversation row is read or locked.
  await sql`CREATE TABLE bench_floor_messages (LIKE messages INCLUDING ALL)`;
  await sql`CREATE SEQUENCE bench_floor_seq`;
  await sql`
    CREATE TABLE bench_jsonb_conversations (
      id uuid PRIMARY KEY,
      history jsonb NOT NULL DEFAULT '[]',
      updated_at timestamptz NOT NULL DEFAULT now()
    )`;
  // The common "fix" of the read-modify-write race: the same race, moved into the database.
  await sql.unsafe(`
    CREATE FUNCTION bench_append_history(p_id uuid, p_messages jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      current_history jsonb;
    BEGIN
      SELECT history INTO current_history FROM bench_jsonb_conversations WHERE id = p_id;
      UPDATE bench_jsonb_conversations SET history = current_history || p_messages, updated_at = now() WHERE id = p_id;
    END
    $$`);
}

/** One user, `count` reports and their conversations (the app's tables), plus JSONB rows with the same ids. */
export async function seedConversations(sql: Sql, count: number): Promise<string[]> {
  const [user] = await sql<{ id: string }[]>`INSERT INTO users (email, name) VALUES (${`bench-${randomUUID()}@example.test`}, 'bench') RETURNING id`;
  const rows = await sql<{ id: string }[]>`
    WITH r AS (
      INSERT INTO reports (owner_id, title, content, status)
      SELECT ${user!.id}, 'Report ' || g, '# Report', 'complete' FROM generate_series(1, ${count}) g
      RETURNING id
    )
    INSERT INTO conversations (report_id) SELECT id FROM r RETURNING id`;
  const ids = rows.map((r) => r.id);
  await sql`INSERT INTO bench_jsonb_conversations (id) SELECT unnest(${ids}::uuid[])`;
  return ids;
}

/** Empties every approach's storage, so each measured cell starts from the same state. */
export async function resetStorage(sql: Sql): Promise<void> {
  await sql`TRUNCATE messages, bench_floor_messages`;
  await sql`UPDATE conversations SET next_seq = 1, version = 0, message_count = 0, cleared_version = 0`;
  await sql`UPDATE bench_jsonb_conversations SET history = '[]'`;
  await sql`VACUUM (ANALYZE) conversations, messages, bench_floor_messages, bench_jsonb_conversations`;
}

const jsonbExchange = (userId: string, content: string) =>
  JSON.stringify([
    { id: userId, role: 'user', content, status: 'complete', createdAt: new Date().toISOString() },
    { id: randomUUID(), role: 'assistant', content: ANSWER, status: 'complete', replyTo: userId, createdAt: new Date().toISOString() },
  ]);

/** Exchanges of `ours` whose answer the reserve left queued, so that they also went through startAnswer. */
export interface OursCounts {
  exchanges: number;
  startedByReserve: number;
  fallbacks: number;
}

/**
 * Stores one exchange in `conversationId`; resolves once it is committed (acknowledged). `counts`, for `ours`,
 * tallies how each exchange's answer was started.
 */
export function appender(
  approach: ApproachName,
  sql: Sql,
  counts: OursCounts = { exchanges: 0, startedByReserve: 0, fallbacks: 0 },
): (conversationId: string, content: string) => Promise<void> {
  switch (approach) {
    case 'floor':
      return async (conversationId, content) => {
        const userId = randomUUID();
        await sql`
          INSERT INTO bench_floor_messages (conversation_id, seq, id, role, content, status, reply_to, changed_version)
          VALUES (${conversationId}, nextval('bench_floor_seq'), ${userId}, 'user', ${content}, 'complete', NULL, nextval('bench_floor_seq')),
                 (${conversationId}, nextval('bench_floor_seq'), ${randomUUID()}, 'assistant', ${ANSWER}, 'complete', ${userId}, nextval('bench_floor_seq'))`;
      };
    case 'floor-2tx':
      return async (conversationId, content) => {
        const userId = randomUUID();
        await sql`
          INSERT INTO bench_floor_messages (conversation_id, seq, id, role, content, status, reply_to, changed_version)
          VALUES (${conversationId}, nextval('bench_floor_seq'), ${userId}, 'user', ${content}, 'complete', NULL, nextval('bench_floor_seq'))`;
        await sql`
          INSERT INTO bench_floor_messages (conversation_id, seq, id, role, content, status, reply_to, changed_version)
          VALUES (${conversationId}, nextval('bench_floor_seq'), ${randomUUID()}, 'assistant', ${ANSWER}, 'complete', ${userId}, nextval('bench_floor_seq'))`;
      };
    case 'ours':
      // As src/chat/send-message.ts and the turn engine do it: the reserve starts the answer when no earlier answer
      // of the conversation is queued or streaming (one transaction less); an answer it left queued is started with
      // startAnswer. Unlike the engine, the bench does not wait for the answers ahead of it (countActiveBefore and
      // the wake-ups are not store writes), so on one hot conversation the fallback share is high.
      return async (conversationId, content) => {
        const reserved = await reserveTurn(sql, {
          conversationId,
          userMessageId: randomUUID(),
          assistantMessageId: randomUUID(),
          content,
          maxMessages: 100_000_000,
          leaseOwner: LEASE_OWNER,
          leaseMs: 60_000,
          start: { model: 'bench' },
        });
        if (reserved.kind !== 'created') throw new Error('a fresh message id was taken for a replay');
        const ref = { conversationId, seq: reserved.assistantMessage.seq };
        counts.exchanges++;
        if (reserved.assistantMessage.status === 'queued') {
          counts.fallbacks++;
          const started = await startAnswer(sql, { ...ref, owner: LEASE_OWNER, leaseMs: 60_000, model: 'bench' });
          if (!started) throw new Error('startAnswer found the answer no longer queued');
        } else if (reserved.assistantMessage.status === 'streaming') {
          counts.startedByReserve++;
        } else {
          throw new Error(`reserveTurn created the answer ${reserved.assistantMessage.status}`);
        }
        const finished = await finishAnswer(sql, { ...ref, owner: LEASE_OWNER, status: 'complete', content: ANSWER, error: null, inputTokens: 100, outputTokens: 20 });
        if (!finished.applied) throw new Error('finishAnswer did not apply');
      };
    case 'jsonb-concat':
      return async (conversationId, content) => {
        await sql`
          UPDATE bench_jsonb_conversations SET history = history || ${jsonbExchange(randomUUID(), content)}::text::jsonb, updated_at = now()
          WHERE id = ${conversationId}`;
      };
    case 'jsonb-function':
      return async (conversationId, content) => {
        await sql`SELECT bench_append_history(${conversationId}, ${jsonbExchange(randomUUID(), content)}::text::jsonb)`;
      };
  }
}

/** Messages stored by an approach in the given conversations (complete answers and user messages). */
export async function storedMessages(sql: Sql, approach: ApproachName, conversationIds: readonly string[]): Promise<{ stored: number; notComplete: number }> {
  const ids = [...conversationIds];
  if (approach === 'floor' || approach === 'floor-2tx') {
    const [r] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM bench_floor_messages WHERE conversation_id = ANY(${ids}::uuid[])`;
    return { stored: r?.n ?? 0, notComplete: 0 };
  }
  if (approach === 'ours') {
    const [r] = await sql<{ n: number; notComplete: number }[]>`
      SELECT count(*)::int AS n, count(*) FILTER (WHERE status <> 'complete')::int AS not_complete
      FROM messages WHERE conversation_id = ANY(${ids}::uuid[])`;
    return { stored: r?.n ?? 0, notComplete: r?.notComplete ?? 0 };
  }
  const [r] = await sql<{ n: number }[]>`
    SELECT coalesce(sum(jsonb_array_length(history)), 0)::int AS n FROM bench_jsonb_conversations WHERE id = ANY(${ids}::uuid[])`;
  return { stored: r?.n ?? 0, notComplete: 0 };
}
