-- The two writes of every turn, each one autocommitted statement: one round trip and one commit instead of BEGIN,
-- two or three statements and COMMIT sent one by one from the client (issue 7: the profile showed the round trips,
-- not the statements, dominating the cost of an exchange). They run exactly the statements src/store/turns.ts ran
-- inside sql.begin, in the same order, under the same locks. Each statement of a VOLATILE plpgsql function takes a
-- fresh snapshot at READ COMMITTED, as each statement of the client's transaction did: what a statement sees after
-- the conversation's row lock was granted is what it saw before. A refusal raises an error with a code of class RC,
-- which rolls back everything the call did; src/store/turns.ts maps each code to the error the API answers.
--   RC000  the conditional change found nothing to change (finish_answer)
--   RC404  no such conversation
--   RC409  the message id is already stored: a replay, or the id reused
--   RC412  If-Match differs from the version before this turn
--   RC413  the conversation holds the maximum number of messages
--   RC429  a turn limit is exceeded; DETAIL holds every window's count as JSON

-- One more event in a fixed window (rate limits); the caller's transaction decides whether it counts.
CREATE FUNCTION hit_rate_window(p_key text, p_window_seconds integer, OUT count integer, OUT reset_at timestamptz)
LANGUAGE sql VOLATILE AS $$
  INSERT INTO rate_limit_windows AS w (key, window_start, count)
  VALUES (p_key, to_timestamp(floor(extract(epoch FROM now()) / p_window_seconds) * p_window_seconds), 1)
  ON CONFLICT (key, window_start) DO UPDATE SET count = w.count + 1
  RETURNING w.count, w.window_start + p_window_seconds * interval '1 second'
$$;
--> statement-breakpoint

-- Step 2 of a turn (DESIGN.md): lock the conversation, insert the user message n and the answer n+1 leased to the
-- caller (`streaming` at once when p_model is given and no earlier answer is queued or streaming, else `queued`),
-- count the turn limits. Returns the two rows, each with the limits' counts and window ends.
CREATE FUNCTION reserve_turn(
  p_conversation_id uuid, p_user_message_id uuid, p_assistant_message_id uuid, p_content text, p_if_match bigint,
  p_max_messages integer, p_lease_owner text, p_lease_ms integer, p_model text,
  p_limit_keys text[], p_limit_seconds integer[], p_limit_max integer[]
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
  INSERT INTO messages (conversation_id, seq, id, role, content, status, reply_to, changed_version)
  VALUES (p_conversation_id, conv.seq, p_user_message_id, 'user', p_content, 'complete', NULL, conv.prev_version + 1)
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

-- Step 6: the final text and terminal status, only while p_owner still holds the answer; the conversation's lock
-- and next version first, as every change of a message (src/store/transaction.ts lockForChange).
CREATE FUNCTION finish_answer(
  p_conversation_id uuid, p_seq bigint, p_owner text, p_status text, p_content text, p_error text,
  p_input_tokens integer, p_output_tokens integer
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
        output_tokens = p_output_tokens, changed_version = v, lease_owner = NULL, lease_expires_at = NULL,
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
