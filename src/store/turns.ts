import { AppError } from '../errors/app-error.js';
import type { Sql } from './db.js';
import type { WindowCount, WindowLimit } from './rate-limits.js';
import { readMessageBySeq } from './history.js';
import { sqlState } from './pg-errors.js';
import { messageColumns } from './saved-text.js';
import { autocommitTracked, inTransaction, lockForChange } from './transaction.js';
import type { MessageRow, StoredContext, StoredSource, TerminalStatus } from './types.js';

export interface ReserveInput {
  conversationId: string;
  userMessageId: string;
  assistantMessageId: string;
  content: string;
  /** The member who writes the user message. */
  authorId?: string;
  /** Compare-and-append: the conversation version the client saw. Ignored by a replay. */
  ifMatch?: number;
  maxMessages: number;
  leaseOwner: string;
  leaseMs: number;
  /**
   * Start the answer in this transaction when it has nothing to wait for: when no earlier answer of the conversation
   * is `queued` or `streaming`, the answer is created `streaming` with this model and the lease, as `startAnswer`
   * would leave it, and the caller generates it at once (no `countActiveBefore`, no `startAnswer`). Otherwise, and
   * always without `start`, it is created `queued` and goes through `startAnswer` when its turn comes.
   */
  start?: { model: string };
  /** Per-user turn limits, counted in this transaction: a refused or replayed send counts nothing. */
  limits?: readonly WindowLimit[];
}

/** Raised when a limit is exceeded, with every window's count for the response headers. */
export class RateLimited extends Error {
  constructor(readonly counts: WindowCount[]) {
    super('rate limited');
    this.name = 'RateLimited';
  }
}

export type Reservation =
  | { kind: 'created'; userMessage: MessageRow; assistantMessage: MessageRow; limits: WindowCount[] }
  | { kind: 'replay'; userMessage: MessageRow; assistantMessage: MessageRow };

// Codes the store functions of migrations 0002 and 0005 raise to refuse a change; the error rolls back everything the call
// did. They are SQLSTATEs of a class PostgreSQL does not use (RC), so they never mix with the server's own.
const NO_CHANGE = 'RC000';
const NO_CONVERSATION = 'RC404';
const ID_STORED = 'RC409';
const VERSION_DIFFERS = 'RC412';
const CONVERSATION_FULL = 'RC413';
const LIMIT_EXCEEDED = 'RC429';

interface ReservedRow extends MessageRow {
  limitCounts: number[];
  limitResets: (Date | string)[];
}

/**
 * Step 2 of a turn: one transaction that locks the conversation row, inserts the user message `n` and the
 * answer `n+1`, leased to this instance, and bumps the version by two (two messages created). The answer is
 * `queued`, or, with `start` and no earlier answer queued or streaming, already `streaming` (steps 3 and 4 done
 * here: one transaction and one version less per turn). An id already stored means a replay: the transaction rolls
 * back and the stored turn is returned, in whatever status it now has.
 *
 * The transaction is one call of the SQL function `reserve_turn` (migration 0004), autocommitted: one round trip.
 */
export async function reserveTurn(sql: Sql, input: ReserveInput): Promise<Reservation> {
  const limits = input.limits ?? [];
  let rows: ReservedRow[];
  try {
    rows = await autocommitTracked(
      () => sql<ReservedRow[]>`
        SELECT (r.message).*, r.limit_counts, r.limit_resets
        FROM reserve_turn(
          ${input.conversationId}, ${input.userMessageId}, ${input.assistantMessageId}, ${input.content},
          ${input.ifMatch ?? null}, ${input.maxMessages}, ${input.leaseOwner}, ${input.leaseMs}, ${input.start?.model ?? null},
          ${limits.map((l) => l.key)}::text[], ${limits.map((l) => l.windowSeconds)}::int[], ${limits.map((l) => l.limit)}::int[],
          ${input.authorId ?? null}
        ) r`,
    );
  } catch (err) {
    switch (sqlState(err)) {
      case NO_CONVERSATION:
        throw new AppError('not_found', 'No such conversation.', { cause: err });
      case ID_STORED:
        return replayOf(sql, input);
      case VERSION_DIFFERS:
        throw new AppError('precondition_failed', 'The conversation changed since the version you sent in If-Match.', { cause: err });
      case CONVERSATION_FULL:
        throw new AppError('conversation_full', `This conversation holds the maximum of ${input.maxMessages} messages.`, { cause: err });
      case LIMIT_EXCEEDED:
        throw new RateLimited(windowCounts(limits, JSON.parse((err as { detail: string }).detail) as RawCounts));
      default:
        throw err;
    }
  }
  const [userRow, answerRow] = rows;
  if (!userRow || !answerRow) throw new Error(`reserve_turn returned ${rows.length} rows`);
  return {
    kind: 'created',
    userMessage: messageOf(userRow),
    assistantMessage: messageOf(answerRow),
    limits: windowCounts(limits, { counts: userRow.limitCounts, resets: userRow.limitResets }),
  };
}

// Every row of reserve_turn carries the limits' counts beside the message; the message is the rest.
const messageOf = ({ limitCounts: _counts, limitResets: _resets, ...message }: ReservedRow): MessageRow => message;

interface RawCounts {
  counts: number[];
  resets: (Date | string)[];
}

function windowCounts(limits: readonly WindowLimit[], raw: RawCounts): WindowCount[] {
  return limits.map((l, i) => ({ ...l, count: raw.counts[i]!, resetAt: new Date(raw.resets[i]!) }));
}

async function replayOf(sql: Sql, input: ReserveInput): Promise<Reservation> {
  const [existing] = await sql<MessageRow[]>`SELECT * FROM messages WHERE id = ${input.userMessageId}`;
  // The call saw the id stored (a conflict is only reported for a committed row), so the row was deleted since:
  // a race rare enough to answer 500.
  if (!existing) throw new Error('a reserve found its message id stored, but no row holds it now');
  // Idempotency is scoped to the conversation sent to: an id stored in another one is not found here, as anything
  // outside one's own conversation is, rather than a conflict that would confirm the id exists elsewhere. The call
  // rolled back, so nothing changed.
  if (existing.conversationId !== input.conversationId) {
    throw new AppError('not_found', 'This message id cannot be used in this conversation; send the message with a new id.');
  }
  // The IETF Idempotency-Key draft: the same key with a different request is a conflict, not a replay.
  if (existing.role !== 'user' || existing.content !== input.content) {
    throw new AppError('idempotency_conflict', 'This message id was already used with different content.');
  }
  const answer = await readMessageBySeq(sql, existing.conversationId, existing.seq + 1);
  if (!answer || answer.replyTo !== existing.id) throw new Error(`turn of message ${existing.id} has no answer row`);
  return { kind: 'replay', userMessage: existing, assistantMessage: answer };
}

export interface AnswerRef {
  conversationId: string;
  seq: number;
}

/** Answers of this conversation before `seq` that are not terminal yet; `seq` may start when this is 0. */
export async function countActiveBefore(sql: Sql, ref: AnswerRef): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM messages
    WHERE conversation_id = ${ref.conversationId} AND seq < ${ref.seq} AND status IN ('queued', 'streaming')`;
  return row?.n ?? 0;
}

/** Keeps a queued answer's lease alive while it waits; false when it is no longer queued under this owner. */
export async function renewQueuedLease(sql: Sql, ref: AnswerRef, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await sql`
    UPDATE messages SET lease_expires_at = now() + ${leaseMs} * interval '1 millisecond'
    WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq} AND status = 'queued' AND lease_owner = ${owner}
    RETURNING seq`;
  return rows.length === 1;
}

/** Step 4: queued → streaming, leased to `owner`. Undefined when the answer is no longer queued (stopped, swept). */
export async function startAnswer(
  sql: Sql,
  ref: AnswerRef & { owner: string; leaseMs: number; model: string },
): Promise<MessageRow | undefined> {
  return inTransaction(sql, async (tx) => {
    const version = await lockForChange(tx, ref.conversationId);
    const [row] = await tx<MessageRow[]>`
      UPDATE messages
      SET status = 'streaming', model = ${ref.model}, lease_owner = ${ref.owner}, changed_version = ${version},
          lease_expires_at = now() + ${ref.leaseMs} * interval '1 millisecond', updated_at = now()
      WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq} AND status = 'queued'
      RETURNING *`;
    return row;
  });
}

export interface FinishInput extends AnswerRef {
  owner: string;
  status: TerminalStatus;
  content: string;
  error: string | null;
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** The verified sources emitted with the text, in order; kept whatever the status (a stopped answer keeps its own). */
  sources?: readonly StoredSource[];
  /** What the model was given; absent when the answer never reached the model. */
  context?: StoredContext;
  /** The revision of the report whose content the model was given. */
  reportRevision?: number;
}

export type FinishResult =
  | { applied: true; message: MessageRow }
  /** Someone else ended the answer first (the sweeper after a lost lease): `message` is what is stored. */
  | { applied: false; message: MessageRow };

/**
 * Step 6: the final text and terminal status, only while this owner still holds the answer. Safe to retry: when
 * a previous attempt committed but its acknowledgement was lost, the stored row already equals what we wrote.
 */
export async function finishAnswer(sql: Sql, input: FinishInput): Promise<FinishResult> {
  // One call of the SQL function `finish_answer` (migration 0005), autocommitted: one round trip, so the sources and
  // the context commit with the final text or not at all. (JSON travels as text: see sendNotifications.)
  const sources = JSON.stringify(input.sources ?? []);
  const context = input.context ? JSON.stringify(input.context) : null;
  const row = await autocommitTracked(
    () => sql<MessageRow[]>`
      SELECT * FROM finish_answer(${input.conversationId}, ${input.seq}, ${input.owner}, ${input.status},
                                  ${input.content}, ${input.error}, ${input.inputTokens ?? null}, ${input.outputTokens ?? null},
                                  ${input.cacheReadTokens ?? null}, ${input.cacheWriteTokens ?? null}, ${sources}::text::jsonb,
                                  ${context}::text::jsonb, ${input.reportRevision ?? null})`,
  ).then(
    ([updated]) => updated,
    (err: unknown) => {
      if (sqlState(err) === NO_CHANGE) return undefined;
      throw err;
    },
  );
  if (row) return { applied: true, message: row };
  const stored = await readMessageBySeq(sql, input.conversationId, input.seq);
  if (!stored) throw new Error(`answer ${input.conversationId}/${input.seq} vanished`);
  // Our own earlier attempt committed iff the row holds exactly what we wrote. The error text tells a finish by
  // this owner apart from the sweeper's `interrupted` or a queued stop, which write errors of their own.
  const ours =
    stored.status === input.status &&
    stored.content === input.content &&
    stored.error === input.error &&
    stored.leaseOwner === null;
  return { applied: ours, message: stored };
}

/** A stop that reaches an answer still waiting in the queue ends it here; a streaming one is stopped by its owner. */
export function stopQueuedAnswer(sql: Sql, ref: AnswerRef): Promise<MessageRow | undefined> {
  return endQueuedAnswer(sql, ref, 'stopped', null);
}

/**
 * Ends an answer still waiting in the queue, under the conversation lock; `owner`, when given, must still hold its
 * lease. Undefined when it is no longer queued (it started, or ended otherwise).
 */
function endQueuedAnswer(
  sql: Sql,
  ref: AnswerRef,
  status: 'stopped' | 'interrupted',
  error: string | null,
  owner?: string,
): Promise<MessageRow | undefined> {
  return inTransaction(sql, async (tx) => {
    const version = await lockForChange(tx, ref.conversationId);
    const [row] = await tx<MessageRow[]>`
      UPDATE messages
      SET status = ${status}, error = ${error}, changed_version = ${version}, lease_owner = NULL,
          lease_expires_at = NULL, updated_at = now()
      WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq} AND status = 'queued'
        AND (${owner ?? null}::text IS NULL OR lease_owner = ${owner ?? null})
      RETURNING *`;
    return row;
  });
}

export const INTERRUPTED_ERROR = 'The server stopped while this answer was being generated.';
export const NOT_STARTED_ERROR = 'The server stopped before this answer could start. Ask again to get one.';

/**
 * A graceful shutdown ends its own answers still waiting in the queue at once, rather than leaving them to expire:
 * nobody else will generate them, and answers queued behind them (on other instances) would wait for the sweep.
 */
export function interruptQueuedAnswer(sql: Sql, ref: AnswerRef & { owner: string }): Promise<MessageRow | undefined> {
  return endQueuedAnswer(sql, ref, 'interrupted', NOT_STARTED_ERROR, ref.owner);
}

/**
 * Marks answers whose lease expired as `interrupted`, keeping their saved text. Safe to run on every instance at
 * once: each change re-checks the expiry under the conversation lock, so one answer is swept exactly once.
 */
export async function sweepExpiredLeases(sql: Sql, limit = 100): Promise<MessageRow[]> {
  const candidates = await sql<AnswerRef[]>`
    SELECT conversation_id, seq FROM messages
    WHERE status IN ('queued', 'streaming') AND lease_expires_at < now()
    ORDER BY lease_expires_at
    LIMIT ${limit}`;
  const swept: MessageRow[] = [];
  for (const ref of candidates) {
    const row = await inTransaction(sql, async (tx) => {
      const version = await lockForChange(tx, ref.conversationId);
      // The row lock first, in a statement of its own: a checkpoint renewing this lease commits before it is granted,
      // so the next statement's snapshot holds its piece. One that did not renew found most of the lease left; a piece
      // it commits after this snapshot is text never promised, never read (migration 0013). The pieces are not deleted:
      // no reader reads them once the answer is not `streaming`, and their generation's table is truncated later.
      const [expired] = await tx`
        SELECT 1 FROM messages
        WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq}
          AND status IN ('queued', 'streaming') AND lease_expires_at < now()
        FOR UPDATE`;
      if (!expired) return undefined;
      const [updated] = await tx<MessageRow[]>`
        UPDATE messages m
        SET status = 'interrupted', error = ${INTERRUPTED_ERROR}, changed_version = ${version},
            lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
            content = m.content || coalesce(saved.saved_text, ''), sources = m.sources || coalesce(saved.saved_sources, '[]')
        FROM (SELECT ${messageColumns(tx)} FROM messages m WHERE conversation_id = ${ref.conversationId} AND seq = ${ref.seq}) saved
        WHERE m.conversation_id = ${ref.conversationId} AND m.seq = ${ref.seq}
        RETURNING m.*`;
      return updated;
    });
    if (row) swept.push(row);
  }
  return swept;
}
