/** The shapes of API.md, as the web UI reads them. */

export type ReportStatus = 'generating' | 'complete' | 'failed';
export type Role = 'owner' | 'editor' | 'viewer';
export type MessageStatus = 'queued' | 'streaming' | 'complete' | 'failed' | 'stopped' | 'interrupted';

export interface User {
  id: string;
  email: string;
  name: string | null;
}

export interface ReportSummary {
  id: string;
  title: string;
  status: ReportStatus;
  role: Role;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface Report {
  id: string;
  title: string;
  status: ReportStatus;
  content: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export interface Message {
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

export interface MessagesPage {
  messages: Message[];
  version: number;
  hasMoreBefore: boolean;
}

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['complete', 'failed', 'stopped', 'interrupted']);

export const isTerminal = (status: MessageStatus): boolean => TERMINAL_STATUSES.has(status);
