import { memo, useMemo } from 'react';
import { Markdown, type CitationMarkers } from '../markdown/Markdown.js';
import { useSourceNavigation } from '../report/source-navigation.js';
import { displayState } from './chat-message.js';
import { contentHash } from './content-hash.js';
import { CitationMarker, MessageSources } from './MessageSources.js';
import { MessageState, type MessageProps } from './MessageState.js';

/**
 * One message: who wrote it, its text (an answer as Markdown, even while it streams), an answer's sources, and its
 * state. An answer's `[n]` markers become citations once its sources are stored (they come with the final message).
 */
export const MessageItem = memo(function MessageItem({ message, onRetry, canRetry }: MessageProps) {
  const state = displayState(message);
  const isUser = message.role === 'user';
  const waiting = !isUser && message.content === '' && (state === 'queued' || state === 'answering');
  const navigation = useSourceNavigation();
  const citations = useMemo<CitationMarkers | undefined>(() => {
    if (!navigation || message.sources.length === 0) return undefined;
    const byNumber = new Map(message.sources.map((s) => [s.n, s]));
    return {
      numbers: new Set(byNumber.keys()),
      render: (n) => <CitationMarker source={byNumber.get(n)!} answerRevision={message.reportRevision} navigation={navigation} />,
    };
  }, [navigation, message.sources, message.reportRevision]);
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
            <Markdown text={message.content || '*(no text)*'} citations={citations} />
          </div>
        )}
        {!isUser && <MessageSources message={message} navigation={navigation} />}
      </div>
      <MessageState message={message} onRetry={onRetry} canRetry={canRetry} />
    </li>
  );
});
