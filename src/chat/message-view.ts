import type { MessageRow, MessageStatus } from '../store/types.js';

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
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
