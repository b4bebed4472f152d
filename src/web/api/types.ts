/** The shapes of API.md, from the shared typed client (src/client), plus what the web UI derives from them. */
import type { Member, MessageStatus } from '../../client/index.js';

export type {
  AdminSession,
  AdminSignIn,
  AdminUser,
  AnswerContext,
  Conversation,
  ConversationEvent,
  ConversationPatch,
  ConversationRef,
  CreatedUser,
  Invite,
  Me,
  MemberDetail,
  MemberList,
  Message,
  MessagesPage,
  MessageStatus,
  NewConversation,
  NewUser,
  PasswordChange,
  Report,
  ReportStatus,
  ReportSummary,
  Role,
  Source,
  TokenSummary,
  TurnStreamEvent,
  User,
} from '../../client/index.js';

export type MemberRole = Member['role'];

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['complete', 'failed', 'stopped', 'interrupted']);

export const isTerminal = (status: MessageStatus): boolean => TERMINAL_STATUSES.has(status);
