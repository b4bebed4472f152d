-- Saving a streaming answer costs what it adds. Every second the engine saves what arrived since its last save, as a
-- new row of answer_pieces; the message row keeps the text as it was when the answer started (empty) until the
-- answer ends, when finish_answer writes the whole text and deletes the pieces, in one call, or the sweeper folds
-- them into the row it marks interrupted. So one answer writes its text about twice in all (the pieces, then the
-- final row), however long it streams, rather than once per save.
--
-- A piece starts where the text and the sources saved before it end (text_offset in UTF-16 code units, as the
-- engine counts; source_offset an index into the answer's sources). The two together are the key: a save that
-- carries only sources (the source of a marker whose text was saved earlier) starts at the same text offset as the
-- next piece, never at the same pair. A save whose commit was not confirmed is sent again from the same pair with
-- everything that arrived since: it replaces the piece only when it holds at least as much, so a late duplicate
-- of the shorter attempt never shortens it.
CREATE TABLE answer_pieces (
  conversation_id uuid NOT NULL,
  seq bigint NOT NULL,
  text_offset integer NOT NULL,
  source_offset integer NOT NULL,
  text text NOT NULL,
  sources jsonb NOT NULL DEFAULT '[]',
  CONSTRAINT answer_pieces_pkey PRIMARY KEY (conversation_id, seq, text_offset, source_offset),
  -- A message deleted with its conversation or report takes its pieces with it.
  CONSTRAINT answer_pieces_message_fkey FOREIGN KEY (conversation_id, seq)
    REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
--> statement-breakpoint

-- Renewing a lease changes only lease_expires_at (and updated_at): with no index on it, the new row version is a HOT
-- update on the same page, which writes no index entry and only the changed bytes to the WAL. The sweeper finds
-- expired leases through messages_active_idx, whose rows are the answers in progress: few, however long the table.
DROP INDEX messages_lease_idx;
--> statement-breakpoint

-- Room on each new page for the HOT versions of the answers in progress on it (an answer's row is small while it
-- streams: its text is in the pieces).
ALTER TABLE messages SET (fillfactor = 90);
--> statement-breakpoint

-- finish_answer of migration 0005, which also deletes the answer's pieces: the final text it stores is the whole
-- text, so they are no longer needed. Its parameters are unchanged, so it is replaced in place. The pieces are read
-- after the row lock is held: a save in flight either committed before (its pieces are deleted here) or waits and
-- then finds the answer no longer streaming (and saves nothing).
CREATE OR REPLACE FUNCTION finish_answer(
  p_conversation_id uuid, p_seq bigint, p_owner text, p_status text, p_content text, p_error text,
  p_input_tokens integer, p_output_tokens integer, p_cache_read_tokens integer, p_cache_write_tokens integer,
  p_sources jsonb, p_context jsonb, p_report_revision integer
) RETURNS SETOF messages
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v bigint;
  answer messages;
  changed boolean := false;
BEGIN
  UPDATE conversations SET version = version + 1, updated_at = now()
  WHERE id = p_conversation_id
  RETURNING version INTO v;
  IF FOUND THEN
    UPDATE messages
    SET status = p_status, content = p_content, error = p_error, input_tokens = p_input_tokens,
        output_tokens = p_output_tokens, cache_read_tokens = p_cache_read_tokens,
        cache_write_tokens = p_cache_write_tokens, sources = coalesce(p_sources, '[]'), context = p_context,
        report_revision = p_report_revision, changed_version = v, lease_owner = NULL, lease_expires_at = NULL,
        updated_at = now()
    WHERE conversation_id = p_conversation_id AND seq = p_seq
      AND status IN ('queued', 'streaming') AND lease_owner = p_owner
    RETURNING * INTO answer;
    changed := FOUND;
  END IF;
  -- Rolls back the version bump too: a change that did not happen leaves no trace.
  IF NOT changed THEN
    RAISE EXCEPTION 'answer not held by %', p_owner USING ERRCODE = 'RC000';
  END IF;
  DELETE FROM answer_pieces WHERE conversation_id = p_conversation_id AND seq = p_seq;
  RETURN NEXT answer;
END
$$;
