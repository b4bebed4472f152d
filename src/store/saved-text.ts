import type { Sql, TxSql } from './db.js';
import type { MessageRow, StoredSource } from './types.js';

/**
 * How a message is read for anyone who shows it (a page, a resume, a follower, a replay): while an answer streams,
 * its row holds the text it started with (none) and its checkpoints' pieces hold the rest (migration 0007). Both are
 * read by one statement, so in one snapshot: a finish or a sweep moves the pieces into the row in one commit, and a
 * reader sees either the pieces or the row that holds them, never neither.
 *
 * The pieces are read only for a row that is `streaming` (a CASE runs its subquery only when it is chosen), so a
 * page of finished messages costs what it did. Use as `SELECT ${messageColumns(sql)} FROM messages m ...` and pass
 * each row through `withSavedText`.
 */
export function messageColumns(sql: Sql | TxSql) {
  return sql`
    m.*,
    CASE WHEN m.status = 'streaming' THEN (
      SELECT string_agg(p.text, '' ORDER BY p.text_offset, p.source_offset)
      FROM answer_pieces p WHERE p.conversation_id = m.conversation_id AND p.seq = m.seq
    ) END AS saved_text,
    CASE WHEN m.status = 'streaming' THEN (
      SELECT jsonb_agg(s.source ORDER BY p.text_offset, p.source_offset, s.n)
      FROM answer_pieces p, jsonb_array_elements(p.sources) WITH ORDINALITY AS s (source, n)
      WHERE p.conversation_id = m.conversation_id AND p.seq = m.seq
    ) END AS saved_sources`;
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
