import { accessRefused, isAccessRefusal } from '../api/access-refused.js';
import { api } from '../api/client.js';
import { ApiError, describeError, isAbort } from '../api/errors.js';
import { isTerminal, type ConversationRef, type Message } from '../api/types.js';
import { firstQuestions } from '../conversations/first-question.js';
import type { ChatMessage } from './chat-message.js';
import { ConversationState } from './conversation-state.js';
import { DeltaRepair } from './delta-repair.js';
import type { EventsConnection, LiveStatus } from './events-connection.js';
import { isStoredFinal } from './message-merge.js';
import { newMessageId } from './new-message-id.js';
import { SeqGapFiller } from './seq-gap-filler.js';
import { connectSharedEvents } from './shared-events.js';
import { runTurn, type RunningTurn, type TurnHost } from './turn-runner.js';

export const PAGE_SIZE = 50;

export interface ConversationSnapshot {
  /** `gone`: a conversation other than the main one was deleted, or is not (or no longer) visible to this user. */
  phase: 'loading' | 'ready' | 'failed' | 'gone';
  loadError: string | undefined;
  messages: readonly ChatMessage[];
  hasMoreBefore: boolean;
  loadingOlder: boolean;
  version: number;
  /** This tab is sending a question or receiving its answer: it sends nothing else meanwhile. */
  busy: boolean;
  /** The answer a Stop button stops: this tab's own, else the newest one in progress. */
  stoppable: string | undefined;
  live: LiveStatus;
  /** Something a person should read (a stop that failed, the events stream closed). */
  notice: string | undefined;
}

export interface ConversationStoreOptions {
  conversation: ConversationRef;
  /** The report the conversation belongs to. */
  reportId: string;
  /** The signed-in user: this tab shares its events stream with the other tabs of this user (shared-events.ts). */
  userId?: string;
}

/**
 * One conversation on one page: history pages, this tab's sends and the events stream, merged by message id
 * (conversation-state.ts). React reads it through useSyncExternalStore (use-conversation.ts). A fork's first
 * question, handed over by the chat that made the fork (first-question.ts), is sent once its page has loaded.
 */
export class ConversationStore {
  private readonly state = new ConversationState();
  private readonly abort = new AbortController();
  private readonly turns = new Map<string, RunningTurn>();
  private readonly repair: DeltaRepair;
  private events: EventsConnection | undefined;
  private listeners = new Set<() => void>();
  private snapshot: ConversationSnapshot;
  private phase: ConversationSnapshot['phase'] = 'loading';
  private loadError: string | undefined;
  private loadingOlder = false;
  private live: LiveStatus = 'connecting';
  private notice: string | undefined;
  private readonly gaps: SeqGapFiller;
  private notifyQueued = false;
  private readonly turnHost: TurnHost;
  readonly conversation: ConversationRef;
  readonly reportId: string;
  private readonly userId: string | undefined;

  constructor(options: ConversationStoreOptions) {
    this.conversation = options.conversation;
    this.reportId = options.reportId;
    this.userId = options.userId;
    this.turnHost = this.createTurnHost();
    this.repair = new DeltaRepair({
      apply: (id, offset, text) => this.state.applyDelta(id, offset, text),
      refetch: (id) => this.refetchMessage(id),
      isOver: (id) => isStoredFinal(this.state.get(id)),
    });
    this.gaps = new SeqGapFiller({
      missingRange: () => this.state.missingRange(),
      version: () => this.state.version,
      read: async (after, count) => {
        const page = await api.listMessages(this.conversation, { after, limit: count }, this.abort.signal);
        this.state.applyPage(page, 'range');
        this.changed();
      },
    });
    this.snapshot = this.buildSnapshot();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): ConversationSnapshot => this.snapshot;

  /** A message this tab holds. */
  message(id: string): ChatMessage | undefined {
    return this.state.get(id);
  }

  /** Loads the newest page, then follows the events stream from the version that page was read at. */
  async start(): Promise<void> {
    try {
      const [page] = await Promise.all([api.listMessages(this.conversation, { limit: PAGE_SIZE }, this.abort.signal), this.checkReport()]);
      if (this.abort.signal.aborted) return;
      this.state.applyPage(page, 'newest');
      this.phase = 'ready';
      this.loadError = undefined;
      this.changed();
      this.sendFirstQuestion();
      // From the version of that page, or, if this tab comes to hold a stream shared with other tabs later, from the
      // highest version it has seen by then.
      const target = { conversation: this.conversation, userId: this.userId, version: () => this.state.version };
      this.events = connectSharedEvents(target, {
        onMessage: (message, version) => {
          this.state.seenVersion(version);
          this.stored(message);
        },
        onDelta: (d) => {
          this.repair.delta(d.id, d.offset, d.text);
          this.changed();
        },
        onCleared: (version) => {
          this.state.seenVersion(version);
          this.afterClear();
        },
        onStatus: (status) => {
          this.live = status;
          this.changed();
        },
        onFatal: (err) => {
          if (this.isGone(err)) this.phase = 'gone';
          else this.notice = `Live updates stopped: ${err.message}`;
          this.changed();
          // Removed from the report (or it was deleted): the page reads it again and says so.
          if (isAccessRefusal(err.status)) accessRefused(this.reportId);
        },
      });
    } catch (err) {
      if (isAbort(err)) return;
      this.phase = this.isGone(err) ? 'gone' : 'failed';
      this.loadError = describeError(err);
      this.changed();
    }
  }

  /**
   * A conversation named by its id that the server no longer shows this user: deleted, made private by someone
   * else, or never theirs to see. (For the main conversation, named by its report, that is the report's page's to
   * say.)
   */
  private isGone(err: unknown): boolean {
    return typeof this.conversation !== 'string' && err instanceof ApiError && (err.status === 404 || err.status === 403);
  }

  /**
   * A conversation named by its id in an address of another report's page would be shown beside the wrong report:
   * to this page, it does not exist.
   */
  private async checkReport(): Promise<void> {
    if (typeof this.conversation === 'string') return;
    const found = await api.getConversation(this.conversation.conversationId, this.abort.signal);
    if (found.reportId !== this.reportId) throw new ApiError(404, 'not_found', 'No such conversation in this report.');
  }

  /** The question this conversation was forked for, if this tab made the fork and has not sent it to its end yet. */
  private sendFirstQuestion(): void {
    if (typeof this.conversation === 'string') return;
    const conversationId = this.conversation.conversationId;
    const question = firstQuestions.get(conversationId);
    if (!question) return;
    if (this.state.get(question.id)?.seq != null) return firstQuestions.done(conversationId); // stored before a reload
    if (this.turns.size > 0) return;
    this.state.addPending(question.id, this.reportId, question.content);
    this.startTurn(question.id, question.content, undefined, () => firstQuestions.done(conversationId));
  }

  /** Tries the first load again after it failed. */
  retryLoad(): void {
    if (this.phase !== 'failed') return;
    this.phase = 'loading';
    this.changed();
    void this.start();
  }

  dispose(): void {
    this.abort.abort();
    this.events?.close();
    this.repair.dispose();
    this.gaps.dispose();
    this.listeners.clear();
  }

  async loadOlder(): Promise<void> {
    const before = this.state.oldestSeq();
    if (this.loadingOlder || !this.state.hasMoreBefore || before === undefined) return;
    this.loadingOlder = true;
    this.changed();
    try {
      const page = await api.listMessages(this.conversation, { limit: PAGE_SIZE, before }, this.abort.signal);
      this.state.applyPage(page, 'older');
    } catch (err) {
      if (isAbort(err)) return;
      this.notice = `Older messages could not be loaded: ${describeError(err)}`;
    } finally {
      this.loadingOlder = false;
      this.changed();
    }
  }

  /** Sends a new question. False (and nothing sent) while this tab's previous question is still in flight. */
  send(content: string): boolean {
    const text = content.trim();
    if (!text || this.turns.size > 0 || this.phase !== 'ready') return false;
    const id = newMessageId();
    this.state.addPending(id, this.reportId, text);
    this.startTurn(id, text);
    return true;
  }

  /**
   * A question that was not stored, or an answer not known to be saved: sends the same id again (the server
   * replays a stored turn). A failed or interrupted answer: asks its question again, as a new turn.
   */
  retry(messageId: string): void {
    if (this.turns.size > 0) return;
    const m = this.state.get(messageId);
    if (!m) return;
    if (m.role === 'user' && m.local?.kind === 'send-failed') return this.startTurn(m.id, m.content);
    const question = m.replyTo ? this.state.get(m.replyTo) : undefined;
    if (!question) return;
    if (m.local?.kind === 'unsaved') return this.startTurn(question.id, question.content, m.id);
    if (m.status === 'failed' || m.status === 'interrupted') this.send(question.content);
  }

  async stop(): Promise<void> {
    const target = this.snapshot.stoppable;
    if (!target) return;
    try {
      const { message } = await api.stopAnswer(this.conversation, target);
      this.stored(message);
    } catch (err) {
      this.notice = `The answer could not be stopped: ${describeError(err)}`;
      this.changed();
    }
  }

  /** Clears the conversation at the version this tab shows. Throws ApiError (412, 409…) for the caller to explain. */
  async clear(): Promise<void> {
    try {
      await api.clearConversation(this.conversation, this.state.version);
    } catch (err) {
      // 412: another tab changed it. Read the newest page, so what the person sees next is current.
      if (err instanceof ApiError && err.status === 412) await this.refreshNewest('refresh').catch(() => {});
      throw err;
    }
    this.afterClear();
  }

  dismissNotice(): void {
    this.notice = undefined;
    this.changed();
  }

  /** `ended` runs when the send has ended here, not when the page went away in the middle of it. */
  private startTurn(userId: string, content: string, assistantId?: string, ended?: () => void): void {
    const turn: RunningTurn = { userId, assistantId };
    this.turns.set(userId, turn);
    this.state.setDelivery(userId, { kind: 'sending' });
    this.changed();
    runTurn(this.turnHost, turn, content)
      .catch((err: unknown) => {
        this.state.setDelivery(userId, { kind: 'send-failed', reason: describeError(err) });
      })
      .finally(() => {
        this.turns.delete(userId);
        this.changed();
        if (!this.abort.signal.aborted) ended?.();
      });
  }

  private createTurnHost(): TurnHost {
    return {
      conversation: this.conversation,
      signal: this.abort.signal,
      stored: (message) => this.stored(message),
      answerText: (id, text) => {
        this.state.extendText(id, text);
        this.repair.changed(id);
        this.changed();
      },
      unsaved: (message, reason) => {
        this.state.markUnsaved(message, reason);
        this.changed();
      },
      sendFailed: (userId, reason) => {
        this.state.setDelivery(userId, { kind: 'send-failed', reason });
        this.changed();
      },
      // A viewer now, or no longer a member: the report page reads the report again.
      refused: (err) => {
        if (err instanceof ApiError && isAccessRefusal(err.status)) accessRefused(this.reportId);
      },
      storedFinal: (id) => isStoredFinal(this.state.get(id)),
      current: (id) => this.state.get(id),
    };
  }

  private stored(message: Message): void {
    if (!this.state.applyStored(message)) return;
    this.repair.changed(message.id);
    this.gaps.check();
    this.changed();
  }

  private afterClear(): void {
    this.state.clearStored();
    this.changed();
    // Anything sent after the clear (from any tab) is read again, so nothing new is lost with the old.
    this.refreshNewest('newest').catch(() => {});
  }

  private async refreshNewest(kind: 'newest' | 'refresh'): Promise<void> {
    const page = await api.listMessages(this.conversation, { limit: PAGE_SIZE }, this.abort.signal);
    this.state.applyPage(page, kind);
    this.changed();
  }

  private async refetchMessage(id: string): Promise<void> {
    const seq = this.state.get(id)?.seq;
    if (seq === null || seq === undefined) return;
    const page = await api.listMessages(this.conversation, { after: seq - 1, limit: 1 }, this.abort.signal);
    const message = page.messages[0];
    if (message?.id === id) this.stored(message);
  }

  private buildSnapshot(): ConversationSnapshot {
    const messages = this.state.messages();
    const own = [...this.turns.values()].at(-1);
    let stoppable = own ? (own.assistantId ?? own.userId) : undefined;
    if (!stoppable) {
      stoppable = [...messages].reverse().find((m) => m.role === 'assistant' && !isTerminal(m.status) && !m.local)?.id;
    }
    return {
      phase: this.phase,
      loadError: this.loadError,
      messages,
      hasMoreBefore: this.state.hasMoreBefore,
      loadingOlder: this.loadingOlder,
      version: this.state.version,
      busy: this.turns.size > 0,
      stoppable,
      live: this.live,
      notice: this.notice,
    };
  }

  /** Listeners hear of changes once per microtask, however many deltas arrived in it. */
  private changed(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      this.snapshot = this.buildSnapshot();
      for (const fn of [...this.listeners]) fn();
    });
  }
}
