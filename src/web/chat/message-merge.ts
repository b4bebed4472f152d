import { isTerminal, type Message, type MessageStatus } from '../api/types.js';
import type { ChatMessage } from './chat-message.js';

/**
 * How copies of one message from different sources (history pages, this tab's send stream, the events stream)
 * become one. A message only moves forward: queued, then streaming, then one terminal status; while it streams,
 * its text only grows (the copy with more text wins); a terminal copy from the server is final.
 */

const rank = (status: MessageStatus): number => (status === 'queued' ? 0 : status === 'streaming' ? 1 : 2);

/** True when this copy came from the server as terminal (not a local "not saved" guess). */
export const isStoredFinal = (m: ChatMessage | undefined): boolean => m !== undefined && !m.local && isTerminal(m.status);

export function mergeStored(held: ChatMessage | undefined, incoming: Message): ChatMessage {
  if (!held) return { ...incoming };
  // The server has it, so whatever this tab feared (not sent, not saved) is settled by this copy, unless it is
  // an older copy of an answer this tab already saw end.
  if (isStoredFinal(held)) {
    // Two terminal copies: the later change wins (there is only one terminal status; this guards stale copies).
    if (isTerminal(incoming.status) && incoming.updatedAt >= held.updatedAt) return { ...incoming };
    return held;
  }
  if (isTerminal(incoming.status)) return { ...incoming };
  if (held.local?.kind === 'unsaved') return held; // a live copy is older than the end this tab saw
  const status = rank(incoming.status) >= rank(held.status) ? incoming.status : held.status;
  const content = longerText(held.content, incoming.content);
  return { ...incoming, status, content };
}

/** The longer of two texts of one growing answer; the incoming one when they disagree. */
function longerText(held: string, incoming: string): string {
  if (incoming.length >= held.length) return incoming;
  return held.startsWith(incoming) ? held : incoming;
}

/**
 * Applies `text` at `offset` (UTF-16 code units) to a streaming message. Returns the new message, `unchanged`
 * when the text is already held, or `gap` when text before `offset` is missing (the message must be re-read).
 */
export function applyDelta(held: ChatMessage, offset: number, text: string): ChatMessage | 'unchanged' | 'gap' {
  if (isStoredFinal(held)) return 'unchanged';
  const length = held.content.length;
  if (offset > length) return 'gap';
  if (offset + text.length <= length) return 'unchanged';
  return { ...held, content: held.content.slice(0, offset) + text };
}

/** The whole text so far from this tab's own send stream: it replaces a shorter prefix of itself. */
export function extendText(held: ChatMessage, text: string): ChatMessage {
  if (isStoredFinal(held) || text.length <= held.content.length) return held;
  return { ...held, content: text, status: held.status === 'queued' ? 'streaming' : held.status };
}

/** Conversation order: by seq; messages not yet stored (no seq) last, in the order they were written. */
export function orderMessages(messages: Iterable<ChatMessage>, pendingOrder: readonly string[]): ChatMessage[] {
  const stored: ChatMessage[] = [];
  const pending = new Map<string, ChatMessage>();
  for (const m of messages) {
    if (m.seq === null) pending.set(m.id, m);
    else stored.push(m);
  }
  stored.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  for (const id of pendingOrder) {
    const m = pending.get(id);
    if (m) stored.push(m);
  }
  return stored;
}

/** Seqs missing between the lowest and highest held (a turn takes n and n+1, so seqs have no holes). */
export function firstMissingSeq(seqs: number[], floor: number): { after: number; count: number } | undefined {
  const sorted = seqs.filter((s) => s >= floor).sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    if (next > prev + 1) return { after: prev, count: next - prev - 1 };
  }
  return undefined;
}
