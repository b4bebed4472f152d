import { useEffect, useState, useSyncExternalStore } from 'react';
import { useSession } from '../auth/session.js';
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

/** The conversation of one report, for as long as the component showing it is mounted. */
export function useConversation(reportId: string): { store: ConversationStore | undefined; state: ConversationSnapshot } {
  const session = useSession();
  // Tabs share the events stream per user: a tab signed in as someone else never hears this user's events.
  const userId = session.status === 'signed-in' ? session.user.id : undefined;
  const [store, setStore] = useState<ConversationStore>();
  useEffect(() => {
    const created = new ConversationStore(reportId, userId);
    setStore(created);
    void created.start();
    return () => created.dispose();
  }, [reportId, userId]);
  const state = useSyncExternalStore(store?.subscribe ?? noStore, store?.getSnapshot ?? loading);
  return { store, state };
}
