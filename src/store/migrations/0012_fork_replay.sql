-- create_conversation of migration 0010, which trusted its caller to have checked that the source is visible. That
-- check ran before the call, so before the replay check: a fork sent again after a lost response was answered 404
-- once its source had been deleted or made private by someone else, though the fork existed. Here the source's
-- visibility is checked inside the call, after the replay check, by the one statement of who sees what (the view
-- conversation_access), and a title left out gets its default here, where the source is read. Parameters, codes and
-- results unchanged; p_title may be NULL.
CREATE OR REPLACE FUNCTION create_conversation(
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
