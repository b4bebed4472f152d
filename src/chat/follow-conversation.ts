import { readChangesAfter } from '../store/history.js';
import type { MessageRow } from '../store/types.js';
import { visibleConversation, type ConversationRef } from './access.js';
import type { BusEvent } from './bus.js';
import type { Caller, ChatContext, Credential } from './context.js';
import { EventFeed } from './event-feed.js';

/** Why a conversation feed ended on its own: the reader was removed, or lost access or its credential. */
export type FeedEndReason = 'revoked' | 'access-lost';

/**
 * What a reader of a conversation is sent, in order. Live events are the bus's own objects, the same for every
 * follower of the conversation, so a formatter may encode each once for all of them (keyed on the object).
 */
export type ConversationEvent = Extract<BusEvent, { type: 'message' | 'delta' | 'cleared' }> | { type: 'end'; reason: FeedEndReason };

export interface FollowOptions {
  /** Resume: first every message changed after this version, in version order (a `cleared` first if one was). */
  since?: number;
  /** The feed ends when it does (a revoked token, a sign-out, an expiry). */
  credential: Credential;
}

export interface ConversationTarget {
  reportId: string;
  conversationId: string;
  userId: string;
}

/** Authorizes a reader (404 for a conversation they cannot see), before any stream is opened. */
export async function openConversation(ctx: ChatContext, caller: Caller, where: ConversationRef) {
  const { report, conversation } = await visibleConversation(ctx, caller, where);
  const target = { reportId: report.id, conversationId: conversation.id, userId: caller.id };
  return { report, conversation, follow: (options: FollowOptions) => followConversation(ctx, target, options) };
}

/**
 * Every change of a conversation, live, optionally resumed from a version, with no gap and no repeat: it subscribes
 * before it reads and holds live events while the read runs, then drops any version already sent. A resumed answer
 * that this instance is generating comes with its live text, and the deltas that text already holds are dropped, so
 * the reader can apply the next one directly. It ends (an `end` event) when the reader loses access; `close()`
 * stops it from the reader's side.
 */
export function followConversation(ctx: ChatContext, target: ConversationTarget, options: FollowOptions): EventFeed<ConversationEvent> {
  const feed = new EventFeed<ConversationEvent>();
  const { since } = options;
  let lastVersion = since ?? -1;
  const sentUpTo = new Map<string, number>();
  const end = (reason: FeedEndReason) => {
    feed.push({ type: 'end', reason });
    feed.finish();
  };
  const accept = (event: BusEvent) => {
    switch (event.type) {
      case 'message':
        if (event.message.changedVersion <= lastVersion) return; // already sent by the resume read
        lastVersion = event.message.changedVersion;
        feed.push(event);
        return;
      case 'delta':
        if (event.offset < (sentUpTo.get(event.messageId) ?? 0)) return;
        feed.push(event);
        return;
      case 'cleared':
        if (event.version <= lastVersion) return;
        lastVersion = event.version;
        feed.push(event);
        return;
      case 'revoked':
        if (event.userId === target.userId) end('revoked');
        return;
      case 'hidden':
        if (event.exceptUserId !== target.userId) end('access-lost');
        return;
      default:
        return;
    }
  };
  const withLiveText = (m: MessageRow): MessageRow => {
    const live = m.status === 'streaming' ? ctx.engine.liveTurn(m.id) : undefined;
    if (!live) return m;
    sentUpTo.set(m.id, live.text.length);
    return { ...m, content: live.text };
  };

  // Subscribe first and hold live events while the resume read runs: nothing falls between the two.
  let held: BusEvent[] | undefined = [];
  feed.onEnd(ctx.bus.subscribe(target.conversationId, (event) => (held ? held.push(event) : accept(event))));
  const resume = async () => {
    if (since !== undefined) {
      const changes = await readChangesAfter(ctx.sql, target.conversationId, since);
      const { clearedVersion } = changes.conversation;
      if (clearedVersion > since) accept({ type: 'cleared', conversationId: target.conversationId, version: clearedVersion });
      for (const message of changes.messages) accept({ type: 'message', conversationId: target.conversationId, message: withLiveText(message) });
    }
    for (const event of held ?? []) accept(event);
    held = undefined;
    if (feed.done) return;
    feed.onEnd(
      ctx.access.watch({ conversationId: target.conversationId, userId: target.userId, credential: options.credential }, () => end('access-lost')),
    );
  };
  resume().catch((err: unknown) => feed.fail(err));
  return feed;
}
