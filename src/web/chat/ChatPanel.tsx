import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Report } from '../api/types.js';
import type { Heading } from '../report/headings.js';
import { Icon } from '../ui/icons.js';
import { Composer, type ComposerHandle } from './Composer.js';
import { ConversationToolbar } from './ConversationToolbar.js';
import { LiveIndicator } from './LiveIndicator.js';
import { MessageList } from './MessageList.js';
import { suggestQuestions } from './suggest-questions.js';
import { SuggestedQuestions } from './SuggestedQuestions.js';
import { useConversation } from './use-conversation.js';

interface Props {
  report: Report;
  headings: Heading[];
  /** Beside the report, or a drawer over it (narrow screens). */
  mode: 'side' | 'drawer';
  open: boolean;
  onClose: () => void;
}

type Notice = { text: string; tone: 'info' | 'error' };

export function ChatPanel({ report, headings, mode, open, onClose }: Props) {
  const { store, state } = useConversation(report.id);
  const composer = useRef<ComposerHandle>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const [notice, setNotice] = useState<Notice>();
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

  const send = useCallback((text: string) => store?.send(text) ?? false, [store]);
  const retry = useCallback((id: string) => store?.retry(id), [store]);
  const shown = notice ?? (state.notice ? { text: state.notice, tone: 'error' as const } : undefined);

  return (
    <section
      className={`chat-panel chat-${mode}`}
      aria-labelledby="chat-title"
      hidden={!open}
      {...(drawer ? { role: 'dialog', 'aria-modal': true } : {})}
    >
      <header className="chat-header">
        <div className="chat-heading">
          <h2 id="chat-title">Conversation</h2>
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
          reportId={report.id}
          messageCount={state.messages.length}
          canClear={report.role === 'owner'}
          onClear={() => store?.clear() ?? Promise.resolve()}
          onMessage={(text, tone) => setNotice({ text, tone })}
        />
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
      <MessageList
        state={state}
        onRetry={retry}
        canRetry={canSend && !state.busy}
        onLoadOlder={() => void store?.loadOlder()}
        onRetryLoad={() => store?.retryLoad()}
        visible={open}
        empty={
          canSend && report.status === 'complete' ? (
            <SuggestedQuestions questions={questions} onAsk={(q) => void send(q)} disabled={state.busy} />
          ) : (
            <p className="chat-placeholder">No messages yet.</p>
          )
        }
      />
      {canSend ? (
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
