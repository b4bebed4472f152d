/** The shapes of API.md, from the shared typed client (src/client), plus what the web UI derives from them. */
import type { MessageStatus } from '../../client/index.js';

export type {
  AnswerContext,
  Conversation,
  ConversationEvent,
  ConversationPatch,
  ConversationRef,
  Message,
  MessagesPage,
  MessageStatus,
  NewConversation,
  Report,
  ReportStatus,
  ReportSummary,
  Role,
  Source,
  TurnStreamEvent,
  User,
} from '../../client/index.js';

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['complete', 'failed', 'stopped', 'interrupted']);

export const isTerminal = (status: MessageStatus): boolean => TERMINAL_STATUSES.has(status);
