import { AppError, notFound } from '../errors/app-error.js';
import { findVisibleConversation, type ConversationRef, type VisibleConversation } from '../store/conversations.js';
import { findVisibleReport, type VisibleReport } from '../store/reports.js';
import type { Caller, ChatContext } from './context.js';

export type Role = VisibleReport['role'];
export type { ConversationRef, VisibleConversation };

/**
 * The report if the caller may see it. A report that exists but is not visible gets the same answer as one that
 * does not exist (404), so probing ids teaches nothing.
 */
export async function visibleReport(ctx: ChatContext, caller: Caller, reportId: string): Promise<VisibleReport> {
  const report = await findVisibleReport(ctx.sql, reportId, caller.id);
  if (!report) throw notFound();
  return report;
}

/**
 * The conversation (a report's main one, or one by id) if the caller may see it: a shared one of a report they see,
 * or a private one they created. Anything else is 404, the report's owner included for someone's private one.
 */
export async function visibleConversation(ctx: ChatContext, caller: Caller, ref: ConversationRef): Promise<VisibleConversation> {
  const found = await findVisibleConversation(ctx.sql, ref, caller.id);
  if (!found) throw notFound('reportId' in ref ? 'report' : 'conversation');
  return found;
}

export function requireRole(on: { role: Role }, allowed: readonly Role[], action: string): void {
  if (!allowed.includes(on.role)) {
    throw new AppError('forbidden', `Your role on this report (${on.role}) does not allow you to ${action}.`);
  }
}

/**
 * Who may rename, share, unshare, clear or delete a conversation: the report's owner for the main one; for another,
 * the person who created it, or the report's owner when it is shared.
 */
export function requireManager(caller: Caller, found: VisibleConversation, action: string): void {
  const { conversation, role } = found;
  if (conversation.isMain) return requireRole(found, ['owner'], action);
  if (conversation.createdBy !== caller.id && role !== 'owner') {
    throw new AppError('forbidden', `Only the person who started this conversation or the report's owner may ${action}.`);
  }
}

export const CHAT_ROLES: readonly Role[] = ['owner', 'editor'];
