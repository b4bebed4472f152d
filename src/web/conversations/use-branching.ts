import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Conversation, Report } from '../api/types.js';
import { navigate } from '../app/router.js';
import { conversationPath } from '../app/routes.js';
import type { ChatMessage } from '../chat/chat-message.js';
import type { ConversationStore } from '../chat/conversation-store.js';
import type { MessageBranching } from '../chat/MessageItem.js';
import { newMessageId } from '../chat/new-message-id.js';
import { createFork, explainForkError } from './fork.js';
import type { ForkIds } from './QuestionEditor.js';

/** A branch switch moves the focus to the same switcher in the conversation it opens, if that shows in time. */
const FOCUS_WITHIN_MS = 5_000;

/**
 * What the messages of a conversation offer to branch it: edit a question, regenerate an answer (fork.ts), and move
 * between branches. A regeneration's ids are kept per answer until it succeeds, so pressing Regenerate again after a
 * failure retries the same fork and question.
 */
export function useBranching({
  report,
  current,
  store,
  canFork,
  userId,
  mainId,
  onForked,
  onError,
}: {
  report: Pick<Report, 'id'>;
  current: Conversation | undefined;
  store: ConversationStore | undefined;
  canFork: boolean;
  userId: string | undefined;
  /** The main conversation's id: it opens at the report's own address. */
  mainId: string | undefined;
  onForked: (fork: Conversation) => void;
  onError: (text: string) => void;
}): MessageBranching {
  const [regenerating, setRegenerating] = useState<string>();
  const regenerations = useRef(new Map<string, ForkIds>());
  /** Aborted when the chat goes: a fork still being made then is not opened over whatever page is shown next. */
  const lifetime = useRef<AbortController>(undefined);
  const pendingFocus = useRef<{ seq: number; direction: 'previous' | 'next'; until: number }>(undefined);
  const errorOut = useRef(onError);
  errorOut.current = onError;
  useEffect(() => {
    const controller = (lifetime.current = new AbortController());
    return () => controller.abort();
  }, []);

  const visibility = current?.visibility;
  const reportId = report.id;
  const edit = useCallback(
    async (question: ChatMessage, content: string, ids: ForkIds) => {
      const signal = lifetime.current?.signal;
      if (!visibility || !signal || question.seq === null) throw new Error('This conversation is still loading. Try again in a moment.');
      const plan = {
        reportId,
        from: { conversationId: question.conversationId, seq: question.seq - 1 },
        visibility,
        id: ids.forkId,
        question: { id: ids.questionId, content },
      };
      let fork: Conversation;
      try {
        fork = await createFork(plan, signal);
      } catch (err) {
        throw new Error(explainForkError(err), { cause: err });
      }
      if (signal.aborted) return;
      onForked(fork);
      navigate(conversationPath(reportId, fork.id));
    },
    [visibility, reportId, onForked],
  );

  const regenerate = useCallback(
    (answer: ChatMessage) => {
      const question = answer.replyTo ? store?.message(answer.replyTo) : undefined;
      if (!question || question.seq === null) return errorOut.current('The question of this answer is not loaded: load earlier messages, then try again.');
      const ids = regenerations.current.get(answer.id) ?? { forkId: newMessageId(), questionId: newMessageId() };
      regenerations.current.set(answer.id, ids);
      setRegenerating(answer.id);
      edit(question, question.content, ids).then(
        () => regenerations.current.delete(answer.id),
        (err: unknown) => errorOut.current(err instanceof Error ? err.message : String(err)),
      ).finally(() => setRegenerating(undefined));
    },
    [store, edit],
  );

  const openBranch = useCallback(
    (conversationId: string, seq: number, direction: 'previous' | 'next') => {
      pendingFocus.current = { seq, direction, until: Date.now() + FOCUS_WITHIN_MS };
      navigate(conversationPath(reportId, conversationId === mainId ? undefined : conversationId));
    },
    [reportId, mainId],
  );

  // After a switch, the same switcher (in the conversation opened) takes the focus once it shows.
  useEffect(() => {
    const want = pendingFocus.current;
    if (!want) return;
    if (Date.now() > want.until) return void (pendingFocus.current = undefined);
    const switcher = document.querySelector(`.chat-panel li[data-seq="${want.seq}"] .branch-switcher`);
    if (!switcher) return;
    const button =
      switcher.querySelector<HTMLButtonElement>(`button[data-direction="${want.direction}"]:not(:disabled)`) ??
      switcher.querySelector<HTMLButtonElement>('button:not(:disabled)');
    pendingFocus.current = undefined;
    button?.focus();
  });

  return useMemo(
    () => ({ canFork, userId, edit, regenerate, regenerating, openBranch }),
    [canFork, userId, edit, regenerate, regenerating, openBranch],
  );
}
