import { forwardRef, useEffect, useId, useImperativeHandle, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { Icon } from '../ui/icons.js';

export interface ComposerHandle {
  /** Focuses the input; false when it is disabled and cannot take the focus. */
  focus(): boolean;
}

/** The longest question the composer (and the question editor) takes. */
export const MAX_QUESTION_CHARS = 4000;

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
  const inputId = useId();
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

  // Grows with its text, up to a limit set in CSS.
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight + 2}px`;
  }, [text]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (disabled) return;
    const value = text.trim();
    if (!value || value.length > MAX_QUESTION_CHARS) return;
    if (onSend(value)) setText('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const tooLong = text.length > MAX_QUESTION_CHARS;
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={inputId} className="visually-hidden">
        Your question about the report
      </label>
      <textarea
        ref={input}
        id={inputId}
        className="composer-input"
        rows={1}
        value={text}
        placeholder={disabledReason ?? (busy ? 'Waiting for the answer…' : 'Ask about this report…')}
        disabled={disabled}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={hintId}
        aria-invalid={tooLong || undefined}
      />
      <div className="composer-actions">
        <p id={hintId} className={`composer-hint${tooLong ? ' is-error' : ''}`}>
          {tooLong
            ? `${text.length - MAX_QUESTION_CHARS} characters over the ${MAX_QUESTION_CHARS} a question may have.`
            : disabledReason
              ? ''
              : 'Enter sends · Shift+Enter adds a line'}
        </p>
        {canStop && (
          <button type="button" className="button button-stop" onClick={onStop}>
            <Icon name="stop" /> Stop
          </button>
        )}
        <button type="submit" className="button button-primary" disabled={disabled || !text.trim() || tooLong}>
          <Icon name="send" /> Send
        </button>
      </div>
    </form>
  );
});
