-- Pieces keyed by a number the answer takes when its row is written (messages.piece_key, from a sequence), instead of
-- by (conversation_id, seq). Two reasons, both the WAL of a streaming answer:
-- - A piece's row and its index entry are 16 bytes narrower each (a bigint instead of a uuid and a bigint), about
--   1.9 KB of each 60-second answer's WAL.
-- - The index's inserts go where the answers in progress are, not all over it. A random uuid leading the key put
--   every answer's next piece on a random leaf among every piece of the generation, finished answers' included, so
--   the first insert into each of them after a server checkpoint wrote that whole page to the WAL (a full-page image):
--   about as many pages as answers streaming. Keys taken in order put the answers in progress side by side at the
--   right of the index, on a few leaves, whatever the table already holds.
-- Every message takes a key when it is written (questions too: a column default is the one way that also covers the
-- previous release's inserts during a rolling deploy, and costs 8 bytes a row).
CREATE SEQUENCE answer_piece_keys AS bigint;
--> statement-breakpoint
-- Without a default first: existing rows stay NULL and the table is not rewritten.
ALTER TABLE messages ADD COLUMN piece_key bigint;
--> statement-breakpoint
ALTER TABLE messages ALTER COLUMN piece_key SET DEFAULT nextval('answer_piece_keys');
--> statement-breakpoint
ALTER SEQUENCE answer_piece_keys OWNED BY messages.piece_key;
--> statement-breakpoint
-- The answers in progress (few: the partial index messages_active_idx) are the only ones whose pieces are read.
UPDATE messages SET piece_key = nextval('answer_piece_keys')
WHERE status IN ('queued', 'streaming') AND piece_key IS NULL;
--> statement-breakpoint
-- An answer in progress always has its key. NOT VALID: finished rows written before this migration keep NULL, and
-- checking them would read the whole table; rows written or changed from now on are checked.
ALTER TABLE messages ADD CONSTRAINT messages_piece_key_check
  CHECK (status NOT IN ('queued', 'streaming') OR piece_key IS NOT NULL) NOT VALID;
--> statement-breakpoint

-- The two generations' tables (migration 0013) again, keyed by piece_key; the pieces of the answers still streaming
-- are carried over (the others are never read again). The tables keep their names: rotate_answer_pieces, which
-- truncates them by name, is unchanged.
DROP VIEW answer_pieces;
--> statement-breakpoint
ALTER TABLE answer_pieces_0 RENAME TO answer_pieces_by_message_0;
--> statement-breakpoint
ALTER TABLE answer_pieces_by_message_0 RENAME CONSTRAINT answer_pieces_0_pkey TO answer_pieces_by_message_0_pkey;
--> statement-breakpoint
ALTER TABLE answer_pieces_1 RENAME TO answer_pieces_by_message_1;
--> statement-breakpoint
ALTER TABLE answer_pieces_by_message_1 RENAME CONSTRAINT answer_pieces_1_pkey TO answer_pieces_by_message_1_pkey;
--> statement-breakpoint
CREATE TABLE answer_pieces_0 (
  piece_key bigint NOT NULL,
  text_offset integer NOT NULL,
  source_offset integer NOT NULL,
  text text NOT NULL,
  sources jsonb,
  CONSTRAINT answer_pieces_0_pkey PRIMARY KEY (piece_key, text_offset, source_offset)
);
--> statement-breakpoint
CREATE TABLE answer_pieces_1 (LIKE answer_pieces_0 INCLUDING ALL);
--> statement-breakpoint
INSERT INTO answer_pieces_0 (piece_key, text_offset, source_offset, text, sources)
SELECT m.piece_key, p.text_offset, p.source_offset, p.text, p.sources
FROM answer_pieces_by_message_0 p JOIN messages m USING (conversation_id, seq)
WHERE m.status = 'streaming';
--> statement-breakpoint
INSERT INTO answer_pieces_1 (piece_key, text_offset, source_offset, text, sources)
SELECT m.piece_key, p.text_offset, p.source_offset, p.text, p.sources
FROM answer_pieces_by_message_1 p JOIN messages m USING (conversation_id, seq)
WHERE m.status = 'streaming';
--> statement-breakpoint
DROP TABLE answer_pieces_by_message_0, answer_pieces_by_message_1;
--> statement-breakpoint

-- What readers read (src/store/saved-text.ts): both generations.
CREATE VIEW answer_piece_rows AS SELECT * FROM answer_pieces_0 UNION ALL SELECT * FROM answer_pieces_1;
--> statement-breakpoint
-- The view the previous release reads, by (conversation_id, seq), kept for a rolling deploy (its instances run beside
-- this one's until they stop); the next release drops it.
CREATE VIEW answer_pieces AS
SELECT m.conversation_id, m.seq, p.text_offset, p.source_offset, p.text, p.sources
FROM answer_piece_rows p JOIN messages m ON m.piece_key = p.piece_key;
--> statement-breakpoint

-- checkpoint_answers of migration 0013, with the same parameters (the previous release calls it as before) and the
-- same rules, which migration 0013 explains; the pieces are found by the key the ownership read returns.
CREATE OR REPLACE FUNCTION checkpoint_answers(
  p_owner text, p_lease_ms integer, p_renew_below_ms integer,
  p_conversation_ids uuid[], p_seqs bigint[], p_text_offsets integer[], p_source_offsets integer[],
  p_texts text[], p_sources jsonb[], p_report_revisions integer[]
) RETURNS boolean[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  keys bigint[];
  generation smallint;
BEGIN
  UPDATE messages m
  SET lease_expires_at = now() + p_lease_ms * interval '1 millisecond', updated_at = now(),
      report_revision = coalesce(a.report_revision, m.report_revision)
  FROM unnest(p_conversation_ids, p_seqs, p_report_revisions) AS a (conversation_id, seq, report_revision)
  WHERE m.conversation_id = a.conversation_id AND m.seq = a.seq AND m.status = 'streaming' AND m.lease_owner = p_owner
    AND NOT (coalesce(m.lease_expires_at >= now() + p_renew_below_ms * interval '1 millisecond', false)
             AND m.report_revision IS NOT DISTINCT FROM coalesce(a.report_revision, m.report_revision));

  -- Ownership, not freshness: a lease that fell due since the statement above is renewed by the next checkpoint. The
  -- key of each answer still held, NULL for one that is not (a streaming row always has one: messages_piece_key_check).
  SELECT array_agg(m.piece_key ORDER BY a.i)
  INTO keys
  FROM unnest(p_conversation_ids, p_seqs) WITH ORDINALITY AS a (conversation_id, seq, i)
  LEFT JOIN messages m
    ON m.conversation_id = a.conversation_id AND m.seq = a.seq AND m.status = 'streaming' AND m.lease_owner = p_owner;

  -- After the ownership read, in a later snapshot (rotate_answer_pieces relies on it).
  SELECT g.current INTO generation FROM answer_piece_generation g;

  UPDATE answer_pieces_0 p SET text = a.text, sources = nullif(a.sources, '[]'::jsonb)
  FROM unnest(keys, p_text_offsets, p_source_offsets, p_texts, p_sources)
       AS a (piece_key, text_offset, source_offset, text, sources)
  WHERE a.piece_key IS NOT NULL AND (a.text <> '' OR a.sources <> '[]'::jsonb)
    AND p.piece_key = a.piece_key AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
    AND length(a.text) >= length(p.text) AND jsonb_array_length(a.sources) >= coalesce(jsonb_array_length(p.sources), 0);
  UPDATE answer_pieces_1 p SET text = a.text, sources = nullif(a.sources, '[]'::jsonb)
  FROM unnest(keys, p_text_offsets, p_source_offsets, p_texts, p_sources)
       AS a (piece_key, text_offset, source_offset, text, sources)
  WHERE a.piece_key IS NOT NULL AND (a.text <> '' OR a.sources <> '[]'::jsonb)
    AND p.piece_key = a.piece_key AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
    AND length(a.text) >= length(p.text) AND jsonb_array_length(a.sources) >= coalesce(jsonb_array_length(p.sources), 0);

  WITH piece AS (
    SELECT a.piece_key, a.text_offset, a.source_offset, a.text, nullif(a.sources, '[]'::jsonb) AS sources
    FROM unnest(keys, p_text_offsets, p_source_offsets, p_texts, p_sources)
         AS a (piece_key, text_offset, source_offset, text, sources)
    WHERE a.piece_key IS NOT NULL AND (a.text <> '' OR a.sources <> '[]'::jsonb)
      AND NOT EXISTS (
        SELECT 1 FROM answer_piece_rows p
        WHERE p.piece_key = a.piece_key AND p.text_offset = a.text_offset AND p.source_offset = a.source_offset
      )
  ), into_0 AS (
    INSERT INTO answer_pieces_0 (piece_key, text_offset, source_offset, text, sources)
    SELECT * FROM piece WHERE generation = 0
  )
  INSERT INTO answer_pieces_1 (piece_key, text_offset, source_offset, text, sources)
  SELECT * FROM piece WHERE generation = 1;

  RETURN coalesce((SELECT array_agg(k IS NOT NULL ORDER BY i) FROM unnest(keys) WITH ORDINALITY AS u (k, i)), '{}');
END
$$;
