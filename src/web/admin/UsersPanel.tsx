import { useCallback, useState } from 'react';
import { adminApi } from '../api/client.js';
import { ApiError, describeError } from '../api/errors.js';
import type { AdminUser, Invite } from '../api/types.js';
import { ConfirmDialog } from '../ui/ConfirmDialog.js';
import { LoadFailed } from '../ui/LoadFailed.js';
import { NoticeLines, type Notice } from '../ui/NoticeLines.js';
import { personName } from '../ui/person-name.js';
import { useLoaded } from '../ui/use-loaded.js';
import { CreateUserForm } from './CreateUserForm.js';
import { UserRow } from './UserRow.js';

/** Every user, newest first, with what the administrator does to them; and a form for a new one. */
export function UsersPanel({ onSessionEnded }: { onSessionEnded: () => void }) {
  const [notice, setNotice] = useState<Notice>();
  const [confirming, setConfirming] = useState<{ user: AdminUser; action: 'disable' | 'enable' }>();
  const [invites, setInvites] = useState<Record<string, Invite>>({});

  /** An admin call's failure: a 401 means the admin session ended (8 hours, or signed out in another tab). */
  const failed = useCallback(
    (err: unknown): string | undefined => {
      if (err instanceof ApiError && err.status === 401) {
        onSessionEnded();
        return undefined;
      }
      return describeError(err);
    },
    [onSessionEnded],
  );

  const { loaded, reload, update } = useLoaded(adminApi.listUsers, failed);
  const replaceUser = (user: AdminUser) => update(({ users }) => ({ users: users.map((u) => (u.id === user.id ? user : u)) }));

  const act = async (user: AdminUser, action: 'disable' | 'enable') => {
    setConfirming(undefined);
    setNotice(undefined);
    try {
      const changed = action === 'disable' ? await adminApi.disableUser(user.id) : await adminApi.enableUser(user.id);
      replaceUser(changed);
      if (action === 'disable') setInvites(({ [user.id]: _dropped, ...rest }) => rest);
      setNotice({ tone: 'status', text: action === 'disable' ? `${personName(user)} is disabled.` : `${personName(user)} can sign in again.` });
    } catch (err) {
      const message = failed(err);
      if (message) setNotice({ tone: 'alert', text: `${personName(user)} was not ${action}d: ${message}` });
    }
  };

  const invite = async (user: AdminUser) => {
    setNotice(undefined);
    try {
      const made = await adminApi.inviteUser(user.id);
      setInvites((all) => ({ ...all, [user.id]: made }));
      setNotice({ tone: 'status', text: `A new invite link for ${personName(user)} is below their name. An earlier link no longer works.` });
    } catch (err) {
      const message = failed(err);
      if (message) setNotice({ tone: 'alert', text: `No invite link was made: ${message}` });
    }
  };

  return (
    <main className="page admin-page" id="main">
      <div className="page-heading">
        <h1>Users</h1>
      </div>
      <CreateUserForm
        onCreated={reload}
        failed={failed}
      />
      <h2 className="section-title">
        Everyone
      </h2>
      <NoticeLines notice={notice} />
      {loaded.status === 'loading' && <p>Loading users…</p>}
      {loaded.status === 'failed' && <LoadFailed what="The users" message={loaded.message} onRetry={reload} />}
      {loaded.status === 'ready' && loaded.value.users.length === 0 && <p className="empty-state">No users yet: create the first one above.</p>}
      {loaded.status === 'ready' && loaded.value.users.length > 0 && (
        <ul className="item-list user-list" aria-label="Users, newest first">
          {loaded.value.users.map((u) => (
            <UserRow
              key={u.id}
              user={u}
              invite={invites[u.id]}
              onInvite={() => void invite(u)}
              onDisable={() => setConfirming({ user: u, action: 'disable' })}
              onEnable={() => setConfirming({ user: u, action: 'enable' })}
            />
          ))}
        </ul>
      )}
      {confirming && (
        <ConfirmDialog
          title={confirming.action === 'disable' ? `Disable ${personName(confirming.user)}?` : `Enable ${personName(confirming.user)}?`}
          confirmLabel={confirming.action === 'disable' ? 'Disable' : 'Enable'}
          danger={confirming.action === 'disable'}
          onCancel={() => setConfirming(undefined)}
          onConfirm={() => void act(confirming.user, confirming.action)}
        >
          {confirming.action === 'disable' ? (
            <p>
              Their sessions and API tokens are deleted and their open pages close at once. Their reports and messages
              stay. You can enable them again.
            </p>
          ) : (
            <p>They can sign in again with their password. API tokens deleted when they were disabled stay deleted.</p>
          )}
        </ConfirmDialog>
      )}
    </main>
  );
}
