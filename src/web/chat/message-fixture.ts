import type { Message } from '../api/types.js';

const AT = '2026-01-01T00:00:00.000Z';

/**
 * A stored message as the API sends it, for the tests of this folder: id `m<seq>`, odd seqs the user's and even
 * ones the assistant's, complete and empty unless `patch` says otherwise. One builder, so that a field added to
 * Message is added to every test's messages at once.
 */
export function apiMessage(seq: number, patch: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    reportId: 'r',
    conversationId: 'c',
    authorId: null,
    seq,
    role: seq % 2 === 1 ? 'user' : 'assistant',
    content: '',
    status: 'complete',
    replyTo: null,
    error: null,
    sources: [],
    context: null,
    reportRevision: null,
    copiedFrom: null,
    createdAt: AT,
    updatedAt: AT,
    ...patch,
  };
}
