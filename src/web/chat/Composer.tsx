import { forwardRef, useEffect, useId, useImperativeHandle, useRef, useState, type FormEvent } from 'react';
import { Icon } from '../ui/icons.js';
import { MAX_QUESTION_CHARS, QuestionInput, tooLongNote } from './QuestionInput.js';

export interface ComposerHandle {
  /** Focuses the input; false when it is disabled and cannot take the focus. */
  focus(): boolean;
}

/**
 * Writes a question. Enter sends, Shift+Enter starts a new line. While this tab's question is sent and answered
 * the input is disabled, so a second Enter or click cannot send it twice (the store refuses it too).
 */
export const Composer = forwardRef<
  ComposerHandle,
  {
    onSend: (text: string) => boolean;
    onStop: () => void;
    busy: boolean;
    canStop: boolean;
    disabledReason: string | undefined;
  }
>(function Composer({ onSend, onStop, busy, canStop, disabledReason }, ref) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const hintId = useId();
  const disabled = busy || disabledReason !== undefined;

  useImperativeHandle(
    ref,
    () => ({
      focus: () => {
        const el = input.current;
        if (!el || el.disabled) return false;
        el.focus();
        return true;
      },
    }),
    [],
  );

  // The input was disabled while the answer came: give the focus back to it (if the person left it nowhere else).
  const wasBusy = useRef(busy);
  useEffect(() => {
    if (wasBusy.current && !busy && (document.activeElement === document.body || document.activeElement === null)) {
      input.current?.focus();
    }
    wasBusy.current = busy;
  }, [busy]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (disabled) return;
    const value = text.trim();
    if (!value || value.length > MAX_QUESTION_CHARS) return;
    if (onSend(value)) setText('');
  };

  const tooLong = tooLongNote(text);
  return (
    <form className="composer" onSubmit={submit}>
      <QuestionInput
        ref={input}
        label="Your question about the report"
        rows={1}
        value={text}
        onValue={setText}
        onSubmit={() => submit()}
        placeholder={disabledReason ?? (busy ? 'Waiting for the answer…' : 'Ask about this report…')}
        disabled={disabled}
        aria-describedby={hintId}
        aria-invalid={tooLong ? true : undefined}
      />
      <div className="composer-actions">
        <p id={hintId} className={`composer-hint${tooLong ? ' is-error' : ''}`}>
          {tooLong ?? (disabledReason ? '' : 'Enter sends · Shift+Enter adds a line')}
        </p>
        {canStop && (
          <button type="button" className="button button-stop" onClick={onStop}>
            <Icon name="stop" /> Stop
          </button>
        )}
        <button type="submit" className="button button-primary" disabled={disabled || !text.trim() || tooLong !== undefined}>
          <Icon name="send" /> Send
        </button>
      </div>
    </form>
  );
});
