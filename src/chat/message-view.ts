import type { MessageRow, MessageStatus, StoredContext, StoredSource } from '../store/types.js';

/** A message as API.md shows it. */
export interface ApiMessage {
  id: string;
  reportId: string;
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  replyTo: string | null;
  error: string | null;
  /** The passages of the report the answer cites; [] for a question. */
  sources: StoredSource[];
  /** What the answer was given; null for a question and an answer that never reached the model. */
  context: StoredContext | null;
  /** The report revision the answer's sources point into; null for a question. */
  reportRevision: number | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

export function toApiMessage(row: MessageRow, reportId: string): ApiMessage {
  return {
    id: row.id,
    reportId,
    seq: row.seq,
    role: row.role,
    content: row.content,
    status: row.status,
    replyTo: row.replyTo,
    error: row.error,
    sources: row.sources ?? [],
    context: row.context ?? null,
    reportRevision: row.reportRevision ?? null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
