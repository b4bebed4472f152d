import { AppError } from '../errors/app-error.js';
import { clearConversation as clearStored, readAll, readPage, type PageQuery } from '../store/history.js';
import { requireManager, visibleConversation, type ConversationRef } from './access.js';
import { withUncertainCommit } from './patient-retry.js';
import type { Caller, ChatContext } from './context.js';
import { toApiMessage, type ApiMessage } from './message-view.js';

export async function listMessages(ctx: ChatContext, caller: Caller, where: ConversationRef, query: PageQuery) {
  const { report, conversation } = await visibleConversation(ctx, caller, where);
  const page = await readPage(ctx.sql, conversation.id, query);
  return {
    messages: page.messages.map((m) => toApiMessage(m, report.id)),
    version: page.version,
    hasMoreBefore: page.hasMoreBefore,
  };
}

export async function exportConversation(ctx: ChatContext, caller: Caller, where: ConversationRef) {
  const { report, conversation } = await visibleConversation(ctx, caller, where);
  const all = await readAll(ctx.sql, conversation.id);
  return { report, conversation, version: all.version, messages: all.messages.map((m) => toApiMessage(m, report.id)) };
}

/**
 * The conversation as Markdown. An answer's sources become footnotes: each `[n]` marker of a source becomes a
 * footnote reference, defined under the answer with the heading path and the quote. Footnote labels are global to
 * a Markdown document, so each is the answer's seq and `n` (`[^7.1]`); renderers number them in order anyway.
 */
export function exportMarkdown(title: string, messages: ApiMessage[]): string {
  const lines = [`# ${title}`, '', `Conversation exported ${new Date().toISOString()}.`, ''];
  for (const m of messages) {
    const who = m.role === 'user' ? 'You' : 'Assistant';
    const state = m.role === 'assistant' && m.status !== 'complete' ? ` (${m.status}${m.error ? `: ${m.error}` : ''})` : '';
    const revision = m.sources.length && m.reportRevision !== null ? ` · report revision ${m.reportRevision}` : '';
    lines.push(`## ${who}${state}`, '', `_${m.createdAt}${revision}_`, '', withFootnotes(m) || '_(no text)_', '');
    for (const s of m.sources) lines.push(...footnote(label(m, s.n), s.heading, s.quote), '');
  }
  return lines.join('\n');
}

const label = (m: ApiMessage, n: number) => `${m.seq}.${n}`;

function withFootnotes(m: ApiMessage): string {
  if (m.sources.length === 0) return m.content;
  const cited = new Set(m.sources.map((s) => s.n));
  // A marker without a source (a citation that was rejected) stays plain text, as in the answer.
  return m.content.replace(/\[(\d{1,4})\]/g, (marker, n: string) => (cited.has(Number(n)) ? `[^${label(m, Number(n))}]` : marker));
}

/** A footnote definition: the heading path, then the quote as a block quote, indented to belong to the footnote. */
function footnote(id: string, heading: string, quote: string): string[] {
  const quoted = quote.split('\n').map((line) => `    > ${line}`.trimEnd());
  return [`[^${id}]: ${heading ? `**${heading}**` : '_(before the first heading)_'}`, '', ...quoted];
}

export async function clearConversation(ctx: ChatContext, caller: Caller, where: ConversationRef, ifMatch: number | undefined) {
  const found = await visibleConversation(ctx, caller, where);
  requireManager(caller, found, 'clear the conversation');
  if (ifMatch === undefined) {
    throw new AppError('precondition_required', 'Clearing needs an If-Match header with the conversation version.');
  }
  const conv = await withUncertainCommit(
    () => clearStored(ctx.sql, found.conversation.id, ifMatch),
    'The conversation may have been cleared, but the database stopped answering before it could be confirmed. Reload to see.',
  );
  ctx.bus.publish({ type: 'cleared', conversationId: conv.id, version: conv.clearedVersion });
}
