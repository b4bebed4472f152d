import { useId, useRef, type ReactNode, type RefObject } from 'react';
import { Dialog } from './Dialog.js';

/** A modal question (Dialog.tsx). Its body may hold a field: Enter in it confirms, as the confirm button does. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  danger = false,
  initialFocus,
  confirmDisabled = false,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  danger?: boolean;
  /** What takes the focus when it opens (a field of the body); else the Cancel button, the safe choice. */
  initialFocus?: RefObject<HTMLElement | null>;
  confirmDisabled?: boolean;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const bodyId = useId();

  return (
    <Dialog labelledBy={titleId} describedBy={bodyId} onClose={onCancel} initialFocus={[initialFocus, cancel]}>
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!confirmDisabled) onConfirm();
        }}
      >
        <div id={bodyId} className="dialog-body">
          {children}
        </div>
        <div className="dialog-actions">
          <button ref={cancel} type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className={`button ${danger ? 'button-danger' : 'button-primary'}`} disabled={confirmDisabled}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
