import { useId } from 'react';
import type { MemberDetail, MemberRole } from '../api/types.js';
import { personName } from '../ui/person-name.js';
import { MEMBER_ROLES } from './roles.js';

export function MemberRow({ member, onRole, onRemove }: { member: MemberDetail; onRole: (role: MemberRole) => void; onRemove: () => void }) {
  const roleId = useId();
  const name = personName(member);
  return (
    <li className="member-row">
      <span className="member-who">
        <span className="member-name">{name}</span>
        {member.name && member.email && <span className="member-email">{member.email}</span>}
      </span>
      <span className="member-actions">
        <label htmlFor={roleId} className="visually-hidden">
          Role of {name}
        </label>
        <select id={roleId} className="select-input" value={member.role} onChange={(e) => onRole(e.target.value as MemberRole)}>
          {MEMBER_ROLES.map((r) => (
            <option key={r.role} value={r.role}>
              {r.label}
            </option>
          ))}
        </select>
        <button type="button" className="button button-small button-quiet button-quiet-danger" onClick={onRemove}>
          Remove<span className="visually-hidden"> {name}</span>
        </button>
      </span>
    </li>
  );
}
