// The API's shapes (API.md), for clients. Kept free of server imports so the client runs in any runtime.

export type MessageStatus = 'queued' | 'streaming' | 'complete' | 'failed' | 'stopped' | 'interrupted';
export type ReportStatus = 'generating' | 'complete' | 'failed';
export type Role = 'owner' | 'editor' | 'viewer';

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

export interface Report {
  id: string;
  title: string;
  status: ReportStatus;
  content: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
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

export interface User {
  id: string;
  email: string | null;
  name: string | null;
}

export interface Turn {
  userMessage: Message;
  assistantMessage: Message;
  saved: boolean;
}

/** The events of a send's UI message stream, in API.md's order. */
export type TurnStreamEvent =
  | { type: 'start'; messageId: string }
  | { type: 'data-turn'; data: { userMessage: Message; assistantMessage: Message } }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string }
  | { type: 'error'; errorText: string }
  | { type: 'data-saved'; data: { saved: boolean; message: Message } }
  | { type: 'finish' };

/** The events of GET …/events. */
export type ConversationEvent =
  | { type: 'message'; version: number; message: Message }
  | { type: 'delta'; id: string; offset: number; text: string }
  | { type: 'cleared'; version: number };
