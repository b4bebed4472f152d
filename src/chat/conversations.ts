import { AppError } from '../errors/app-error.js';
import {
  createConversation as createStored,
  deleteConversation as deleteStored,
  listVisibleConversations,
  updateConversation as updateStored,
} from '../store/conversations.js';
import type { ConversationInfo } from '../store/types.js';
import { CHAT_ROLES, requireManager, requireRole, visibleConversation, visibleReport } from './access.js';
import type { Caller, ChatContext } from './context.js';
import { withPatientRetry } from './patient-retry.js';

/** A conversation as the API shows it. */
export function toApiConversation(c: ConversationInfo) {
  return {
    id: c.id,
    reportId: c.reportId,
    title: c.title,
    visibility: c.visibility,
    isMain: c.isMain,
    createdBy: c.createdBy,
    forkedFrom: c.forkedFromConversationId === null ? null : { conversationId: c.forkedFromConversationId, seq: c.forkedFromSeq ?? 0 },
    version: c.version,
    messageCount: c.messageCount,
    lastSeq: c.nextSeq - 1,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export async function listConversations(ctx: ChatContext, caller: Caller, reportId: string) {
  const report = await visibleReport(ctx, caller, reportId);
  return (await listVisibleConversations(ctx.sql, report.id, caller.id)).map(toApiConversation);
}

export interface CreateInput {
  reportId: string;
  id: string;
  title?: string;
  visibility?: 'shared' | 'private';
  forkFrom?: { conversationId: string; seq: number };
}

/**
 * Starts a conversation of a report, or forks one: a copy of the source's messages 1..seq, which stays as it was.
 * Needs the right to chat; the store checks that the source is visible to the caller, after it looked for a replay:
 * a request sent again is answered with what it created even if its source was deleted or unshared since.
 * Idempotent by id.
 */
export async function createConversation(ctx: ChatContext, caller: Caller, input: CreateInput) {
  const report = await visibleReport(ctx, caller, input.reportId);
  requireRole(report, CHAT_ROLES, 'start conversations');
  const visibility = input.visibility ?? 'shared';
  // Idempotent by id: an attempt after one whose acknowledgement was lost finds the conversation as a replay.
  const { kind, conversation } = await withPatientRetry(
    () =>
      createStored(ctx.sql, {
        id: input.id,
        reportId: report.id,
        userId: caller.id,
        title: input.title ?? null,
        visibility,
        forkFrom: input.forkFrom,
        // The body with its defaults filled in: sending a default explicitly is the same request.
        request: { title: input.title ?? null, visibility, forkFrom: input.forkFrom ?? null },
        maxPerUser: ctx.config.maxConversationsPerReport,
      }),
    'The conversation may have been created, but the database stopped answering before it could be confirmed. ' +
      'Send the same request again (the same id): it is never created twice.',
  );
  return { replayed: kind === 'replay', conversation: toApiConversation(conversation) };
}

export async function getConversation(ctx: ChatContext, caller: Caller, conversationId: string) {
  return toApiConversation((await visibleConversation(ctx, caller, { conversationId })).conversation);
}

/**
 * Renames a conversation or changes who sees it. Making it private closes the open views of everyone but its
 * creator, on every instance.
 */
export async function updateConversation(
  ctx: ChatContext,
  caller: Caller,
  conversationId: string,
  patch: { title?: string; visibility?: 'shared' | 'private' },
) {
  const found = await visibleConversation(ctx, caller, { conversationId });
  requireManager(caller, found, 'change this conversation');
  if (found.conversation.isMain && patch.visibility === 'private') {
    throw new AppError('invalid_request', "The report's main conversation is always shared.");
  }
  const updated = await updateStored(ctx.sql, conversationId, patch);
  if (!updated) throw new AppError('not_found', 'No such conversation.');
  if (patch.visibility === 'private' && found.conversation.visibility === 'shared') {
    ctx.bus.publish({ type: 'hidden', conversationId, exceptUserId: updated.createdBy });
  }
  return toApiConversation(updated);
}

/** Deletes a conversation that is not the main one, with its messages; its open views close. */
export async function deleteConversation(ctx: ChatContext, caller: Caller, conversationId: string, ifMatch: number | undefined) {
  const found = await visibleConversation(ctx, caller, { conversationId });
  requireManager(caller, found, 'delete this conversation');
  if (found.conversation.isMain) throw new AppError('forbidden', "The report's main conversation cannot be deleted; clear it instead.");
  if (ifMatch === undefined) {
    throw new AppError('precondition_required', 'Deleting needs an If-Match header with the conversation version.');
  }
  await deleteStored(ctx.sql, conversationId, ifMatch);
  ctx.bus.publish({ type: 'hidden', conversationId, exceptUserId: null });
}
