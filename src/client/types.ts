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
  /** The report passages an answer rests on; `[]` for a user message (and an answer that cites nothing). */
  sources: Source[];
  /** What the answer was given; null for a user message. */
  context: AnswerContext | null;
  /** The report revision the answer was given on, which its sources point into; null for a user message. */
  reportRevision: number | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A passage of the report an answer rests on: `quote === content.slice(start, end)` of the report's revision
 * `reportRevision` (UTF-16 offsets); the answer's text refers to it as `[n]`. `heading` is the heading path of its
 * section (`Findings › Cold start`), '' before the first heading.
 */
export interface Source {
  n: number;
  start: number;
  end: number;
  quote: string;
  heading: string;
}

/** What an answer was given: `passages < totalPassages` means a selection of the report, not all of it. */
export interface AnswerContext {
  reportChars: number;
  sentChars: number;
  passages: number;
  totalPassages: number;
  historyTurns: number;
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
  /** Grows with each change of `content`; earlier revisions stay readable (`GET …?revision=N`). */
  revision: number;
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
  /** A source of the answer, before `text-end`; `providerMetadata.reportChat` is the Source without its heading. */
  | {
      type: 'source-document';
      sourceId: string;
      mediaType: 'text/markdown';
      /** The heading path. */
      title: string;
      providerMetadata: { reportChat: Omit<Source, 'heading'> };
    }
  | { type: 'text-end'; id: string }
  | { type: 'error'; errorText: string }
  | { type: 'data-saved'; data: { saved: boolean; message: Message } }
  | { type: 'finish' };

/** The events of GET …/events. */
export type ConversationEvent =
  | { type: 'message'; version: number; message: Message }
  | { type: 'delta'; id: string; offset: number; text: string }
  | { type: 'cleared'; version: number };
