// The API's shapes, for clients: the types of the schemas the server validates and publishes (src/api/schemas.ts).
// Types only: a client imports no zod and nothing of the server at run time.
import type { z } from 'zod';
import type {
  addMemberBody,
  adminSessionSchema,
  adminUserListSchema,
  adminUserSchema,
  changePasswordBody,
  contextSchema,
  createdTokenSchema,
  createdUserSchema,
  createTokenBody,
  createUserBody,
  inviteSchema,
  memberDetailSchema,
  memberListSchema,
  tokenListSchema,
  tokenSummarySchema,
  conversationListSchema,
  conversationSchema,
  createConversationBody,
  patchConversationBody,
  createReportBody,
  memberSchema,
  meSchema,
  patchReportBody,
  reportListSchema,
  stoppedAnswerSchema,
  messageSchema,
  messagesPageSchema,
  messageStatusSchema,
  reportSchema,
  reportStatusSchema,
  reportSummarySchema,
  roleSchema,
  sourceSchema,
  turnSchema,
  userSchema,
} from '../api/schemas.js';

export type MessageStatus = z.output<typeof messageStatusSchema>;
export type ReportStatus = z.output<typeof reportStatusSchema>;
export type Role = z.output<typeof roleSchema>;
export type Message = z.output<typeof messageSchema>;
/**
 * A passage of the report an answer rests on: `quote === content.slice(start, end)` of the report's revision
 * `reportRevision` (UTF-16 offsets); the answer's text refers to it as `[n]`.
 */
export type Source = z.output<typeof sourceSchema>;
/** What an answer was given: `passages < totalPassages` means a selection of the report, not all of it. */
export type AnswerContext = z.output<typeof contextSchema>;
export type MessagesPage = z.output<typeof messagesPageSchema>;
export type Report = z.output<typeof reportSchema>;
export type ReportSummary = z.output<typeof reportSummarySchema>;
export type User = z.output<typeof userSchema>;
export type Turn = z.output<typeof turnSchema>;
export type Me = z.output<typeof meSchema>;
export type ReportList = z.output<typeof reportListSchema>;
export type Member = z.output<typeof memberSchema>;
export type StoppedAnswer = z.output<typeof stoppedAnswerSchema>;
export type Conversation = z.output<typeof conversationSchema>;
export type ConversationList = z.output<typeof conversationListSchema>;
export type MemberDetail = z.output<typeof memberDetailSchema>;
/** The owner, your role, and the members: every one for the owner, only yourself for anyone else. */
export type MemberList = z.output<typeof memberListSchema>;
export type TokenSummary = z.output<typeof tokenSummarySchema>;
export type TokenList = z.output<typeof tokenListSchema>;
/** A new API token: `token` is shown this once (only its SHA-256 is stored). */
export type CreatedToken = z.output<typeof createdTokenSchema>;
export type AdminUser = z.output<typeof adminUserSchema>;
export type AdminUserList = z.output<typeof adminUserListSchema>;
export type AdminSession = z.output<typeof adminSessionSchema>;
/** A one-use code with which a user chooses a password; the web app's link is `/invite#<code>`. */
export type Invite = z.output<typeof inviteSchema>;
export type CreatedUser = z.output<typeof createdUserSchema>;
/** What a client sends: the schemas' input types. */
export type NewReport = z.input<typeof createReportBody>;
export type ReportPatch = z.input<typeof patchReportBody>;
export type NewConversation = z.input<typeof createConversationBody>;
export type ConversationPatch = z.input<typeof patchConversationBody>;
export type NewMember = z.input<typeof addMemberBody>;
export type NewToken = z.input<typeof createTokenBody>;
export type PasswordChange = z.input<typeof changePasswordBody>;
export type NewUser = z.input<typeof createUserBody>;
/** The admin page's sign-in: the admin token, or the code of a one-time link (`report-chat admin-link`). */
export type AdminSignIn = { token: string } | { code: string };

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
