export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'queued' | 'streaming' | 'complete' | 'failed' | 'stopped' | 'interrupted';
export type TerminalStatus = 'complete' | 'failed' | 'stopped' | 'interrupted';
export type ReportStatus = 'generating' | 'complete' | 'failed';

export const TERMINAL_STATUSES: readonly MessageStatus[] = ['complete', 'failed', 'stopped', 'interrupted'];
export const isTerminal = (s: MessageStatus): s is TerminalStatus => TERMINAL_STATUSES.includes(s);

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
  /** The member who wrote a user message; null for an answer and for a message stored before authors were. */
  authorId: string | null;
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
  createdAt: Date;
  updatedAt: Date;
}

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  createdAt: Date;
}
