import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Report } from '../api/types.js';
import { Link, navigate } from '../app/router.js';
import { conversationPath } from '../app/routes.js';
import { useSession } from '../auth/session.js';
import { branchPoints, type BranchPoint } from '../conversations/branches.js';
import { ConversationMenu } from '../conversations/ConversationMenu.js';
import { conversationRights } from '../conversations/rights.js';
import { useBranching } from '../conversations/use-branching.js';
import { useConversationList } from '../conversations/use-conversation-list.js';
import type { Heading } from '../report/headings.js';
import { Icon } from '../ui/icons.js';
import { Composer, type ComposerHandle } from './Composer.js';
import { conversationKey, conversationRef } from './conversation-ref.js';
import { ConversationToolbar } from './ConversationToolbar.js';
import { LiveIndicator } from './LiveIndicator.js';
import { MessageList } from './MessageList.js';
import { suggestQuestions } from './suggest-questions.js';
import { SuggestedQuestions } from './SuggestedQuestions.js';
import { useConversation } from './use-conversation.js';

interface Props {
  report: Report;
  /** The conversation the URL names; undefined: the report's main one. */
  conversationId: string | undefined;
  headings: Heading[];
  /** Beside the report, or a drawer over it (narrow screens). */
  mode: 'side' | 'drawer';
  open: boolean;
  onClose: () => void;
}

/** Words for the person, about the conversation they were said on (`key`): another conversation does not show them. */
type Notice = { text: string; tone: 'info' | 'error'; key: string };

const NO_POINTS: ReadonlyMap<number, BranchPoint> = new Map();

export function ChatPanel({ report, conversationId, headings, mode, open, onClose }: Props) {
  const session = useSession();
  const userId = session.status === 'signed-in' ? session.user.id : undefined;
  const ref = conversationRef(report.id, conversationId);
  const key = conversationKey(ref);
  const mainKey = conversationKey(report.id);
  const list = useConversationList(report.id);
  const { conversations, reload, put, remove } = list;
  const current = conversations?.find((c) => (conversationId === undefined ? c.isMain : c.id === conversationId));
  const { store, state } = useConversation(ref, report.id);
  const composer = useRef<ComposerHandle>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const [notice, setNotice] = useState<Notice>();
  const focusComposer = useRef(false);
  const canSend = report.role !== 'viewer';
  const disabledReason = !canSend
    ? 'You can read this conversation but not write in it.'
    : report.status !== 'complete'
      ? 'Questions open when the report is complete.'
      : state.phase !== 'ready'
        ? 'Loading the conversation…'
        : undefined;
  const questions = useMemo(() => suggestQuestions(headings), [headings]);
  const drawer = mode === 'drawer';
  const say = useCallback(
    (text: string, tone: Notice['tone'], on?: 'main') => setNotice({ text, tone, key: on === 'main' ? mainKey : key }),
    [key, mainKey],
  );

  // A drawer takes the focus when it opens and gives it back (through onClose) when it closes.
  useEffect(() => {
    if (drawer && open && !composer.current?.focus()) closeButton.current?.focus();
  }, [drawer, open]);
  useEffect(() => {
    if (!drawer || !open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !document.querySelector('dialog[open]')) onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [drawer, open, onClose]);

  // The main conversation has one address, the report's: a link that names it by its id is rewritten to that.
  useEffect(() => {
    if (conversationId !== undefined && current?.isMain) navigate(conversationPath(report.id), { replace: true });
  }, [conversationId, current?.isMain, report.id]);
  // The list changes as conversations do: read it again when another is shown, when this one is gone, and when this
  // tab's turn ends (a conversation's lastSeq decides where its branches show).
  const seen = useRef({ key, busy: state.busy, phase: state.phase });
  useEffect(() => {
    const before = seen.current;
    seen.current = { key, busy: state.busy, phase: state.phase };
    if (before.key !== key || (before.busy && !state.busy) || (state.phase === 'gone' && before.phase !== 'gone')) reload();
  }, [key, state.busy, state.phase, reload]);
  // A new conversation: the composer takes the focus once it can.
  useEffect(() => {
    if (state.phase === 'ready' && focusComposer.current) {
      focusComposer.current = false;
      composer.current?.focus();
    }
  }, [state.phase, key]);

  const points = useMemo(() => (conversations && current ? branchPoints(conversations, current.id) : NO_POINTS), [conversations, current?.id]);
  const branching = useBranching({
    report,
    current,
    store,
    canFork: canSend && report.status === 'complete' && current !== undefined && state.phase === 'ready' && !state.busy,
    userId,
    mainId: conversations?.find((c) => c.isMain)?.id,
    onForked: put,
    onError: (text) => say(text, 'error'),
  });

  const send = useCallback((text: string) => store?.send(text) ?? false, [store]);
  const retry = useCallback((id: string) => store?.retry(id), [store]);
  const shown = notice?.key === key ? notice : state.notice ? { text: state.notice, tone: 'error' as const } : undefined;
  // The main conversation's rights are known before the list is read: they follow from the role alone.
  const rights = conversationRights(current ?? { isMain: conversationId === undefined, createdBy: null }, userId, report.role);
  const gone = state.phase === 'gone';

  return (
    <section
      className={`chat-panel chat-${mode}`}
      aria-labelledby="chat-title"
      hidden={!open}
      {...(drawer ? { role: 'dialog', 'aria-modal': true } : {})}
    >
      <header className="chat-header">
        <div className="chat-heading">
          <h2 id="chat-title" className="chat-title">
            {current?.title ?? 'Conversation'}
          </h2>
          {current?.visibility === 'private' && <span className="pill pill-private">Private</span>}
          <LiveIndicator status={state.live} />
          {drawer && (
            <button
              ref={closeButton}
              type="button"
              className="icon-button chat-close"
              onClick={onClose}
              aria-label="Close the conversation"
            >
              <Icon name="close" />
            </button>
          )}
        </div>
        <ConversationToolbar
          conversation={ref}
          messageCount={gone ? 0 : state.messages.length}
          canClear={rights.clear}
          onClear={() => store?.clear() ?? Promise.resolve()}
          onMessage={say}
        >
          <ConversationMenu
            list={list}
            canCreate={canSend}
            onStarted={() => (focusComposer.current = true)}
            report={report}
            userId={userId}
            current={current}
            version={state.version}
            onChanged={put}
            onDeleted={remove}
            onNotice={say}
          />
        </ConversationToolbar>
      </header>
      {shown && (
        <div className={`chat-notice notice-${shown.tone}`} role={shown.tone === 'error' ? 'alert' : 'status'}>
          <p>{shown.text}</p>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => {
              setNotice(undefined);
              store?.dismissNotice();
            }}
          >
            <Icon name="close" />
          </button>
        </div>
      )}
      {gone ? (
        <div className="chat-gone" role="alert">
          <p>This conversation is not available: it was deleted or made private, or you no longer have access to it.</p>
          <p>
            <Link href={conversationPath(report.id)}>Open the main conversation</Link>
          </p>
        </div>
      ) : (
        <MessageList
          state={state}
          onRetry={retry}
          canRetry={canSend && !state.busy}
          onLoadOlder={() => void store?.loadOlder()}
          onRetryLoad={() => store?.retryLoad()}
          visible={open}
          branchPoints={points}
          branching={branching}
          empty={
            canSend && report.status === 'complete' ? (
              <SuggestedQuestions questions={questions} onAsk={(q) => void send(q)} disabled={state.busy} />
            ) : (
              <p className="chat-placeholder">No messages yet.</p>
            )
          }
        />
      )}
      {gone ? null : canSend ? (
        <Composer
          ref={composer}
          onSend={send}
          onStop={() => void store?.stop()}
          busy={state.busy}
          canStop={state.stoppable !== undefined}
          disabledReason={disabledReason}
        />
      ) : (
        <p className="chat-readonly">{disabledReason}</p>
      )}
    </section>
  );
}
