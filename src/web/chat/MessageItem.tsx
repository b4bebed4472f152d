import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { isTerminal } from '../api/types.js';
import type { BranchPoint } from '../conversations/branches.js';
import { BranchSwitcher } from '../conversations/BranchSwitcher.js';
import { QuestionEditor, type ForkIds } from '../conversations/QuestionEditor.js';
import { Markdown, type CitationMarkers } from '../markdown/Markdown.js';
import { useSourceNavigation } from '../report/source-navigation.js';
import { Icon } from '../ui/icons.js';
import { displayState, type ChatMessage } from './chat-message.js';
import { contentHash } from './content-hash.js';
import { CitationMarker, MessageSources } from './MessageSources.js';
import { MessageState, type MessageProps } from './MessageState.js';

/** What a message offers beyond its retry: editing a question, regenerating an answer, moving between branches. */
export interface MessageBranching {
  /** Editing and regenerating are offered (this user may ask, and this tab is not sending). */
  canFork: boolean;
  /** Who is signed in: only one's own questions offer Edit. */
  userId: string | undefined;
  /** Forks before `question` and asks `content` there, then opens the fork; rejects with words for the person. */
  edit(question: ChatMessage, content: string, ids: ForkIds): Promise<void>;
  regenerate(answer: ChatMessage): void;
  /** The answer whose regeneration is under way. */
  regenerating: string | undefined;
  openBranch(conversationId: string, seq: number, direction: 'previous' | 'next'): void;
}

/**
 * One message: who wrote it, its text (an answer as Markdown, even while it streams), an answer's sources, and its
 * state. An answer's `[n]` markers become citations once its sources are stored (they come with the final message).
 */
export const MessageItem = memo(function MessageItem({
  message,
  onRetry,
  canRetry,
  branch,
  branching,
}: MessageProps & { branch: BranchPoint | undefined; branching: MessageBranching }) {
  const state = displayState(message);
  const isUser = message.role === 'user';
  const waiting = !isUser && message.content === '' && (state === 'queued' || state === 'answering');
  const navigation = useSourceNavigation();
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  const citations = useMemo<CitationMarkers | undefined>(() => {
    if (!navigation || message.sources.length === 0) return undefined;
    const byNumber = new Map(message.sources.map((s) => [s.n, s]));
    return {
      numbers: new Set(byNumber.keys()),
      render: (n) => <CitationMarker source={byNumber.get(n)!} answerRevision={message.reportRevision} navigation={navigation} />,
    };
  }, [navigation, message.sources, message.reportRevision]);
  // A cancelled edit gives the focus back to its Edit button.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  const stored = message.seq !== null && !message.local;
  const canEdit = isUser && stored && branching.canFork && message.authorId !== null && message.authorId === branching.userId;
  const canRegenerate = !isUser && stored && isTerminal(message.status) && message.replyTo !== null && branching.canFork;
  return (
    <li
      className={`message message-${message.role}${editing ? ' is-editing' : ''}`}
      data-message-id={message.id}
      data-seq={message.seq ?? ''}
      data-role={message.role}
      data-state={state}
      data-content-hash={contentHash(message.content)}
    >
      <h3 className="visually-hidden">{isUser ? 'You asked' : 'Answer'}</h3>
      {editing ? (
        <QuestionEditor initial={message.content} onSend={(content, ids) => branching.edit(message, content, ids)} onCancel={() => setEditing(false)} />
      ) : (
        <div className="message-bubble">
          {isUser ? (
            <p className="message-text">{message.content}</p>
          ) : waiting ? (
            <p className="message-waiting" aria-label="Waiting for the answer">
              <span className="dot" />
              <span className="dot" />
              <span className="dot" />
            </p>
          ) : (
            <div className="message-markdown">
              <Markdown text={message.content || '*(no text)*'} citations={citations} />
            </div>
          )}
          {!isUser && <MessageSources message={message} navigation={navigation} />}
        </div>
      )}
      {!editing && (
        <div className="message-footer">
          <MessageState message={message} onRetry={onRetry} canRetry={canRetry} />
          {canEdit && (
            <button ref={editButton} type="button" className="link-button message-action" onClick={() => setEditing(true)}>
              <Icon name="pencil" /> Edit<span className="visually-hidden"> this question</span>
            </button>
          )}
          {canRegenerate && (
            <button
              type="button"
              className="link-button message-action"
              onClick={() => branching.regenerate(message)}
              disabled={branching.regenerating !== undefined}
            >
              <Icon name="redo" className={branching.regenerating === message.id ? 'spin' : undefined} /> Regenerate
              <span className="visually-hidden"> this answer</span>
            </button>
          )}
          {branch && <BranchSwitcher point={branch} onOpen={branching.openBranch} />}
        </div>
      )}
    </li>
  );
});
