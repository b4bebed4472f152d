import { AppError } from '../errors/app-error.js';
import { clearConversation as clearStored, readAll, readChangesAfter, readPage, type PageQuery } from '../store/history.js';
import type { MessageRow } from '../store/types.js';
import { requireRole, visibleReport } from './access.js';
import type { Caller, ChatContext, Credential } from './context.js';
import { toApiMessage, type ApiMessage } from './message-view.js';

export async function listMessages(ctx: ChatContext, caller: Caller, reportId: string, query: PageQuery) {
  const report = await visibleReport(ctx, caller, reportId);
  const page = await readPage(ctx.sql, report.conversationId, query);
  return {
    messages: page.messages.map((m) => toApiMessage(m, report.id)),
    version: page.version,
    hasMoreBefore: page.hasMoreBefore,
  };
}

export async function exportConversation(ctx: ChatContext, caller: Caller, reportId: string) {
  const report = await visibleReport(ctx, caller, reportId);
  const all = await readAll(ctx.sql, report.conversationId);
  return { report, version: all.version, messages: all.messages.map((m) => toApiMessage(m, report.id)) };
}

export function exportMarkdown(title: string, messages: ApiMessage[]): string {
  const lines = [`# ${title}`, '', `Conversation exported ${new Date().toISOString()}.`, ''];
  for (const m of messages) {
    const who = m.role === 'user' ? 'You' : 'Assistant';
    const state = m.role === 'assistant' && m.status !== 'complete' ? ` (${m.status}${m.error ? `: ${m.error}` : ''})` : '';
    lines.push(`## ${who}${state}`, '', `_${m.createdAt}_`, '', m.content || '_(no text)_', '');
  }
  return lines.join('\n');
}

export async function clearConversation(ctx: ChatContext, caller: Caller, reportId: string, ifMatch: number | undefined) {
  const report = await visibleReport(ctx, caller, reportId);
  requireRole(report, ['owner'], 'clear the conversation');
  if (ifMatch === undefined) {
    throw new AppError('precondition_required', 'Clearing needs an If-Match header with the conversation version.');
  }
  const conv = await clearStored(ctx.sql, report.conversationId, ifMatch);
  ctx.bus.publish({ type: 'cleared', conversationId: conv.id, version: conv.clearedVersion });
}

/** For an events stream: access check, then what changed after `version` (see readChangesAfter). */
export async function openEvents(ctx: ChatContext, caller: Caller, reportId: string) {
  const report = await visibleReport(ctx, caller, reportId);
  return {
    report,
    /**
     * Calls `onLost` once the caller can no longer see the report or `credential` ended; returns the function that
     * stops watching.
     */
    watchAccess: (credential: Credential, onLost: () => void) =>
      ctx.access.watch({ reportId: report.id, userId: caller.id, credential }, onLost),
    changesAfter: async (version: number): Promise<{ cleared: number | undefined; messages: MessageRow[]; version: number }> => {
      const changes = await readChangesAfter(ctx.sql, report.conversationId, version);
      const cleared = changes.conversation.clearedVersion > version ? changes.conversation.clearedVersion : undefined;
      return { cleared, messages: changes.messages, version: changes.conversation.version };
    },
  };
}
