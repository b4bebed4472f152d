import type { Message, MessagesPage } from '../api/types.js';
import type { ChatMessage, LocalDelivery } from './chat-message.js';
import { applyDelta, extendText, firstMissingSeq, isStoredFinal, mergeStored, orderMessages } from './message-merge.js';

/**
 * The messages of one conversation as this tab holds them, keyed by id: every source (history pages, this tab's
 * send streams, the events stream) is merged here, so a message shows once and in seq order whatever arrives
 * first. No network here: conversation-store.ts feeds it.
 */
export class ConversationState {
  private readonly byId = new Map<string, ChatMessage>();
  /** Questions written in this tab that the server has not confirmed yet, in the order they were written. */
  private pendingOrder: string[] = [];
  /** Messages below this seq belong to older pages not loaded yet; copies of them from events are not kept. */
  private floorSeq = 0;
  hasMoreBefore = false;
  /** The newest conversation version seen: the ETag for If-Match. */
  version = 0;
  private ordered: ChatMessage[] | undefined;

  get(id: string): ChatMessage | undefined {
    return this.byId.get(id);
  }

  messages(): ChatMessage[] {
    return (this.ordered ??= orderMessages(this.byId.values(), this.pendingOrder));
  }

  oldestSeq(): number | undefined {
    return this.messages().find((m) => m.seq !== null)?.seq ?? undefined;
  }

  seenVersion(version: number): void {
    if (Number.isFinite(version) && version > this.version) this.version = version;
  }

  /**
   * A page of history, as the server answered it:
   * - `newest`: the first page (or the first after a clear), which sets where older pages begin;
   * - `refresh`: the newest page read again, merged into what is held;
   * - `older`: the page before the oldest held;
   * - `range`: a few messages read again (a hole in the seqs, a message whose text fell behind).
   * Only the newest page's version is taken as seen: the version is the If-Match of a clear, and a partial read
   * must not claim that this tab has seen changes it does not show.
   */
  applyPage(page: MessagesPage, kind: 'newest' | 'refresh' | 'older' | 'range'): void {
    if (kind === 'newest' || kind === 'refresh') this.seenVersion(page.version);
    if (kind === 'newest' || kind === 'older') {
      const first = page.messages[0]?.seq;
      const lowest = kind === 'newest' ? first : Math.min(first ?? Infinity, this.oldestSeq() ?? Infinity);
      this.hasMoreBefore = page.hasMoreBefore;
      this.floorSeq = page.hasMoreBefore && lowest !== undefined && Number.isFinite(lowest) ? lowest : 0;
    }
    for (const m of page.messages) this.applyStored(m, true);
  }

  /** A message as the server stored it. Returns false when it was not kept (an older page's message). */
  applyStored(incoming: Message, fromPage = false): boolean {
    const held = this.byId.get(incoming.id);
    if (!held && !fromPage && incoming.seq < this.floorSeq) return false;
    const merged = mergeStored(held, incoming);
    if (merged === held) return true;
    this.byId.set(incoming.id, merged);
    if (held?.seq === null) this.pendingOrder = this.pendingOrder.filter((id) => id !== incoming.id);
    this.ordered = undefined;
    return true;
  }

  /** A question written in this tab, shown at once; the server's copy replaces it when it arrives. */
  addPending(id: string, reportId: string, content: string): void {
    const now = new Date().toISOString();
    this.byId.set(id, {
      id,
      reportId,
      // Known once the server's copy arrives; nothing reads it before.
      conversationId: '',
      authorId: null,
      seq: null,
      role: 'user',
      content,
      status: 'complete',
      replyTo: null,
      error: null,
      sources: [],
      context: null,
      reportRevision: null,
      copiedFrom: null,
      createdAt: now,
      updatedAt: now,
      local: { kind: 'sending' },
    });
    this.pendingOrder.push(id);
    this.ordered = undefined;
  }

  /** Marks a question this tab sends: `sending`, or `send-failed` when the server did not take it. */
  setDelivery(id: string, local: LocalDelivery | undefined): void {
    const held = this.byId.get(id);
    if (!held || held.seq !== null) return; // stored: the server's copy says everything
    this.byId.set(id, { ...held, local });
    this.ordered = undefined;
  }

  /** An answer whose final commit this tab was not told about: keep its text, say "not saved". */
  markUnsaved(message: Message | ChatMessage, reason: string): void {
    const held = this.byId.get(message.id);
    if (isStoredFinal(held)) return; // the events stream already showed it stored
    const base = held ?? message;
    const content = message.content.length >= base.content.length ? message.content : base.content;
    this.byId.set(message.id, { ...base, content, status: message.status, error: message.error, local: { kind: 'unsaved', reason } });
    this.ordered = undefined;
  }

  /** A delta of the events stream. */
  applyDelta(id: string, offset: number, text: string): 'applied' | 'unchanged' | 'gap' | 'unknown' {
    const held = this.byId.get(id);
    if (!held) return 'unknown';
    const result = applyDelta(held, offset, text);
    if (typeof result === 'string') return result;
    this.byId.set(id, result);
    this.ordered = undefined;
    return 'applied';
  }

  /** The whole text so far of an answer, from this tab's own send stream. */
  extendText(id: string, text: string): void {
    const held = this.byId.get(id);
    if (!held) return;
    const next = extendText(held, text);
    if (next === held) return;
    this.byId.set(id, next);
    this.ordered = undefined;
  }

  /** After a clear: the stored messages go; questions this tab has not got stored yet stay. */
  clearStored(): void {
    for (const [id, m] of this.byId) if (m.seq !== null) this.byId.delete(id);
    this.floorSeq = 0;
    this.hasMoreBefore = false;
    this.ordered = undefined;
  }

  /** The first hole in the seqs held (a turn's messages are n and n+1, so there should be none). */
  missingRange(): { after: number; count: number } | undefined {
    const seqs: number[] = [];
    for (const m of this.byId.values()) if (m.seq !== null) seqs.push(m.seq);
    return firstMissingSeq(seqs, this.floorSeq);
  }
}
