-- Who wrote each user message, so the model can be told whose words each message of a shared conversation is
-- (src/llm/prompts.ts). Null for an answer, and for a message stored before this column. No index: the app never
-- deletes users, and the rare operator's deletion may scan messages to set its authors to null.
ALTER TABLE messages ADD COLUMN author_id uuid REFERENCES users (id) ON DELETE SET NULL;
--> statement-breakpoint

-- reserve_turn takes the author as a last parameter with a default, so a call without it (an instance not yet
-- upgraded, during a rolling deploy) still works and stores no author. A new parameter is a new signature, which
-- CREATE OR REPLACE would add beside the old one (and calls with the old arguments would then be ambiguous), so the
-- old one is dropped first, in this migration's transaction.
DROP FUNCTION reserve_turn(uuid, uuid, uuid, text, bigint, integer, text, integer, text, text[], integer[], integer[]);
--> statement-breakpoint

-- Step 2 of a turn (DESIGN.md): lock the conversation, insert the user message n, written by p_author_id, and the
-- answer n+1 leased to the caller (`streaming` at once when p_model is given and no earlier answer is queued or
-- streaming, else `queued`), count the turn limits. Returns the two rows, each with the limits' counts and window ends.
-- Exactly the function of migration 0002 but for the author.
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
  UPDATE conversations
  SET next_seq = next_seq + 2, version = version + 2, message_count = message_count + 2, updated_at = now()
  WHERE id = p_conversation_id
  RETURNING next_seq - 2 AS seq, version - 2 AS prev_version, message_count - 2 AS prev_count INTO conv;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such conversation' USING ERRCODE = 'RC404';
  END IF;
  -- Not part of the UPDATE: its snapshot may predate a turn that committed while it waited for the lock; this
  -- statement's is taken after. It reads the partial index of answers in progress.
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
