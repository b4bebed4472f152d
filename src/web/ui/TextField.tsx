import { useId, type InputHTMLAttributes, type Ref } from 'react';

/**
 * A labelled input. `invalid` marks it for assistive technology; `describedBy` names what explains it (a hint, the
 * error); both only when there is something to say. An address or a secret is never spell-checked.
 */
export function TextField({
  label,
  invalid = false,
  describedBy,
  ref,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'className' | 'aria-invalid' | 'aria-describedby'> & {
  label: string;
  invalid?: boolean;
  describedBy?: Array<string | false | undefined>;
  ref?: Ref<HTMLInputElement>;
}) {
  const id = useId();
  const described = describedBy?.filter(Boolean).join(' ');
  return (
    <>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <input
        ref={ref}
        id={id}
        className="text-input"
        spellCheck={input.type === 'email' || input.type === 'password' ? false : undefined}
        aria-invalid={invalid || undefined}
        aria-describedby={described || undefined}
        {...input}
      />
    </>
  );
}
