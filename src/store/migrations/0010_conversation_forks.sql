-- Many conversations per report. The one each report had becomes its main conversation (shared, never deleted),
-- in place: no message changes. Each conversation stays a linear, append-only log; a fork is a new conversation
-- whose first messages are copies of a prefix of another, which the fork never changes.
ALTER TABLE conversations DROP CONSTRAINT conversations_report_id_unique;
--> statement-breakpoint
-- An insert that names only the report (createReport's, and an instance not yet upgraded during a rolling deploy)
-- is the report's main conversation; create_conversation names every column.
ALTER TABLE conversations
  ADD COLUMN is_main boolean NOT NULL DEFAULT true,
  ADD COLUMN title text NOT NULL DEFAULT 'Main conversation',
  ADD COLUMN visibility text NOT NULL DEFAULT 'shared',
  ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  -- No foreign key: a fork outlives the deletion of its source, and still says where it came from.
  ADD COLUMN forked_from_conversation_id uuid,
  ADD COLUMN forked_from_seq bigint,
  -- The body of the request that created it, to tell a replay (the same body) from a reuse of the id (another body).
  ADD COLUMN create_request jsonb,
  ADD CONSTRAINT conversations_visibility_check CHECK (visibility IN ('shared', 'private')),
  ADD CONSTRAINT conversations_main_shared_check CHECK (NOT is_main OR visibility = 'shared'),
  ADD CONSTRAINT conversations_fork_check CHECK ((forked_from_conversation_id IS NULL) = (forked_from_seq IS NULL));
--> statement-breakpoint
UPDATE conversations c SET created_by = r.owner_id FROM reports r WHERE r.id = c.report_id;
--> statement-breakpoint
-- One main conversation per report; and the report's conversations by activity, for the list.
CREATE UNIQUE INDEX conversations_main_key ON conversations (report_id) WHERE is_main;
--> statement-breakpoint
CREATE INDEX conversations_report_idx ON conversations (report_id, updated_at DESC);
--> statement-breakpoint
-- The per-user limit counts a user's conversations of a report.
CREATE INDEX conversations_creator_idx ON conversations (report_id, created_by);
--> statement-breakpoint

-- A message a fork copied names the message it is a copy of (the first one written). No foreign key: the original
-- may be cleared or deleted with its conversation while the copy lives on.
ALTER TABLE messages ADD COLUMN copied_from uuid;
--> statement-breakpoint

-- Who may see a conversation, stated once: a member of its report (report_access) sees the shared ones, and the
-- private ones they created. Everyone else, the report's owner included, does not see a private one.
CREATE VIEW conversation_access AS
  SELECT c.id AS conversation_id, c.report_id, a.user_id, a.role
  FROM conversations c
  JOIN report_access a ON a.report_id = c.report_id
  WHERE c.visibility = 'shared' OR c.created_by = a.user_id;
--> statement-breakpoint

-- Creates a conversation of a report, empty or forked from a prefix of another, in one call (one transaction). The
-- caller has checked that the caller may chat in the report. The source's visibility is checked here, after the
-- replay check, so a fork sent again after a lost answer is its replay even if its source has since been deleted or
-- made private. A title left out (NULL) gets its default here, where the source is read. Raises (class RC):
--   RC409 the id exists with this body (a replay: the caller reads it), RC422 the id exists with another body,
--   RC404 the source is not a conversation of this report that the caller sees, RC400 the fork seq does not end a turn,
--   RC423 an answer up to the fork seq is still in progress, RC429 the caller's conversation limit.
-- The source's row is locked FOR SHARE, which waits for a change of it in flight and holds off the next one until
-- this commits, so the copy is of one consistent prefix; the source itself is not changed.
CREATE FUNCTION create_conversation(
  p_id uuid, p_report_id uuid, p_user_id uuid, p_title text, p_visibility text,
  p_source_id uuid, p_source_seq bigint, p_request jsonb, p_max_per_user integer
) RETURNS SETOF conversations
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  existing conversations;
  created conversations;
  source conversations;
  copied integer := 0;
  last_role text;
  last_status text;
  busy boolean;
BEGIN
  -- One creation per user and report at a time: the limit below counts what the others committed.
  PERFORM pg_advisory_xact_lock(hashtextextended('conversations:' || p_report_id || ':' || p_user_id, 0));
  SELECT * INTO existing FROM conversations WHERE id = p_id;
  IF FOUND THEN
    IF existing.report_id = p_report_id AND existing.created_by = p_user_id AND existing.create_request = p_request THEN
      RAISE EXCEPTION 'conversation already created' USING ERRCODE = 'RC409';
    END IF;
    RAISE EXCEPTION 'conversation id already used' USING ERRCODE = 'RC422';
  END IF;
  IF (SELECT count(*) FROM conversations WHERE report_id = p_report_id AND created_by = p_user_id AND NOT is_main) >= p_max_per_user THEN
    RAISE EXCEPTION 'conversation limit' USING ERRCODE = 'RC429';
  END IF;
  IF p_source_id IS NOT NULL THEN
    -- A source the caller cannot see is as absent as one that does not exist.
    SELECT c.* INTO source FROM conversations c
    WHERE c.id = p_source_id AND c.report_id = p_report_id
      AND EXISTS (SELECT 1 FROM conversation_access a WHERE a.conversation_id = c.id AND a.user_id = p_user_id)
    FOR SHARE OF c;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no such source conversation' USING ERRCODE = 'RC404';
    END IF;
    IF p_source_seq > 0 THEN
      SELECT role, status INTO last_role, last_status FROM messages WHERE conversation_id = p_source_id AND seq = p_source_seq;
      IF NOT FOUND OR last_role <> 'assistant' THEN
        RAISE EXCEPTION 'fork seq does not end a turn' USING ERRCODE = 'RC400';
      END IF;
      SELECT EXISTS (
        SELECT 1 FROM messages
        WHERE conversation_id = p_source_id AND seq <= p_source_seq AND status IN ('queued', 'streaming')
      ) INTO busy;
      IF busy THEN
        RAISE EXCEPTION 'an answer of the prefix is in progress' USING ERRCODE = 'RC423';
      END IF;
    END IF;
  END IF;
  INSERT INTO conversations (id, report_id, is_main, title, visibility, created_by, forked_from_conversation_id,
                             forked_from_seq, create_request, next_seq, version, message_count)
  VALUES (p_id, p_report_id, false,
          coalesce(p_title, CASE WHEN p_source_id IS NULL THEN 'New conversation' ELSE left(source.title || ' (branch)', 200) END),
          p_visibility, p_user_id, p_source_id,
          CASE WHEN p_source_id IS NULL THEN NULL ELSE p_source_seq END, p_request,
          coalesce(p_source_seq, 0) + 1, 0, 0)
  RETURNING * INTO created;
  IF p_source_id IS NOT NULL AND p_source_seq > 0 THEN
    -- Same seqs as the source, so "the fork's first seq messages" are the source's, message for message; versions
    -- 1..n in seq order, so a reader resuming from version 0 gets them all.
    -- An answer's reply_to names its question's copy.
    WITH src AS (
      SELECT m.*, gen_random_uuid() AS new_id FROM messages m
      WHERE m.conversation_id = p_source_id AND m.seq <= p_source_seq
    )
    INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, error, model, input_tokens,
                          output_tokens, cache_read_tokens, cache_write_tokens, sources, context, report_revision,
                          author_id, changed_version, copied_from, created_at, updated_at)
    SELECT p_id, s.seq, s.new_id, s.role, s.content, s.status, q.new_id, s.error, s.model, s.input_tokens,
           s.output_tokens, s.cache_read_tokens, s.cache_write_tokens, s.sources, s.context, s.report_revision,
           s.author_id, row_number() OVER (ORDER BY s.seq), coalesce(s.copied_from, s.id), s.created_at, s.updated_at
    FROM src s LEFT JOIN src q ON q.id = s.reply_to
    ORDER BY s.seq;
    GET DIAGNOSTICS copied = ROW_COUNT;
    UPDATE conversations SET version = copied, message_count = copied WHERE id = p_id RETURNING * INTO created;
  END IF;
  RETURN NEXT created;
END
$$;
