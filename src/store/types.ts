import type { conversations, messages, reports, users } from './schema.js';

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'queued' | 'streaming' | 'complete' | 'failed' | 'stopped' | 'interrupted';
export type TerminalStatus = 'complete' | 'failed' | 'stopped' | 'interrupted';
export type ReportStatus = 'generating' | 'complete' | 'failed';

export const TERMINAL_STATUSES: readonly MessageStatus[] = ['complete', 'failed', 'stopped', 'interrupted'];
export const isTerminal = (s: MessageStatus): s is TerminalStatus => TERMINAL_STATUSES.includes(s);

/**
 * A passage of the report an answer cites: `quote === content.slice(start, end)` (UTF-16 offsets) of the report's
 * revision the answer names. The same shape as the model layer's Source; declared here so the store imports nothing
 * of its siblings.
 */
export interface StoredSource {
  n: number;
  start: number;
  end: number;
  quote: string;
  heading: string;
}

/** What an answer was given: the whole report or a selection of its passages, and how many history turns. */
export interface StoredContext {
  reportChars: number;
  sentChars: number;
  passages: number;
  totalPassages: number;
  historyTurns: number;
}

// Row types come from the Drizzle schema (src/store/schema.ts), the one statement of the tables' shapes; each lists
// the columns its queries select (camelCased by the driver).

/** A row of `messages`. */
export type MessageRow = typeof messages.$inferSelect;

export type ConversationRow = Pick<typeof conversations.$inferSelect, 'id' | 'reportId' | 'nextSeq' | 'version' | 'messageCount' | 'clearedVersion'>;

/** A conversation as the conversation routes show it. */
export type ConversationInfo = Pick<
  typeof conversations.$inferSelect,
  'id' | 'reportId' | 'isMain' | 'title' | 'visibility' | 'createdBy' | 'forkedFromConversationId' | 'forkedFromSeq' | 'version' | 'messageCount' | 'nextSeq' | 'createdAt' | 'updatedAt'
>;

export type ReportRow = Pick<typeof reports.$inferSelect, 'id' | 'ownerId' | 'title' | 'content' | 'status' | 'revision' | 'createdAt' | 'updatedAt'>;

/** `email` is null for a user known only by a JWT without one. */
export type UserRow = Pick<typeof users.$inferSelect, 'id' | 'email' | 'name' | 'createdAt'>;
