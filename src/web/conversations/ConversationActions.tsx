import { useId, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { ApiError, describeError } from '../api/errors.js';
import type { Conversation, Report } from '../api/types.js';
import { navigate } from '../app/router.js';
import { conversationPath } from '../app/routes.js';
import { ConfirmDialog } from '../ui/ConfirmDialog.js';
import { Icon } from '../ui/icons.js';
import { conversationRights } from './rights.js';

const MAX_TITLE = 200;

export interface ConversationActionsProps {
  report: Pick<Report, 'id' | 'role'>;
  userId: string | undefined;
  /** The conversation shown. */
  current: Conversation | undefined;
  /** The highest version of it this tab has seen: a delete's If-Match. */
  version: number;
  onChanged: (conversation: Conversation) => void;
  onDeleted: (conversationId: string) => void;
  /** Words for the person: `main` puts them on the main conversation (where a delete sends the page). */
  onNotice: (text: string, tone: 'info' | 'error', on?: 'main') => void;
  /** An action ended: the panel closes. */
  onDone: () => void;
}

function explainDeleteError(err: unknown): string {
  if (err instanceof ApiError && err.status === 412) {
    return 'Nothing was deleted: the conversation changed after this page showed it. Look at it again, then delete it if you still want to.';
  }
  if (err instanceof ApiError && err.code === 'conversation_busy') return 'Nothing was deleted: an answer is still being written. Wait for it to end, or stop it.';
  return `Nothing was deleted: ${describeError(err)}`;
}

/** Rename, share or unshare, and delete the conversation shown, as far as this user may. */
export function ConversationActions({ report, userId, current, version, onChanged, onDeleted, onNotice, onDone }: ConversationActionsProps) {
  const [dialog, setDialog] = useState<'rename' | 'delete'>();
  const [title, setTitle] = useState('');
  const [renameError, setRenameError] = useState<string>();
  const [working, setWorking] = useState(false);
  const titleInput = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const errorId = useId();
  if (!current) return null;
  const rights = conversationRights(current, userId, report.role);
  if (!rights.rename && !rights.changeVisibility && !rights.delete) return null;
  const makePrivate = current.visibility === 'shared';

  const rename = async () => {
    const next = title.trim();
    if (!next || next.length > MAX_TITLE) return setRenameError(`A title needs 1 to ${MAX_TITLE} characters.`);
    setWorking(true);
    try {
      onChanged(await api.updateConversation(current.id, { title: next }));
      setDialog(undefined);
      onDone();
    } catch (err) {
      setRenameError(`The title was not changed: ${describeError(err)}`);
    } finally {
      setWorking(false);
    }
  };

  const changeVisibility = async () => {
    setWorking(true);
    try {
      onChanged(await api.updateConversation(current.id, { visibility: makePrivate ? 'private' : 'shared' }));
      onNotice(makePrivate ? 'Only you can see this conversation now.' : 'Everyone on this report can see this conversation now.', 'info');
      onDone();
    } catch (err) {
      onNotice(`Who can see the conversation was not changed: ${describeError(err)}`, 'error');
    } finally {
      setWorking(false);
    }
  };

  const remove = async () => {
    setDialog(undefined);
    setWorking(true);
    try {
      await api.deleteConversation(current.id, Math.max(version, current.version));
      onDeleted(current.id);
      navigate(conversationPath(report.id), { replace: true });
      onNotice(`The conversation “${current.title}” was deleted.`, 'info', 'main');
      onDone();
    } catch (err) {
      onNotice(explainDeleteError(err), 'error');
    } finally {
      setWorking(false);
    }
  };

  return (
    <div className="conversation-actions" role="group" aria-label="This conversation">
      {rights.rename && (
        <button
          type="button"
          className="button button-small"
          disabled={working}
          onClick={() => {
            setTitle(current.title);
            setRenameError(undefined);
            setDialog('rename');
          }}
        >
          <Icon name="pencil" /> Rename
        </button>
      )}
      {rights.changeVisibility && (
        <button type="button" className="button button-small" disabled={working} onClick={() => void changeVisibility()}>
          <Icon name={makePrivate ? 'lock' : 'users'} /> {makePrivate ? 'Make private' : 'Share with the report'}
        </button>
      )}
      {rights.delete && (
        <button type="button" className="button button-small button-quiet-danger" disabled={working} onClick={() => setDialog('delete')}>
          <Icon name="trash" /> Delete
        </button>
      )}
      {dialog === 'rename' && (
        <ConfirmDialog
          title="Rename the conversation"
          confirmLabel="Save"
          onCancel={() => setDialog(undefined)}
          onConfirm={() => void rename()}
          initialFocus={titleInput}
          confirmDisabled={working}
        >
          <label htmlFor={titleId} className="field-label">
            Title
          </label>
          <input
            ref={titleInput}
            id={titleId}
            className="text-input"
            value={title}
            maxLength={MAX_TITLE}
            onChange={(e) => setTitle(e.target.value)}
            aria-invalid={renameError ? true : undefined}
            aria-describedby={renameError ? errorId : undefined}
          />
          {renameError && (
            <p id={errorId} className="field-error" role="alert">
              {renameError}
            </p>
          )}
        </ConfirmDialog>
      )}
      {dialog === 'delete' && (
        <ConfirmDialog title="Delete this conversation?" confirmLabel="Delete conversation" danger onCancel={() => setDialog(undefined)} onConfirm={() => void remove()}>
          <p>
            “{current.title}” and its {current.messageCount === 1 ? 'message' : `${current.messageCount} messages`} are deleted for everyone who
            can see it. Branches made from it keep their copies. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
