import type { Sql, TxSql } from './db.js';
import type { MessageRow, StoredSource } from './types.js';

/**
 * How a message is read for anyone who shows it (a page, a resume, a follower, a replay): while an answer streams,
 * its row holds the text it started with (none) and its checkpoints' pieces hold the rest (migration 0007). Both are
 * read by one statement, so in one snapshot: a finish or a sweep writes the whole text into the row in the commit that
 * ends the answer, and a reader sees either the pieces or the row that holds their text, never neither (nor both: the
 * pieces outlive the answer, migration 0013, but are read only while it streams).
 *
 * The pieces are read only for a row that is `streaming` (a CASE runs its subquery only when it is chosen), so a
 * page of finished messages costs what it did. Use as `SELECT ${messageColumns(sql)} FROM messages m ...` and pass
 * each row through `withSavedText`.
 */
export function messageColumns(sql: Sql | TxSql) {
  return sql`
    m.*,
    CASE WHEN m.status = 'streaming' THEN (
      SELECT string_agg(p.text, '' ORDER BY p.text_offset, p.source_offset) FROM (${piecesOf(sql)}) p
    ) END AS saved_text,
    CASE WHEN m.status = 'streaming' THEN (
      SELECT jsonb_agg(s.source ORDER BY p.text_offset, p.source_offset, s.n)
      FROM (${piecesOf(sql)}) p, jsonb_array_elements(p.sources) WITH ORDINALITY AS s (source, n)
    ) END AS saved_sources`;
}

/**
 * The pieces of message `m`, by its piece_key (migration 0014), from both generations (the view answer_piece_rows,
 * migration 0013), one per offset pair: two attempts of one checkpoint that met across a switch of generation may both
 * have stored it, and the one holding more wins, as a replace in one generation would have decided. A piece without
 * sources has NULL, which jsonb_array_elements reads as none.
 */
function piecesOf(sql: Sql | TxSql) {
  return sql`
    SELECT DISTINCT ON (p.text_offset, p.source_offset) p.text_offset, p.source_offset, p.text, p.sources
    FROM answer_piece_rows p WHERE p.piece_key = m.piece_key
    ORDER BY p.text_offset, p.source_offset, length(p.text) DESC, jsonb_array_length(p.sources) DESC NULLS LAST`;
}

export interface RowWithSaved extends MessageRow {
  savedText: string | null;
  savedSources: StoredSource[] | null;
}

/** The message as its readers know it: its own text and sources followed by those its checkpoints saved. */
export function withSavedText({ savedText, savedSources, ...row }: RowWithSaved): MessageRow {
  if (savedText === null && savedSources === null) return row;
  return { ...row, content: row.content + (savedText ?? ''), sources: [...row.sources, ...(savedSources ?? [])] };
}
