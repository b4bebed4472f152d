import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { newMessageId } from '../chat/new-message-id.js';
import { QuestionInput, tooLongNote } from '../chat/QuestionInput.js';
import { Icon } from '../ui/icons.js';

/** The ids of one edit: the fork's and its question's, each an idempotency key sent again by every retry. */
export interface ForkIds {
  forkId: string;
  questionId: string;
}

/**
 * A question turned into an editor. Send makes a branch with the edited question (onSend forks, then opens the
 * fork); the conversation itself is not changed. The ids are chosen once and kept while the editor is open, so
 * sending again after a failure retries the same fork; a changed text gets a new question id, as a different
 * message. Enter sends, Shift+Enter adds a line, Escape cancels.
 */
export function QuestionEditor({
  initial,
  onSend,
  onCancel,
}: {
  initial: string;
  /** Resolves once the branch is open; rejects with words for the person. */
  onSend: (content: string, ids: ForkIds) => Promise<void>;
  onCancel: () => void;
}) {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string>();
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const attempt = useRef<ForkIds & { content?: string }>({ forkId: newMessageId(), questionId: newMessageId() });
  const errorId = useId();

  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = text.trim();
    if (sending || !content || tooLongNote(content)) return;
    if (attempt.current.content !== undefined && attempt.current.content !== content) attempt.current.questionId = newMessageId();
    attempt.current.content = content;
    setSending(true);
    setError(undefined);
    try {
      await onSend(content, { forkId: attempt.current.forkId, questionId: attempt.current.questionId });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setSending(false);
    }
  };

  const tooLong = tooLongNote(text);
  return (
    <form className="question-editor" onSubmit={(e) => void submit(e)}>
      <QuestionInput
        ref={input}
        label="Edit your question"
        rows={2}
        value={text}
        onValue={setText}
        onSubmit={() => void submit()}
        onEscape={() => !sending && onCancel()}
        readOnly={sending}
        aria-invalid={tooLong || error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
      />
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
      {tooLong && <p className="field-error">{tooLong}</p>}
      <div className="question-editor-actions">
        <button type="button" className="button button-small" onClick={onCancel} disabled={sending}>
          Cancel
        </button>
        <button
          type="submit"
          className="button button-small button-primary"
          aria-label="Send the edited question"
          disabled={sending || !text.trim() || tooLong !== undefined}
        >
          <Icon name="send" /> {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      <p className="question-editor-hint">Sending starts a branch with this question; the conversation stays as it is.</p>
    </form>
  );
}
