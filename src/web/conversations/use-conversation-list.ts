import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { describeError, isAbort } from '../api/errors.js';
import type { Conversation } from '../api/types.js';

export interface ConversationList {
  /** Newest activity first, as the server lists them; undefined until the first answer. */
  conversations: Conversation[] | undefined;
  /** Why the last read failed (the list read before it, if any, stays). */
  error: string | undefined;
  /** Reads the list again (the server tells nobody when another tab or person starts or changes one). */
  reload(): void;
  /** A conversation this tab created or changed, shown at once. */
  put(conversation: Conversation): void;
  remove(conversationId: string): void;
}

/**
 * The report's conversations this user may see. Read when the page opens and whenever `reload` is called; read
 * again when the window gets the focus back, when another tab may have changed them.
 */
export function useConversationList(reportId: string): ConversationList {
  const [conversations, setConversations] = useState<Conversation[]>();
  const [error, setError] = useState<string>();
  const reading = useRef<AbortController>(undefined);
  /** Grows with each local change: a read that started before one answers with a list that lacks it. */
  const changes = useRef(0);

  const reload = useCallback(() => {
    reading.current?.abort();
    const controller = (reading.current = new AbortController());
    const changesBefore = changes.current;
    api.listConversations(reportId, controller.signal).then(
      (list) => {
        if (controller.signal.aborted) return;
        if (changes.current !== changesBefore) return reload();
        setConversations(list);
        setError(undefined);
      },
      (err: unknown) => {
        if (!isAbort(err) && !controller.signal.aborted) setError(describeError(err));
      },
    );
  }, [reportId]);

  useEffect(() => {
    reload();
    window.addEventListener('focus', reload);
    return () => {
      window.removeEventListener('focus', reload);
      reading.current?.abort();
    };
  }, [reload]);

  const put = useCallback((conversation: Conversation) => {
    changes.current++;
    setConversations((list = []) => {
      const at = list.findIndex((c) => c.id === conversation.id);
      if (at === -1) return [conversation, ...list];
      return list.map((c, i) => (i === at ? conversation : c));
    });
  }, []);

  const remove = useCallback((conversationId: string) => {
    changes.current++;
    setConversations((list) => list?.filter((c) => c.id !== conversationId));
  }, []);

  return { conversations, error, reload, put, remove };
}
