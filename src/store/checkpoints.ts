import type { Sql } from './db.js';
import type { AnswerRef } from './turns.js';
import type { StoredSource } from './types.js';

export interface CheckpointPiece extends AnswerRef {
  /**
   * Where this checkpoint's piece starts: the length of the text (UTF-16 code units) and the number of sources that
   * earlier checkpoints saved, as confirmed by their returning true. A checkpoint whose outcome was not confirmed is
   * sent again from the same place with everything that arrived since.
   */
  from: { chars: number; sources: number };
  /** The text that arrived since `from.chars`; may be empty. */
  text: string;
  /** The sources emitted since `from.sources`, in order. */
  sources?: readonly StoredSource[];
  reportRevision?: number;
}

export interface CheckpointBatch {
  /** The instance holding every answer of the batch. */
  owner: string;
  leaseMs: number;
  answers: readonly CheckpointPiece[];
}

/**
 * A checkpoint renews the lease only once less than this share of it is left. The engine checkpoints at least every
 * third of the lease (src/chat/checkpointer.ts), so a renewal falls due with at least a third of the lease still to
 * run (5 s of the default 15 s), and the checkpoints in between write nothing to the message row. Migration 0013
 * relies on it: a checkpoint that skips the renewal found most of the lease left, so no sweep can overtake it.
 */
const RENEW_BELOW_SHARE = 2 / 3;

/**
 * Step 5, for every streaming answer of one instance at once: saves what arrived since each answer's last
 * checkpoint and keeps the leases alive. Not a versioned change (API.md: the version counts creation, status
 * changes and final content). Returns, per answer in the order given, whether `owner` still holds it (false: swept,
 * or ended otherwise; nothing of it was saved). The sources cited so far and the revision they point into are saved
 * with the text: an answer the sweeper ends keeps the sources of the text it keeps. Call it at least every third of
 * `leaseMs`, with or without new text, for the leases to stay alive (RENEW_BELOW_SHARE).
 *
 * Its cost does not grow with the answers (migration 0007): each answer's new text and sources are one piece, and
 * the message rows keep their text (none) and their indexes; a lease is renewed (a HOT update) only when due, and
 * otherwise the row is only read, neither locked nor rewritten. One autocommitted call of the SQL function
 * `checkpoint_answers` (migration 0013, which says why no lock is needed): one transaction and one commit for the
 * batch. It fails as a whole: then nothing of it was saved, or its outcome is unknown, and each answer is sent again
 * from the same offsets.
 */
export async function checkpointAnswers(sql: Sql, batch: CheckpointBatch): Promise<boolean[]> {
  const { answers } = batch;
  if (answers.length === 0) return [];
  // JSON travels as text: see sendNotifications.
  const [row] = await sql<{ held: boolean[] }[]>`
    SELECT checkpoint_answers(
      ${batch.owner}, ${batch.leaseMs}, ${Math.floor(batch.leaseMs * RENEW_BELOW_SHARE)},
      ${answers.map((a) => a.conversationId)}::uuid[], ${answers.map((a) => a.seq)}::bigint[],
      ${answers.map((a) => a.from.chars)}::int[], ${answers.map((a) => a.from.sources)}::int[],
      ${answers.map((a) => a.text)}::text[], ${answers.map((a) => JSON.stringify(a.sources ?? []))}::text[]::jsonb[],
      ${answers.map((a) => a.reportRevision ?? null)}::int[]
    ) AS held`;
  const held = row?.held ?? [];
  if (held.length !== answers.length) throw new Error(`checkpoint_answers returned ${held.length} results for ${answers.length} answers`);
  return held;
}

/** One answer's checkpoint, as a batch of one: true while `owner` still holds it. */
export async function checkpointAnswer(sql: Sql, input: CheckpointPiece & { owner: string; leaseMs: number }): Promise<boolean> {
  const { owner, leaseMs, ...answer } = input;
  const [held] = await checkpointAnswers(sql, { owner, leaseMs, answers: [answer] });
  return held === true;
}

export type RotationStep = 'switched' | 'horizon' | 'drained' | 'truncated' | 'waiting' | 'none' | 'busy';

/**
 * One step of the rotation of the pieces' two tables (migration 0013, rotate_answer_pieces): pieces are never deleted
 * row by row; a generation's table is truncated once no answer that could have pieces in it still streams, and the
 * current one is switched once the other is empty and `afterMs` have passed. Safe on every instance at once; one
 * autocommitted call, no session state.
 */
export async function rotateAnswerPieces(sql: Sql, afterMs: number): Promise<RotationStep> {
  const [row] = await sql<{ step: RotationStep }[]>`SELECT rotate_answer_pieces(${afterMs}) AS step`;
  return row!.step;
}
