-- One checkpoint statement per instance per tick (src/chat/checkpointer.ts): every streaming answer of an instance is
-- saved by one call, one transaction and one commit record for all of them, instead of one autocommitted call each.
-- And a checkpoint that does not renew the lease writes nothing to the message row: no lock, no new version.
--
-- The pieces no longer reference their message. The foreign key's check locked the message row (FOR KEY SHARE) at
-- every piece, a lock record in the WAL per answer per second, which is what this migration removes.
ALTER TABLE answer_pieces DROP CONSTRAINT answer_pieces_message_fkey;
--> statement-breakpoint

-- Replaced by checkpoint_answers below: the same rules, once for every answer of the call.
DROP FUNCTION checkpoint_answer(uuid, bigint, text, integer, integer, integer, integer, text, jsonb, integer);
--> statement-breakpoint

-- Saves what arrived since the previous checkpoint of each answer (element i of every array is answer i) and keeps
-- the leases alive; the answers are all held by p_owner. Returns, per answer in the order given, whether it is still
-- streaming under p_owner; for one that is not, nothing is saved.
--
-- Leases are renewed by one UPDATE, for the answers whose lease has less than p_renew_below_ms left or whose report
-- revision is new (a HOT update of the row, as in migration 0012). The others' rows are only read: their ownership is
-- checked by a plain read, and their pieces inserted. Why that ordering is still correct without the row lock:
-- - A finish is only ever called by the owner, which never runs it beside a checkpoint of the same answer: the engine
--   waits for a checkpoint in flight before finishing, and sends none after (src/chat/checkpointer.ts).
-- - A sweep only ends an answer whose lease expired. A checkpoint that skips the renewal found at least
--   p_renew_below_ms (two thirds of the lease) left when its transaction began, and an expired lease always takes the
--   renewal, which locks the row and so waits for a sweep in progress (and then finds the answer not streaming). So a
--   piece committed after a sweep read the pieces comes from a checkpoint that stalled for most of a lease: it is
--   text of an answer already ended `interrupted`, text that was never promised. Nobody was told "saved" about it
--   (only a finish says that); the owner learns it lost the answer at its next renewal, or at its finish, which reports
--   saved: false.
-- - Readers read the pieces only of a row still `streaming` (src/store/saved-text.ts), in the same snapshot as the
--   row: before an answer ends they see the pieces committed so far, after it they see the row's own text.
-- So a piece can outlive its answer only as text nobody sees: the sweeper deletes those orphans
-- (deleteOrphanPieces in src/store/turns.ts), as it does any piece whose message no longer exists.
--
-- Two checkpoints of one answer can still meet: a retry beside an attempt whose outcome was not confirmed (its
-- connection dropped while the server went on). A piece already stored at the same offsets is replaced only by one
-- holding at least as much, so the late shorter attempt never shortens it; two attempts inserting the same piece at
-- once meet on the primary key, and the one that loses fails with 23505, as a whole call: its answers keep their
-- text and the next tick sends it again. Several rows are renewed by one statement without a deadlock: an instance
-- holds disjoint answers from any other's, a sweep or a finish locks one answer's row, and neither waits for a
-- second message row while holding one.
--
-- A plain INSERT after the replace, not INSERT ... ON CONFLICT, whose speculative insertion writes a confirmation
-- record to the WAL for every piece. At READ COMMITTED each statement of a volatile function takes a fresh snapshot:
-- the ownership read sees the renewals above and any sweep or finish committed before it.
CREATE FUNCTION checkpoint_answers(
  p_owner text, p_lease_ms integer, p_renew_below_ms integer,
  p_conversation_ids uuid[], p_seqs bigint[], p_text_offsets integer[], p_source_offsets integer[],
  p_texts text[], p_sources jsonb[], p_report_revisions integer[]
) RETURNS boolean[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  held boolean[];
BEGIN
  UPDATE messages m
  SET lease_expires_at = now() + p_lease_ms * interval '1 millisecond', updated_at = now(),
      report_revision = coalesce(a.report_revision, m.report_revision)
  FROM unnest(p_conversation_ids, p_seqs, p_report_revisions) AS a (conversation_id, seq, report_revision)
  WHERE m.conversation_id = a.conversation_id AND m.seq = a.seq AND m.status = 'streaming' AND m.lease_owner = p_owner
    AND NOT (coalesce(m.lease_expires_at >= now() + p_renew_below_ms * interval '1 millisecond', false)
             AND m.report_revision IS NOT DISTINCT FROM coalesce(a.report_revision, m.report_revision));

  -- Ownership, not freshness: a lease that fell due since the statement above is renewed by the next checkpoint.
  SELECT array_agg(EXISTS (
           SELECT 1 FROM messages m
           WHERE m.conversation_id = a.conversation_id AND m.seq = a.seq AND m.status = 'streaming'
             AND m.lease_owner = p_owner
         ) ORDER BY a.i)
  INTO held
  FROM unnest(p_conversation_ids, p_seqs) WITH ORDINALITY AS a (conversation_id, seq, i);

  UPDATE answer_pieces p SET text = a.text, sources = a.sources
  FROM unnest(p_conversation_ids, p_seqs, p_text_offsets, p_source_offsets, p_texts, p_sources)
       WITH ORDINALITY AS a (conversation_id, seq, text_offset, source_offset, text, sources, i)
  WHERE held[a.i] AND (a.text <> '' OR a.sources <> '[]'::jsonb)
    AND p.conversation_id = a.conversation_id AND p.seq = a.seq
    AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
    AND length(a.text) >= length(p.text) AND jsonb_array_length(a.sources) >= jsonb_array_length(p.sources);

  INSERT INTO answer_pieces (conversation_id, seq, text_offset, source_offset, text, sources)
  SELECT a.conversation_id, a.seq, a.text_offset, a.source_offset, a.text, a.sources
  FROM unnest(p_conversation_ids, p_seqs, p_text_offsets, p_source_offsets, p_texts, p_sources)
       WITH ORDINALITY AS a (conversation_id, seq, text_offset, source_offset, text, sources, i)
  WHERE held[a.i] AND (a.text <> '' OR a.sources <> '[]'::jsonb)
    AND NOT EXISTS (
      SELECT 1 FROM answer_pieces p
      WHERE p.conversation_id = a.conversation_id AND p.seq = a.seq
        AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
    );

  RETURN coalesce(held, '{}');
END
$$;
