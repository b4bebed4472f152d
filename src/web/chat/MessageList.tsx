import { useLayoutEffect, useRef, type ReactNode } from 'react';
import type { ConversationSnapshot } from './conversation-store.js';
import type { BranchPoint } from '../conversations/branches.js';
import { MessageItem, type MessageBranching } from './MessageItem.js';
import { useScrollAnchor } from './use-scroll-anchor.js';

const LOAD_OLDER_WITHIN_PX = 160;

/**
 * The conversation, oldest at the top. A polite live region: screen readers hear an answer once it is complete
 * (the region is busy while it streams), not every piece of it.
 */
export function MessageList({
  state,
  onRetry,
  canRetry,
  onLoadOlder,
  onRetryLoad,
  empty,
  visible,
  branchPoints,
  branching,
}: {
  state: ConversationSnapshot;
  /** Where other branches part from this conversation, by seq. */
  branchPoints: ReadonlyMap<number, BranchPoint>;
  branching: MessageBranching;
  onRetry: (id: string) => void;
  canRetry: boolean;
  onLoadOlder: () => void;
  onRetryLoad: () => void;
  empty: ReactNode;
  /** False while the list is in a closed drawer. */
  visible: boolean;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const messages = state.messages;
  const last = messages.at(-1);
  const { onScroll, scrollToBottom } = useScrollAnchor(scroller, messages[0]?.id, messages, visible);
  const streaming = messages.some((m) => m.role === 'assistant' && m.status === 'streaming' && !m.local);

  // A question just written in this tab: show it, wherever the person had scrolled to.
  const lastPendingId = last?.local?.kind === 'sending' && last.seq === null ? last.id : undefined;
  useLayoutEffect(() => {
    if (lastPendingId) scrollToBottom();
  }, [lastPendingId, scrollToBottom]);

  const handleScroll = () => {
    onScroll();
    const el = scroller.current;
    if (el && el.scrollTop < LOAD_OLDER_WITHIN_PX && state.hasMoreBefore && !state.loadingOlder) onLoadOlder();
  };

  return (
    <div
      ref={scroller}
      className="message-scroll"
      onScroll={handleScroll}
      tabIndex={0}
      role="log"
      aria-live="polite"
      aria-busy={streaming}
      aria-label="Messages"
    >
      <div className="message-scroll-content">
        {state.hasMoreBefore && (
          <div className="load-older">
            <button type="button" className="button button-quiet" onClick={onLoadOlder} disabled={state.loadingOlder}>
              {state.loadingOlder ? 'Loading earlier messages…' : 'Load earlier messages'}
            </button>
          </div>
        )}
        {state.phase === 'loading' && <p className="chat-placeholder">Loading the conversation…</p>}
        {state.phase === 'failed' && (
          <div className="chat-placeholder" role="alert">
            <p>The conversation could not be loaded: {state.loadError}</p>
            <button type="button" className="button" onClick={onRetryLoad}>
              Try again
            </button>
          </div>
        )}
        {state.phase === 'ready' && messages.length === 0 && empty}
        {messages.length > 0 && (
          <ol className="message-list">
            {messages.map((m) => (
              <MessageItem
                key={m.id}
                message={m}
                onRetry={onRetry}
                canRetry={canRetry}
                branch={m.seq === null ? undefined : branchPoints.get(m.seq)}
                branching={branching}
              />
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}
