import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ConversationRef } from '../api/types.js';
import { useSession } from '../auth/session.js';
import { conversationKey } from './conversation-ref.js';
import { ConversationStore, type ConversationSnapshot } from './conversation-store.js';

const LOADING: ConversationSnapshot = {
  phase: 'loading',
  loadError: undefined,
  messages: [],
  hasMoreBefore: false,
  loadingOlder: false,
  version: 0,
  busy: false,
  stoppable: undefined,
  live: 'connecting',
  notice: undefined,
};

const noStore = () => () => {};
const loading = () => LOADING;

/**
 * A conversation of a report, for as long as the component showing it is mounted and shows that conversation: the
 * store of another one starts afresh, so nothing of one conversation's state ever shows in another.
 */
export function useConversation(
  conversation: ConversationRef,
  reportId: string,
): { store: ConversationStore | undefined; state: ConversationSnapshot } {
  const session = useSession();
  // Tabs share the events stream per user: a tab signed in as someone else never hears this user's events.
  const userId = session.status === 'signed-in' ? session.user.id : undefined;
  const [store, setStore] = useState<ConversationStore>();
  const key = conversationKey(conversation);
  useEffect(() => {
    const created = new ConversationStore({ conversation, reportId, userId });
    setStore(created);
    void created.start();
    return () => created.dispose();
    // Keyed by `key`, not by the ref: a ref may be a new object at every render for the same conversation.
  }, [key, reportId, userId]);
  // A store of the conversation shown before is never read, even for the render before the effect replaces it.
  const current = store && conversationKey(store.conversation) === key ? store : undefined;
  const state = useSyncExternalStore(current?.subscribe ?? noStore, current?.getSnapshot ?? loading);
  return { store: current, state };
}
