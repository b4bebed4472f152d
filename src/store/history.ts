import { AppError } from '../errors/app-error.js';
import type { Sql } from './db.js';
import { messageColumns, withSavedText, type RowWithSaved } from './saved-text.js';
import { inTransaction, lockForChange } from './transaction.js';
import type { ConversationRow, MessageRow } from './types.js';

export interface PageQuery {
  limit: number;
  before?: number;
  after?: number;
}

export interface Page {
  messages: MessageRow[];
  version: number;
  hasMoreBefore: boolean;
}

/** One page of history and the version it corresponds to, read from one snapshot so the ETag is honest. */
export async function readPage(sql: Sql, conversationId: string, q: PageQuery): Promise<Page> {
  return sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    const [conv] = await tx<{ version: number }[]>`SELECT version FROM conversations WHERE id = ${conversationId}`;
    if (!conv) throw new AppError('not_found', 'No such conversation.');
    if (q.after !== undefined) {
      const messages = (
        await tx<RowWithSaved[]>`
          SELECT ${messageColumns(tx)} FROM messages m WHERE conversation_id = ${conversationId} AND seq > ${q.after}
          ORDER BY seq LIMIT ${q.limit}`
      ).map(withSavedText);
      const firstSeq = messages[0]?.seq ?? q.after + 1;
      const [older] = await tx`
        SELECT 1 FROM messages WHERE conversation_id = ${conversationId} AND seq < ${firstSeq} LIMIT 1`;
      return { messages, version: conv.version, hasMoreBefore: older !== undefined };
    }
    const newestFirst = (
      await tx<RowWithSaved[]>`
        SELECT ${messageColumns(tx)} FROM messages m
        WHERE conversation_id = ${conversationId} ${q.before !== undefined ? tx`AND seq < ${q.before}` : tx``}
        ORDER BY seq DESC LIMIT ${q.limit + 1}`
    ).map(withSavedText);
    const hasMoreBefore = newestFirst.length > q.limit;
    return { messages: newestFirst.slice(0, q.limit).reverse(), version: conv.version, hasMoreBefore };
  });
}

export interface Changes {
  conversation: ConversationRow;
  /** Messages whose last change is after the version asked for, in version order. */
  messages: MessageRow[];
}

/** What changed after `version`: the resume of an events stream. Answers still streaming come with their saved text. */
export async function readChangesAfter(sql: Sql, conversationId: string, version: number, limit = 1000): Promise<Changes> {
  return sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    const [conversation] = await tx<ConversationRow[]>`SELECT * FROM conversations WHERE id = ${conversationId}`;
    if (!conversation) throw new AppError('not_found', 'No such conversation.');
    const messages = (
      await tx<RowWithSaved[]>`
        SELECT ${messageColumns(tx)} FROM messages m WHERE conversation_id = ${conversationId} AND changed_version > ${version}
        ORDER BY changed_version LIMIT ${limit}`
    ).map(withSavedText);
    return { conversation, messages };
  });
}

export async function readMessage(sql: Sql, conversationId: string, messageId: string): Promise<MessageRow | undefined> {
  const [row] = await sql<RowWithSaved[]>`
    SELECT ${messageColumns(sql)} FROM messages m WHERE conversation_id = ${conversationId} AND id = ${messageId}`;
  return row && withSavedText(row);
}

export async function readMessageBySeq(sql: Sql, conversationId: string, seq: number): Promise<MessageRow | undefined> {
  const [row] = await sql<RowWithSaved[]>`
    SELECT ${messageColumns(sql)} FROM messages m WHERE conversation_id = ${conversationId} AND seq = ${seq}`;
  return row && withSavedText(row);
}

/** The whole conversation in seq order, for export. Read in one snapshot. */
export async function readAll(sql: Sql, conversationId: string): Promise<Page> {
  return sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    const [conv] = await tx<{ version: number }[]>`SELECT version FROM conversations WHERE id = ${conversationId}`;
    if (!conv) throw new AppError('not_found', 'No such conversation.');
    const messages = (
      await tx<RowWithSaved[]>`SELECT ${messageColumns(tx)} FROM messages m WHERE conversation_id = ${conversationId} ORDER BY seq`
    ).map(withSavedText);
    return { messages, version: conv.version, hasMoreBefore: false };
  });
}

/**
 * A message of the model's context, with its author's display name (null when unnamed or unknown): only what the
 * context needs. A whole row would cost every read a Date per timestamp and a parse of every answer's sources and
 * context record, for messages by the hundred, on every turn.
 */
export interface ContextMessage extends Pick<MessageRow, 'id' | 'seq' | 'role' | 'content' | 'authorId'> {
  authorName: string | null;
}

const CONTEXT_FIRST_PAGE = 200;
const CONTEXT_MAX_PAGE = 2_000;

/**
 * The newest completed messages before `seq`, newest first, with their authors' names, for the model's context:
 * failed, stopped and interrupted answers are not sent. `maxChars` bounds what is read: a message is included while the messages newer
 * than it (among those returned) hold fewer than `maxChars` characters in all, so the one that crosses the budget is
 * included too and the context builder trims to its budget. Characters are counted as PostgreSQL's `length()`
 * counts them (code points), the way this read always has.
 *
 * Read newest-first in pages (`seq < last ORDER BY seq DESC LIMIT n`, a backward scan of the primary key), adding up
 * the budget here and stopping when it is spent, so the cost is bounded by the budget, not by the length of the
 * conversation. The first page is small (most conversations fit in it); later pages are sized from the average
 * length seen so far, so a long conversation takes two or three round trips.
 *
 * Not one snapshot, and it needs none: the caller reads the history of an answer that is `streaming` under its
 * lease, which it became only once no earlier answer was `queued` or `streaming` (reserveTurn's or the engine's
 * check, under the conversation lock). Every row before `seq` is then final: user messages never change, a terminal
 * answer never changes again, new messages get larger seqs, and a clear is refused while an answer is in progress.
 * So the pages, read at different moments, see the same rows one snapshot would. (Were the answer swept and the
 * conversation cleared between two pages, the model would see part of the history, but that answer can no longer
 * be finished by its owner, so nothing generated from it is stored.)
 */
export async function readContextHistory(sql: Sql, conversationId: string, seq: number, maxChars: number): Promise<ContextMessage[]> {
  const out: ContextMessage[] = [];
  let used = 0;
  let before = seq;
  let limit = CONTEXT_FIRST_PAGE;
  while (used < maxChars) {
    const page = await sql<(ContextMessage & { contextChars: number })[]>`
      SELECT m.id, m.seq, m.role, m.content, m.author_id, u.name AS author_name, length(m.content) AS context_chars
      FROM messages m LEFT JOIN users u ON u.id = m.author_id
      WHERE m.conversation_id = ${conversationId} AND m.seq < ${before} AND m.status = 'complete'
      ORDER BY m.seq DESC
      LIMIT ${limit}`;
    for (const m of page) {
      if (used >= maxChars) break;
      out.push({ id: m.id, seq: m.seq, role: m.role, content: m.content, authorId: m.authorId, authorName: m.authorName });
      used += m.contextChars;
    }
    const last = page.at(-1);
    if (page.length < limit || !last) break;
    before = last.seq;
    // Enough rows for the rest of the budget at the average length so far, and a little more.
    const average = Math.max(1, used / out.length);
    limit = Math.min(CONTEXT_MAX_PAGE, Math.max(CONTEXT_FIRST_PAGE, Math.ceil(((maxChars - used) / average) * 1.1) + 10));
  }
  return out;
}

/**
 * Clears the conversation (compare-and-delete on `ifMatch`). Seqs keep growing afterwards: a reader that saw seq n
 * must never see a new message with a smaller seq. The clear is itself a versioned change (`clearedVersion`).
 */
export async function clearConversation(sql: Sql, conversationId: string, ifMatch: number): Promise<ConversationRow> {
  const cleared = await inTransaction(sql, async (tx) => {
    const version = await lockForChange(tx, conversationId);
    if (version - 1 !== ifMatch) {
      throw new AppError('precondition_failed', 'The conversation changed since the version you sent in If-Match.');
    }
    const [active] = await tx`
      SELECT 1 FROM messages WHERE conversation_id = ${conversationId} AND status IN ('queued', 'streaming') LIMIT 1`;
    if (active) throw new AppError('conversation_busy', 'An answer is still being generated; try again when it ends.');
    await tx`DELETE FROM messages WHERE conversation_id = ${conversationId}`;
    const [conv] = await tx<ConversationRow[]>`
      UPDATE conversations SET message_count = 0, cleared_version = ${version}
      WHERE id = ${conversationId} RETURNING *`;
    return conv;
  });
  if (!cleared) throw new AppError('not_found', 'No such conversation.');
  return cleared;
}
