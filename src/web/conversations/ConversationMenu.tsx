import { useEffect, useId, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { describeError } from '../api/errors.js';
import type { Conversation } from '../api/types.js';
import { Link, navigate } from '../app/router.js';
import { conversationPath } from '../app/routes.js';
import { newMessageId } from '../chat/new-message-id.js';
import { Icon } from '../ui/icons.js';
import { TimeAgo } from '../ui/TimeAgo.js';
import { ConversationActions, type ConversationActionsProps } from './ConversationActions.js';
import type { ConversationList } from './use-conversation-list.js';

/** The main conversation first, then the others as the server lists them: newest activity first. */
const mainFirst = (list: readonly Conversation[]) => [...list.filter((c) => c.isMain), ...list.filter((c) => !c.isMain)];

export interface ConversationMenuProps extends Omit<ConversationActionsProps, 'onDone'> {
  list: ConversationList;
  canCreate: boolean;
  /** A conversation was started here and is being opened. */
  onStarted: () => void;
}

/**
 * The report's conversations, in a panel that the chat header's "Conversations" button opens: switch to one, start
 * a new one, and rename, share, unshare or delete the one shown. A disclosure, not a menu: the panel holds links,
 * buttons and dialogs, reached with Tab; Escape or a click outside closes it and gives the focus back to the button.
 */
export function ConversationMenu({ list, canCreate, onStarted, ...actions }: ConversationMenuProps) {
  const { report, current } = actions;
  const [open, setOpen] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string>();
  const toggle = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  /** The new conversation's id, chosen once and sent again until a start succeeds. */
  const newId = useRef<string>(undefined);
  const panelId = useId();
  const { reload } = list;

  /** Set when the panel closes with the focus inside: the toggle takes it once the panel (and any dialog) is gone. */
  const refocus = useRef(false);
  const close = (focusToggle: boolean) => {
    setOpen(false);
    setError(undefined);
    refocus.current = focusToggle;
  };
  useEffect(() => {
    if (open || !refocus.current) return;
    refocus.current = false;
    // After the dialog's own cleanup, which gives the focus back to the button that opened it (gone with the panel).
    toggle.current?.focus();
  });

  useEffect(() => {
    if (open) reload();
  }, [open, reload]);
  // Another conversation is shown (a link, the branch switcher, Back): the panel has done its work.
  useEffect(() => setOpen(false), [current?.id]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      // Escape in one of the panel's dialogs closes only the dialog.
      if (e.key !== 'Escape' || document.querySelector('dialog[open]')) return;
      e.stopPropagation();
      close(true);
    };
    const onPointer = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !document.querySelector('dialog[open]')) close(false);
    };
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  const start = async () => {
    newId.current ??= newMessageId();
    setStarting(true);
    setError(undefined);
    try {
      const started = await api.createConversation(report.id, { id: newId.current });
      newId.current = undefined;
      list.put(started);
      close(false);
      navigate(conversationPath(report.id, started.id));
      onStarted();
    } catch (err) {
      setError(`The conversation was not started: ${describeError(err)}`);
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="conversation-menu" ref={menu}>
      <button
        ref={toggle}
        type="button"
        className="button button-small"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => (open ? close(false) : setOpen(true))}
      >
        Conversations <Icon name="chevron-down" />
      </button>
      <div id={panelId} className="conversation-panel" role="region" aria-label="Conversations" hidden={!open}>
        {open && (
          <>
            <div className="conversation-panel-head">
              <h3>Conversations</h3>
              {canCreate && (
                <button type="button" className="button button-small" onClick={() => void start()} disabled={starting}>
                  <Icon name="plus" /> New conversation
                </button>
              )}
            </div>
            {(error ?? list.error) && (
              <div className="conversation-error" role="alert">
                <p>{error ?? `The conversations could not be loaded: ${list.error}`}</p>
                {!error && (
                  <button type="button" className="link-button" onClick={reload}>
                    Try again
                  </button>
                )}
              </div>
            )}
            {current && <ConversationActions {...actions} onDone={() => close(true)} />}
            {list.conversations === undefined && !list.error && <p className="conversation-loading">Loading…</p>}
            {list.conversations && (
              <ul className="conversation-list">
                {mainFirst(list.conversations).map((c) => (
                  <li key={c.id}>
                    <Link
                      href={conversationPath(report.id, c.isMain ? undefined : c.id)}
                      className="conversation-link"
                      aria-current={c.id === current?.id ? 'page' : undefined}
                      onClick={() => close(false)}
                    >
                      <span className="conversation-title">{c.title}</span>
                      <span className="conversation-meta">
                        {c.isMain && <span className="pill pill-main">Main</span>}
                        <span className={`pill pill-${c.visibility}`}>{c.visibility === 'private' ? 'Private' : 'Shared'}</span>
                        <span>
                          <TimeAgo iso={c.updatedAt} />
                        </span>
                      </span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
    </div>
  );
}
