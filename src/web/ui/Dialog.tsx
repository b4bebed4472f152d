import { useEffect, useRef, type ReactNode, type RefObject } from 'react';

/**
 * A modal on the browser's own <dialog>: it keeps the focus inside, asks `onClose` on Escape (whoever shows it
 * decides, by unmounting it) and gives the focus back to what opened it. The first of `initialFocus` that is
 * mounted takes the focus when it opens; without one, the browser's choice (the first control).
 */
export function Dialog({
  labelledBy,
  describedBy,
  onClose,
  initialFocus,
  className = '',
  children,
}: {
  labelledBy: string;
  describedBy?: string;
  onClose: () => void;
  initialFocus?: ReadonlyArray<RefObject<HTMLElement | null> | undefined>;
  className?: string;
  children: ReactNode;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const focusFirst = useRef(initialFocus);

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    el.showModal();
    focusFirst.current?.find((ref) => ref?.current)?.current?.focus();
    return () => {
      el.close();
      opener?.focus();
    };
  }, []);

  return (
    <dialog
      ref={dialog}
      className={`dialog ${className}`.trim()}
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      onCancel={(e) => {
        // A dialog opened from this one has its own Escape; React would bring its cancel event here too.
        if (e.target !== e.currentTarget) return;
        e.preventDefault();
        onClose();
      }}
    >
      {children}
    </dialog>
  );
}
