import { useId, useRef, useState } from 'react';

/**
 * Something to copy once (a new API token, an invite link): a read-only field, selected on focus, with a Copy
 * button. Where the clipboard is out of reach (plain http on another host) the text is selected for Ctrl+C.
 */
export function CopyField({ label, value, hint }: { label: string; value: string; hint?: string }) {
  const id = useId();
  const hintId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'copied' | 'failed'>();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('copied');
    } catch {
      input.current?.focus();
      input.current?.select();
      setCopied('failed');
    }
  };

  return (
    <div className="copy-field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="copy-field-row">
        <input
          ref={input}
          id={id}
          className="text-input copy-field-value"
          readOnly
          value={value}
          spellCheck={false}
          onFocus={(e) => e.currentTarget.select()}
          aria-describedby={hint ? hintId : undefined}
        />
        <button type="button" className="button" onClick={() => void copy()}>
          Copy<span className="visually-hidden"> {label.toLowerCase()}</span>
        </button>
      </div>
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      <p className="copy-field-status" role="status">
        {copied === 'copied' && 'Copied.'}
        {copied === 'failed' && 'This browser does not let the page copy it: it is selected, press Ctrl+C (⌘C on a Mac).'}
      </p>
    </div>
  );
}
