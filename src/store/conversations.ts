import { AppError } from '../errors/app-error.js';
import type { Sql } from './db.js';
import { sqlState } from './pg-errors.js';
import { autocommitTracked, inTransaction } from './transaction.js';
import type { ConversationInfo, ReportRow } from './types.js';

/** Which conversation: a report's main one, or one by its id. */
export type ConversationRef = { reportId: string } | { conversationId: string };

/** A conversation the caller may see, with its report and the caller's role on the report. */
export interface VisibleConversation {
  report: ReportRow;
  role: 'owner' | 'editor' | 'viewer';
  conversation: ConversationInfo;
}

const CONVERSATION_COLUMNS = (sql: Sql) =>
  sql`c.id, c.report_id, c.is_main, c.title, c.visibility, c.created_by, c.forked_from_conversation_id, c.forked_from_seq,
      c.version, c.message_count, c.next_seq, c.created_at, c.updated_at`;

/**
 * The conversation if `userId` may see it (the view conversation_access states who may), with its report and the
 * caller's role, in the one query that checks access and reads the data. Not visible and not existing are the same
 * answer: undefined.
 */
export async function findVisibleConversation(sql: Sql, ref: ConversationRef, userId: string): Promise<VisibleConversation | undefined> {
  const where =
    'conversationId' in ref ? sql`a.conversation_id = ${ref.conversationId}` : sql`a.report_id = ${ref.reportId} AND c.is_main`;
  const [row] = await sql<(ConversationInfo & { role: VisibleConversation['role']; report: ReportRow })[]>`
    SELECT ${CONVERSATION_COLUMNS(sql)}, a.role,
           (SELECT to_json(x) FROM (SELECT r.id, r.owner_id AS "ownerId", r.title, r.content, r.status, r.revision,
                                           r.created_at AS "createdAt", r.updated_at AS "updatedAt") x) AS report
    FROM conversation_access a
    JOIN conversations c ON c.id = a.conversation_id
    JOIN reports r ON r.id = a.report_id
    WHERE ${where} AND a.user_id = ${userId}`;
  if (!row) return undefined;
  const { role, report, ...conversation } = row;
  // A JSON value: its dates come back as strings.
  return { role, conversation, report: { ...report, createdAt: new Date(report.createdAt), updatedAt: new Date(report.updatedAt) } };
}

/** The report's conversations `userId` may see, newest activity first. The caller has checked the report is visible. */
export async function listVisibleConversations(sql: Sql, reportId: string, userId: string, limit = 1000): Promise<ConversationInfo[]> {
  return sql<ConversationInfo[]>`
    SELECT ${CONVERSATION_COLUMNS(sql)}
    FROM conversation_access a
    JOIN conversations c ON c.id = a.conversation_id
    WHERE a.report_id = ${reportId} AND a.user_id = ${userId}
    ORDER BY c.updated_at DESC, c.id
    LIMIT ${limit}`;
}

export interface NewConversation {
  id: string;
  reportId: string;
  userId: string;
  /** Null for the default: "New conversation", or for a fork the source's title, marked as a branch. */
  title: string | null;
  visibility: 'shared' | 'private';
  forkFrom: { conversationId: string; seq: number } | undefined;
  /** The request as the caller normalized it: the same body again is a replay, another body a conflict. */
  request: Record<string, unknown>;
  maxPerUser: number;
}

// Codes create_conversation (migration 0010) raises; see reserve_turn's in turns.ts for the class.
const REPLAY = 'RC409';
const ID_REUSED = 'RC422';
const NO_SOURCE = 'RC404';
const NOT_A_TURN_END = 'RC400';
const PREFIX_BUSY = 'RC423';
const LIMIT = 'RC429';

/**
 * Creates a conversation, empty or as a fork (a copy of the source's messages 1..seq), in one autocommitted call
 * of `create_conversation`, which checks that `userId` may see the source. A replay (the same id and body by the
 * same user) returns the stored conversation, whatever became of the source since.
 */
export async function createConversation(sql: Sql, input: NewConversation): Promise<{ kind: 'created' | 'replay'; conversation: ConversationInfo }> {
  try {
    // Its own transaction: a connection lost while it ran leaves its outcome unknown, as a lost COMMIT would.
    const [row] = await autocommitTracked(
      () => sql<ConversationInfo[]>`
        SELECT ${CONVERSATION_COLUMNS(sql)}
        FROM create_conversation(
          ${input.id}, ${input.reportId}, ${input.userId}, ${input.title}, ${input.visibility},
          ${input.forkFrom?.conversationId ?? null}, ${input.forkFrom?.seq ?? null}, ${sql.json(input.request as never)}, ${input.maxPerUser}
        ) c`,
    );
    if (!row) throw new Error('create_conversation returned no row');
    return { kind: 'created', conversation: row };
  } catch (err) {
    switch (sqlState(err)) {
      case REPLAY: {
        const [row] = await sql<ConversationInfo[]>`SELECT ${CONVERSATION_COLUMNS(sql)} FROM conversations c WHERE c.id = ${input.id}`;
        if (row) return { kind: 'replay', conversation: row };
        throw new AppError('not_found', 'No such conversation.', { cause: err });
      }
      case ID_REUSED:
        throw new AppError('idempotency_conflict', 'A conversation with this id already exists with different details; choose a new id.', { cause: err });
      case NO_SOURCE:
        throw new AppError('not_found', 'No such conversation to fork (in this report, visible to you).', { cause: err });
      case NOT_A_TURN_END:
        throw new AppError('invalid_request', 'forkFrom.seq must be 0 or the seq of an answer (the end of a turn).', { cause: err });
      case PREFIX_BUSY:
        throw new AppError('conversation_busy', 'An answer up to that point is still being generated; fork when it ends.', { cause: err });
      case LIMIT:
        throw new AppError('conversation_limit', `You may have at most ${input.maxPerUser} conversations of one report; delete one first.`, { cause: err });
      default:
        throw err;
    }
  }
}

/** Renames a conversation or changes its visibility. Not a change of its messages: the version stays. */
export async function updateConversation(
  sql: Sql,
  conversationId: string,
  patch: { title?: string; visibility?: 'shared' | 'private' },
): Promise<ConversationInfo | undefined> {
  const [row] = await sql<ConversationInfo[]>`
    UPDATE conversations c SET
      title = coalesce(${patch.title ?? null}, c.title),
      visibility = coalesce(${patch.visibility ?? null}, c.visibility),
      updated_at = now()
    WHERE c.id = ${conversationId}
    RETURNING ${CONVERSATION_COLUMNS(sql)}`;
  return row;
}

/**
 * Deletes a conversation that is not a report's main one, with its messages, if it is still at version `ifMatch`
 * and no answer of it is in progress. One transaction, under the conversation's lock.
 */
export async function deleteConversation(sql: Sql, conversationId: string, ifMatch: number): Promise<void> {
  const deleted = await inTransaction(sql, async (tx) => {
    const [lock] = await tx<{ version: number }[]>`SELECT version FROM lock_for_change(${conversationId})`;
    if (!lock) return undefined;
    if (lock.version - 1 !== ifMatch) {
      throw new AppError('precondition_failed', 'The conversation changed since the version you sent in If-Match.');
    }
    const [active] = await tx`
      SELECT 1 FROM messages WHERE conversation_id = ${conversationId} AND status IN ('queued', 'streaming') LIMIT 1`;
    if (active) throw new AppError('conversation_busy', 'An answer is still being generated; try again when it ends.');
    const [row] = await tx<{ id: string }[]>`DELETE FROM conversations WHERE id = ${conversationId} AND NOT is_main RETURNING id`;
    return row;
  });
  if (!deleted) throw new AppError('not_found', 'No such conversation.');
}

/** The ids of every conversation of a report: a member removed from it loses all of them at once. */
export async function conversationIdsOfReport(sql: Sql, reportId: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
  return rows.map((r) => r.id);
}
