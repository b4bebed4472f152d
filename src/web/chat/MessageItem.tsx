import { memo } from 'react';
import { Markdown } from '../markdown/Markdown.js';
import { displayState, type ChatMessage } from './chat-message.js';
import { contentHash } from './content-hash.js';
import { MessageState } from './MessageState.js';

/** One message: who wrote it, its text (an answer as Markdown, even while it streams) and its state. */
export const MessageItem = memo(function MessageItem({
  message,
  onRetry,
  canRetry,
}: {
  message: ChatMessage;
  onRetry: (id: string) => void;
  canRetry: boolean;
}) {
  const state = displayState(message);
  const isUser = message.role === 'user';
  const waiting = !isUser && message.content === '' && (state === 'queued' || state === 'answering');
  return (
    <li
      className={`message message-${message.role}`}
      data-message-id={message.id}
      data-seq={message.seq ?? ''}
      data-role={message.role}
      data-state={state}
      data-content-hash={contentHash(message.content)}
    >
      <h3 className="visually-hidden">{isUser ? 'You asked' : 'Answer'}</h3>
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
            <Markdown text={message.content || '*(no text)*'} />
          </div>
        )}
      </div>
      <MessageState message={message} onRetry={onRetry} canRetry={canRetry} />
    </li>
  );
});
