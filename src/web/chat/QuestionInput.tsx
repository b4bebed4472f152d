import { forwardRef, useEffect, useId, useImperativeHandle, useRef, type KeyboardEvent, type TextareaHTMLAttributes } from 'react';

/** The longest question the composer and the question editor take. */
export const MAX_QUESTION_CHARS = 4000;

/** What a question over the limit is told, or undefined when it is within it. */
export const tooLongNote = (text: string): string | undefined =>
  text.length > MAX_QUESTION_CHARS ? `${text.length - MAX_QUESTION_CHARS} characters over the ${MAX_QUESTION_CHARS} a question may have.` : undefined;

type Props = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'value' | 'onChange' | 'onKeyDown' | 'className'> & {
  /** Its label, for screen readers (the placeholder and the context say it to the eye). */
  label: string;
  value: string;
  onValue: (value: string) => void;
  /** Enter: not Shift+Enter (a new line), nor an Enter that ends an input method's composition. */
  onSubmit: () => void;
  onEscape?: () => void;
};

/** The text area a question is written in: the composer's and the question editor's. Grows with its text, up to a limit set in CSS. */
export const QuestionInput = forwardRef<HTMLTextAreaElement, Props>(function QuestionInput(
  { label, value, onValue, onSubmit, onEscape, ...rest },
  ref,
) {
  const input = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  // The element exists once mounted, which is when a parent reads its ref.
  useImperativeHandle(ref, () => input.current!, []);

  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight + 2}px`;
  }, [value]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      onSubmit();
    } else if (event.key === 'Escape' && onEscape) {
      event.preventDefault();
      event.stopPropagation();
      onEscape();
    }
  };

  return (
    <>
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <textarea ref={input} id={id} className="composer-input" value={value} onChange={(e) => onValue(e.target.value)} onKeyDown={onKeyDown} {...rest} />
    </>
  );
});
