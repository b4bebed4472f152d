-- A checkpoint of a streaming answer (src/store/turns.ts checkpointAnswer), one call: saves what arrived since the
-- previous checkpoint as a piece, and keeps the lease alive. It renews the lease (a HOT update of the message row)
-- only when less than p_renew_below_ms of it is left, or the report revision is new; otherwise it only locks the
-- row, a lock record in the WAL instead of a new row version (the piece's foreign key check would lock the row
-- anyway). False when p_owner no longer holds the answer (swept, or ended otherwise), and then nothing is saved.
--
-- The row lock comes first: it orders this checkpoint with a finish or a sweep, so a piece is only ever added to an
-- answer still streaming under this owner, and is then seen by whoever ends it; and it orders two checkpoints of one
-- answer (a retry beside an attempt whose outcome was not confirmed). At READ COMMITTED each statement of a volatile
-- function takes a fresh snapshot, so every statement after the lock sees the pieces any earlier holder committed.
--
-- A piece starts where the text and the sources saved before it end (migration 0007). One already stored at the same
-- place (an attempt whose commit was not confirmed) is replaced only by one holding at least as much, so a late
-- duplicate of the shorter attempt never shortens it. A plain INSERT after that check, not INSERT ... ON CONFLICT,
-- whose speculative insertion writes a confirmation record to the WAL for every piece.
CREATE FUNCTION checkpoint_answer(
  p_conversation_id uuid, p_seq bigint, p_owner text, p_lease_ms integer, p_renew_below_ms integer,
  p_text_offset integer, p_source_offset integer, p_text text, p_sources jsonb, p_report_revision integer
) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  UPDATE messages
  SET lease_expires_at = now() + p_lease_ms * interval '1 millisecond', updated_at = now(),
      report_revision = coalesce(p_report_revision, report_revision)
  WHERE conversation_id = p_conversation_id AND seq = p_seq AND status = 'streaming' AND lease_owner = p_owner
    AND NOT (coalesce(lease_expires_at >= now() + p_renew_below_ms * interval '1 millisecond', false)
             AND report_revision IS NOT DISTINCT FROM coalesce(p_report_revision, report_revision));
  IF NOT FOUND THEN
    -- The lease did not need renewing (or the answer is no longer ours): the lock alone. Ownership is checked
    -- again, not freshness: a lease that fell due since the statement above is renewed by the next checkpoint.
    PERFORM 1 FROM messages
    WHERE conversation_id = p_conversation_id AND seq = p_seq AND status = 'streaming' AND lease_owner = p_owner
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      RETURN false;
    END IF;
  END IF;
  IF p_text = '' AND p_sources = '[]'::jsonb THEN
    RETURN true;
  END IF;
  UPDATE answer_pieces p SET text = p_text, sources = p_sources
  WHERE p.conversation_id = p_conversation_id AND p.seq = p_seq
    AND p.text_offset = p_text_offset AND p.source_offset = p_source_offset
    AND length(p_text) >= length(p.text) AND jsonb_array_length(p_sources) >= jsonb_array_length(p.sources);
  IF NOT FOUND AND NOT EXISTS (
    SELECT 1 FROM answer_pieces p
    WHERE p.conversation_id = p_conversation_id AND p.seq = p_seq
      AND p.text_offset = p_text_offset AND p.source_offset = p_source_offset
  ) THEN
    INSERT INTO answer_pieces (conversation_id, seq, text_offset, source_offset, text, sources)
    VALUES (p_conversation_id, p_seq, p_text_offset, p_source_offset, p_text, p_sources);
  END IF;
  RETURN true;
END
$$;
