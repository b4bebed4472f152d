import type { z } from 'zod';
import type { messageSchema } from '../api/schemas.js';
import type { MessageRow } from '../store/types.js';

/** A message as the API shows it (the schema's output type: the shape is stated once, in src/api/schemas.ts). */
export type ApiMessage = z.output<typeof messageSchema>;

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

export function toApiMessage(row: MessageRow, reportId: string): ApiMessage {
  return {
    id: row.id,
    reportId,
    conversationId: row.conversationId,
    authorId: row.authorId ?? null,
    seq: row.seq,
    role: row.role,
    content: row.content,
    status: row.status,
    replyTo: row.replyTo,
    error: row.error,
    sources: row.sources ?? [],
    context: row.context ?? null,
    reportRevision: row.reportRevision ?? null,
    copiedFrom: row.copiedFrom ?? null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
