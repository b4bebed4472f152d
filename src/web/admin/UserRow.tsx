import type { AdminUser, Invite } from '../api/types.js';
import { personName } from '../ui/person-name.js';
import { TimeAgo } from '../ui/TimeAgo.js';
import { InviteLink } from './InviteLink.js';

export function UserRow({
  user,
  invite,
  onInvite,
  onDisable,
  onEnable,
}: {
  user: AdminUser;
  invite: Invite | undefined;
  onInvite: () => void;
  onDisable: () => void;
  onEnable: () => void;
}) {
  const name = personName(user);
  return (
    <li className="item-row user-row" data-email={user.email ?? undefined}>
      <span className="item-main">
        <span className="item-title">
          {user.email ?? 'No email'}
          {user.disabled && <span className="pill pill-failed">Disabled</span>}
        </span>
        <span className="item-meta">
          <span>{user.name ?? 'No name'}</span>
          <span>
            Created <TimeAgo iso={user.createdAt} />
          </span>
          <span>{user.hasPassword ? 'Has a password' : 'No password yet'}</span>
        </span>
      </span>
      <span className="item-actions">
        {!user.disabled && (
          <button type="button" className="button button-small" onClick={onInvite}>
            New invite link<span className="visually-hidden"> for {name}</span>
          </button>
        )}
        {user.disabled ? (
          <button type="button" className="button button-small" onClick={onEnable}>
            Enable<span className="visually-hidden"> {name}</span>
          </button>
        ) : (
          <button type="button" className="button button-small button-quiet button-quiet-danger" onClick={onDisable}>
            Disable<span className="visually-hidden"> {name}</span>
          </button>
        )}
      </span>
      {invite && (
        <div className="item-extra">
          <InviteLink invite={invite} />
        </div>
      )}
    </li>
  );
}
