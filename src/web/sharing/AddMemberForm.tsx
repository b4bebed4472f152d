import { useId, useState, type FormEvent, type RefObject } from 'react';
import { api } from '../api/client.js';
import { describeError } from '../api/errors.js';
import type { MemberDetail, MemberRole } from '../api/types.js';
import { TextField } from '../ui/TextField.js';
import { MEMBER_ROLES } from './roles.js';

/** Shares the report with someone by the email of their account; the API's refusal is said in its own words. */
export function AddMemberForm({
  reportId,
  emailRef,
  onAdded,
}: {
  reportId: string;
  emailRef: RefObject<HTMLInputElement | null>;
  onAdded: (member: MemberDetail) => void;
}) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<MemberRole>('editor');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const roleId = useId();
  const errorId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const address = email.trim();
    if (!address) {
      setError('Enter the email of their account.');
      emailRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onAdded(await api.addMember(reportId, address, role));
      setEmail('');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
      emailRef.current?.focus();
    }
  };

  return (
    <form className="add-member" onSubmit={(e) => void submit(e)} noValidate>
      <div className="add-member-fields">
        <div className="add-member-email">
          <TextField
            ref={emailRef}
            label="Email"
            type="email"
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            invalid={Boolean(error)}
            describedBy={[error && errorId]}
          />
        </div>
        <div>
          <label htmlFor={roleId} className="field-label">
            Role
          </label>
          <select id={roleId} className="select-input" value={role} onChange={(e) => setRole(e.target.value as MemberRole)}>
            {MEMBER_ROLES.map((r) => (
              <option key={r.role} value={r.role}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add'}
        </button>
      </div>
      <p id={errorId} className="notice-line field-error" role="alert">
        {error ?? ''}
      </p>
    </form>
  );
}
