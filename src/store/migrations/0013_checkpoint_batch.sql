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

-- The pieces are never deleted row by row (a DELETE record per piece at every finish, then VACUUM's cleanup of the
-- dead rows): they live in two tables, one generation each, and a generation is emptied a table at a time by TRUNCATE
-- once no answer that could have pieces in it still streams (rotate_answer_pieces below). Readers read the view
-- answer_pieces, both tables; a lookup by (conversation_id, seq) is an index scan of each. A finished or interrupted
-- answer's pieces stay behind until then, never read: readers read the pieces only of a row still `streaming`
-- (src/store/saved-text.ts), and a message never becomes `streaming` again.
ALTER TABLE answer_pieces RENAME TO answer_pieces_0;
--> statement-breakpoint
ALTER TABLE answer_pieces_0 RENAME CONSTRAINT answer_pieces_pkey TO answer_pieces_0_pkey;
--> statement-breakpoint
-- A piece without sources stores none: NULL, not '[]'.
ALTER TABLE answer_pieces_0 ALTER COLUMN sources DROP NOT NULL, ALTER COLUMN sources DROP DEFAULT;
--> statement-breakpoint
CREATE TABLE answer_pieces_1 (LIKE answer_pieces_0 INCLUDING ALL);
--> statement-breakpoint
CREATE VIEW answer_pieces AS SELECT * FROM answer_pieces_0 UNION ALL SELECT * FROM answer_pieces_1;
--> statement-breakpoint

-- Which table takes the pieces now (current), since when (switched_at), and whether the other one is empty. A switch
-- is committed before horizon (set by the first rotation that sees it), and the other table was found drained at
-- drained_at. One row.
CREATE TABLE answer_piece_generation (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  current smallint NOT NULL CHECK (current IN (0, 1)),
  switched_at timestamptz NOT NULL,
  other_empty boolean NOT NULL,
  horizon timestamptz,
  drained_at timestamptz
);
--> statement-breakpoint
INSERT INTO answer_piece_generation (current, switched_at, other_empty) VALUES (0, now(), true);
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
-- So a piece can outlive its answer only as text nobody sees, until its generation's table is truncated (below).
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
  generation smallint;
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

  -- After the ownership read, in a later snapshot: a checkpoint that still finds the generation before a switch found
  -- its answers streaming before the switch committed (rotate_answer_pieces relies on it).
  SELECT g.current INTO generation FROM answer_piece_generation g;

  -- An earlier attempt whose outcome was not confirmed may have stored its piece in either generation: both are
  -- checked and replaced alike. Sources are stored as NULL when there are none (a few bytes a piece).
  UPDATE answer_pieces_0 p SET text = a.text, sources = nullif(a.sources, '[]'::jsonb)
  FROM unnest(p_conversation_ids, p_seqs, p_text_offsets, p_source_offsets, p_texts, p_sources)
       WITH ORDINALITY AS a (conversation_id, seq, text_offset, source_offset, text, sources, i)
  WHERE held[a.i] AND (a.text <> '' OR a.sources <> '[]'::jsonb)
    AND p.conversation_id = a.conversation_id AND p.seq = a.seq
    AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
    AND length(a.text) >= length(p.text) AND jsonb_array_length(a.sources) >= coalesce(jsonb_array_length(p.sources), 0);
  UPDATE answer_pieces_1 p SET text = a.text, sources = nullif(a.sources, '[]'::jsonb)
  FROM unnest(p_conversation_ids, p_seqs, p_text_offsets, p_source_offsets, p_texts, p_sources)
       WITH ORDINALITY AS a (conversation_id, seq, text_offset, source_offset, text, sources, i)
  WHERE held[a.i] AND (a.text <> '' OR a.sources <> '[]'::jsonb)
    AND p.conversation_id = a.conversation_id AND p.seq = a.seq
    AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
    AND length(a.text) >= length(p.text) AND jsonb_array_length(a.sources) >= coalesce(jsonb_array_length(p.sources), 0);

  -- Static SQL, no dynamic SQL: the statement keeps its plan for the session, and the generation picks which of its
  -- two inserts takes the rows. NOT EXISTS reads the view, so both generations. Two attempts inserting the same piece
  -- at once meet on the primary key when they insert into the same generation; across a switch both may commit, and
  -- readers then take the longer (src/store/saved-text.ts), as the replace above would have.
  WITH piece AS (
    SELECT a.conversation_id, a.seq, a.text_offset, a.source_offset, a.text, nullif(a.sources, '[]'::jsonb) AS sources
    FROM unnest(p_conversation_ids, p_seqs, p_text_offsets, p_source_offsets, p_texts, p_sources)
         WITH ORDINALITY AS a (conversation_id, seq, text_offset, source_offset, text, sources, i)
    WHERE held[a.i] AND (a.text <> '' OR a.sources <> '[]'::jsonb)
      AND NOT EXISTS (
        SELECT 1 FROM answer_pieces p
        WHERE p.conversation_id = a.conversation_id AND p.seq = a.seq
          AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
      )
  ), into_0 AS (
    INSERT INTO answer_pieces_0 (conversation_id, seq, text_offset, source_offset, text, sources)
    SELECT * FROM piece WHERE generation = 0
  )
  INSERT INTO answer_pieces_1 (conversation_id, seq, text_offset, source_offset, text, sources)
  SELECT * FROM piece WHERE generation = 1;

  RETURN coalesce(held, '{}');
END
$$;
--> statement-breakpoint

-- finish_answer of migration 0009, without deleting the answer's pieces: they stay in their generation's table, never
-- read again (a reader reads the pieces only of a row still `streaming`, and this one no longer is), until that table
-- is truncated. Its parameters are unchanged, so it is replaced in place. The final text it stores is the whole text,
-- passed by the owner, which never finishes beside a checkpoint of its own (src/chat/checkpointer.ts).
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
  SELECT l.version INTO v FROM lock_for_change(p_conversation_id) l;
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
  RETURN NEXT answer;
END
$$;
--> statement-breakpoint

-- One step of the pieces' rotation, called by the sweeper of every instance (src/chat/sweeper.ts), any number at once.
-- Returns what it did: 'switched', 'horizon', 'drained', 'truncated', or 'waiting', 'none', 'busy' (nothing). Each call
-- is one transaction and keeps no session state (a transaction pooler may sit in front). Its steps, one per call:
-- 1. Switch: once the other table is empty and the current one has taken pieces for p_after_ms, the other becomes
--    current. An UPDATE of the control row, whose lock serializes rotators: a second one re-checks its WHERE on the
--    new version and switches nothing.
-- 2. Horizon: the first call that sees the switch committed records clock_timestamp(), a time after that commit. An
--    answer created at or after the horizon (created_at is its reserving transaction's start, before its commit)
--    was not streaming when the switch committed.
-- 3. Drain: the old table may hold pieces only of answers streaming before the switch committed. A checkpoint reads
--    the generation after it found its answers streaming (checkpoint_answers), so one that still reads the old
--    generation, and commits after the switch, holds answers that were streaming before the switch committed, so
--    created before the horizon. Once no answer created before the horizon is still streaming, nothing in the old
--    table will be read again (readers read pieces only of a row still `streaming`); that time is drained_at. A
--    piece a late checkpoint adds after that (its answer ended meanwhile, as migration 0013 says above) is text of
--    an ended answer, never read either.
-- 4. Truncate, at a later call at least a second after drained_at: TRUNCATE is not MVCC-safe, and a REPEATABLE READ
--    reader (src/store/history.ts) whose snapshot still shows an old answer streaming, and which reads the view only
--    after the TRUNCATE, would find its pieces gone; the reads that do this hold their snapshot for milliseconds.
--    LOCK TABLE waits for every transaction holding a lock on the old table (a checkpoint inserting into it, a
--    reader) and, within the lock_timeout, 100 ms, so that checkpoints and readers queued behind it wait no longer;
--    on timeout (55P03) the call returns 'busy' and the next one tries again. Under the lock, with the control row
--    locked, the drain is checked again, then the table is truncated and marked empty.
-- p_after_ms is how long a generation takes pieces (the app's 60 s: see src/chat/sweeper.ts).
CREATE FUNCTION rotate_answer_pieces(p_after_ms integer) RETURNS text
LANGUAGE plpgsql VOLATILE SET lock_timeout = '100ms' AS $$
DECLARE
  g answer_piece_generation;
BEGIN
  SELECT * INTO g FROM answer_piece_generation;
  IF g.other_empty THEN
    UPDATE answer_piece_generation
    SET current = 1 - current, switched_at = now(), other_empty = false, horizon = NULL, drained_at = NULL
    WHERE other_empty AND switched_at < now() - p_after_ms * interval '1 millisecond';
    RETURN CASE WHEN FOUND THEN 'switched' ELSE 'none' END;
  END IF;
  IF g.horizon IS NULL THEN
    UPDATE answer_piece_generation SET horizon = clock_timestamp() WHERE NOT other_empty AND horizon IS NULL;
    RETURN 'horizon';
  END IF;
  -- The partial index of answers in progress (messages_active_idx) finds the few streaming.
  IF EXISTS (SELECT 1 FROM messages WHERE status = 'streaming' AND created_at < g.horizon) THEN
    RETURN 'waiting';
  END IF;
  IF g.drained_at IS NULL THEN
    UPDATE answer_piece_generation SET drained_at = clock_timestamp()
    WHERE NOT other_empty AND horizon = g.horizon AND drained_at IS NULL;
    RETURN 'drained';
  END IF;
  IF g.drained_at > clock_timestamp() - interval '1 second' THEN
    RETURN 'waiting';
  END IF;
  IF g.current = 0 THEN
    LOCK TABLE answer_pieces_1 IN ACCESS EXCLUSIVE MODE;
  ELSE
    LOCK TABLE answer_pieces_0 IN ACCESS EXCLUSIVE MODE;
  END IF;
  SELECT * INTO g FROM answer_piece_generation
  WHERE NOT other_empty AND current = g.current AND horizon = g.horizon
  FOR UPDATE;
  IF NOT FOUND OR EXISTS (SELECT 1 FROM messages WHERE status = 'streaming' AND created_at < g.horizon) THEN
    RETURN 'none';
  END IF;
  IF g.current = 0 THEN
    TRUNCATE answer_pieces_1;
  ELSE
    TRUNCATE answer_pieces_0;
  END IF;
  UPDATE answer_piece_generation SET other_empty = true, horizon = NULL, drained_at = NULL;
  RETURN 'truncated';
EXCEPTION WHEN lock_not_available THEN
  RETURN 'busy';
END
$$;
