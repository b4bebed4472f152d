-- Answers a reader can check: each answer keeps the passages of the report it rests on, what it was
-- given, and the revision of the report it was answered from; a report keeps every revision of its content, so a
-- source's offsets stay true after the report changes.

ALTER TABLE messages
  ADD COLUMN sources jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN context jsonb,
  ADD COLUMN report_revision integer,
  ADD COLUMN cache_read_tokens integer,
  ADD COLUMN cache_write_tokens integer;
--> statement-breakpoint

ALTER TABLE reports ADD COLUMN revision integer NOT NULL DEFAULT 1;
--> statement-breakpoint

CREATE TABLE report_revisions (
  report_id uuid NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  revision integer NOT NULL,
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT report_revisions_pkey PRIMARY KEY (report_id, revision),
  CONSTRAINT report_revisions_revision_check CHECK (revision >= 1)
);
--> statement-breakpoint

INSERT INTO report_revisions (report_id, revision, content, created_at)
SELECT id, revision, content, updated_at FROM reports;
--> statement-breakpoint

-- The revision rule lives in the database, so no writer (the API, the command line, a script) can change a report's
-- content without a new revision: a change of content bumps `revision`, in the statement that changes it.
CREATE FUNCTION reports_bump_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content IS DISTINCT FROM OLD.content THEN
    NEW.revision := OLD.revision + 1;
  ELSE
    NEW.revision := OLD.revision;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint

CREATE TRIGGER reports_bump_revision BEFORE UPDATE ON reports
FOR EACH ROW EXECUTE FUNCTION reports_bump_revision();
--> statement-breakpoint

-- Every revision's content is kept, written in the same transaction as the change that made it. ON CONFLICT: an
-- update that left the content as it was keeps its revision, whose row is already there.
CREATE FUNCTION reports_keep_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_revisions (report_id, revision, content) VALUES (NEW.id, NEW.revision, NEW.content)
  ON CONFLICT (report_id, revision) DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE TRIGGER reports_keep_revision AFTER INSERT OR UPDATE OF content ON reports
FOR EACH ROW EXECUTE FUNCTION reports_keep_revision();
--> statement-breakpoint

-- finish_answer of migration 0002 with the answer's evidence and usage stored in the same call as its final text;
-- everything else as it was. Its parameters change, so the old one goes first (CREATE OR REPLACE alone would add
-- an overload beside it).
DROP FUNCTION finish_answer(uuid, bigint, text, text, text, text, integer, integer);
--> statement-breakpoint

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
  RETURN NEXT answer;
END
$$;
