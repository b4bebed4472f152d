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

/** A row of `messages`, camelCased by the driver. */
export interface MessageRow {
  conversationId: string;
  seq: number;
  id: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  replyTo: string | null;
  error: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  /** [] for a question and for an answer that cites nothing. */
  sources: StoredSource[];
  context: StoredContext | null;
  /** The report revision whose content the answer was given; null for a question. */
  reportRevision: number | null;
  changedVersion: number;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConversationRow {
  id: string;
  reportId: string;
  nextSeq: number;
  version: number;
  messageCount: number;
  clearedVersion: number;
}

export interface ReportRow {
  id: string;
  ownerId: string;
  title: string;
  content: string;
  status: ReportStatus;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  createdAt: Date;
}
