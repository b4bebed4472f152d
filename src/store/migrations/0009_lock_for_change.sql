-- Locking a conversation for a change, stated once. Every change of a message takes the conversation's row lock and
-- the next version number here, from TypeScript (src/store/transaction.ts) and from the functions below alike, so
-- changes of one conversation commit in version order: a reader who has seen version v never later sees a change
-- with a smaller version appear. A turn reserves two versions and two seqs (its question and its answer) in the same
-- statement. No row when the conversation does not exist. plpgsql, not sql: a plpgsql function keeps the plan of its
-- statement for the session, where an sql function called like this one plans its body at every call.
CREATE FUNCTION lock_for_change(p_conversation_id uuid, p_versions integer DEFAULT 1, p_new_messages integer DEFAULT 0)
RETURNS TABLE (version bigint, next_seq bigint, message_count integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN QUERY
  UPDATE conversations c
  SET version = c.version + p_versions, next_seq = c.next_seq + p_new_messages,
      message_count = c.message_count + p_new_messages, updated_at = now()
  WHERE c.id = p_conversation_id
  RETURNING c.version, c.next_seq, c.message_count;
END
$$;
--> statement-breakpoint

-- reserve_turn of migration 0004, taking its lock through lock_for_change; parameters and results unchanged.
CREATE OR REPLACE FUNCTION reserve_turn(
  p_conversation_id uuid, p_user_message_id uuid, p_assistant_message_id uuid, p_content text, p_if_match bigint,
  p_max_messages integer, p_lease_owner text, p_lease_ms integer, p_model text,
  p_limit_keys text[], p_limit_seconds integer[], p_limit_max integer[], p_author_id uuid DEFAULT NULL
) RETURNS TABLE (message messages, limit_counts integer[], limit_resets timestamptz[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  conv record;
  must_wait boolean;
  user_row messages;
  answer_row messages;
  hit record;
  counts integer[] := '{}';
  resets timestamptz[] := '{}';
  exceeded boolean := false;
BEGIN
  -- The row lock: concurrent turns of this conversation queue here, and each statement below runs after the previous
  -- turn committed, so its replay check and its "ahead" check see that turn.
  SELECT l.next_seq - 2 AS seq, l.version - 2 AS prev_version, l.message_count - 2 AS prev_count
  INTO conv FROM lock_for_change(p_conversation_id, 2, 2) l;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such conversation' USING ERRCODE = 'RC404';
  END IF;
  -- Not part of the lock's statement: its snapshot may predate a turn that committed while it waited for the lock;
  -- this statement's is taken after. It reads the partial index of answers in progress.
  SELECT p_model IS NULL OR EXISTS (
    SELECT 1 FROM messages
    WHERE conversation_id = p_conversation_id AND seq < conv.seq AND status IN ('queued', 'streaming')
  ) INTO must_wait;
  -- ON CONFLICT (id) waits for an in-flight insert of the same id (in any conversation), then skips.
  INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, changed_version, author_id)
  VALUES (p_conversation_id, conv.seq, p_user_message_id, 'user', p_content, 'complete', NULL, conv.prev_version + 1,
          p_author_id)
  ON CONFLICT (id) DO NOTHING
  RETURNING * INTO user_row;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'message id already stored' USING ERRCODE = 'RC409';
  END IF;
  INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, changed_version,
                        model, lease_owner, lease_expires_at)
  VALUES (p_conversation_id, conv.seq + 1, p_assistant_message_id, 'assistant', '',
          CASE WHEN must_wait THEN 'queued' ELSE 'streaming' END, p_user_message_id, conv.prev_version + 2,
          CASE WHEN must_wait THEN NULL ELSE p_model END, p_lease_owner,
          now() + p_lease_ms * interval '1 millisecond')
  ON CONFLICT (id) DO NOTHING
  RETURNING * INTO answer_row;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'answer id already stored' USING ERRCODE = 'RC409';
  END IF;
  -- After the replay check: a replay returns the stored turn whatever the version or the size is now.
  IF p_if_match IS NOT NULL AND p_if_match <> conv.prev_version THEN
    RAISE EXCEPTION 'version is not %', p_if_match USING ERRCODE = 'RC412';
  END IF;
  IF conv.prev_count + 2 > p_max_messages THEN
    RAISE EXCEPTION 'conversation full' USING ERRCODE = 'RC413';
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_limit_keys, 1), 0) LOOP
    SELECT * INTO hit FROM hit_rate_window(p_limit_keys[i], p_limit_seconds[i]);
    counts := counts || hit.count;
    resets := resets || hit.reset_at;
    exceeded := exceeded OR hit.count > p_limit_max[i];
  END LOOP;
  IF exceeded THEN
    RAISE EXCEPTION 'turn limit exceeded' USING ERRCODE = 'RC429',
      DETAIL = json_build_object('counts', counts, 'resets', resets)::text;
  END IF;
  message := user_row;
  limit_counts := counts;
  limit_resets := resets;
  RETURN NEXT;
  message := answer_row;
  RETURN NEXT;
END
$$;
--> statement-breakpoint

-- finish_answer of migration 0007, taking its lock through lock_for_change; parameters and results unchanged.
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
  DELETE FROM answer_pieces WHERE conversation_id = p_conversation_id AND seq = p_seq;
  RETURN NEXT answer;
END
$$;
