import { useId, useRef, useState, type FormEvent } from 'react';
import { adminApi } from '../api/client.js';
import type { Invite, User } from '../api/types.js';
import { MIN_PASSWORD_LENGTH } from '../auth/new-password.js';
import { TextField } from '../ui/TextField.js';
import { InviteLink } from './InviteLink.js';

type Method = 'invite' | 'password';

/** A new user, who either chooses a password through an invite link or gets one from the administrator. */
export function CreateUserForm({ onCreated, failed }: { onCreated: () => void; failed: (err: unknown) => string | undefined }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [method, setMethod] = useState<Method>('invite');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<{ text: string; field: 'email' | 'password' }>();
  const [created, setCreated] = useState<{ user: User; invite?: Invite }>();
  const [busy, setBusy] = useState(false);
  const emailInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const errorId = useId();
  const passwordHintId = useId();

  const fail = (text: string, field: 'email' | 'password') => {
    setError({ text, field });
    (field === 'email' ? emailInput : passwordInput).current?.focus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setCreated(undefined);
    if (!email.trim()) return fail('Enter their email.', 'email');
    if (method === 'password' && password.length < MIN_PASSWORD_LENGTH) return fail(`The password needs at least ${MIN_PASSWORD_LENGTH} characters.`, 'password');
    setBusy(true);
    setError(undefined);
    try {
      const result = await adminApi.createUser({
        email: email.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(method === 'password' ? { password } : { invite: true }),
      });
      setCreated({ user: result.user, invite: result.invite });
      onCreated();
      setEmail('');
      setName('');
      setPassword('');
      emailInput.current?.focus();
    } catch (err) {
      const message = failed(err);
      if (message) fail(message, 'email');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card admin-create" aria-labelledby="create-user-title">
      <h2 id="create-user-title" className="section-title">
        Create a user
      </h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field-pair">
          <div>
            <TextField
              ref={emailInput}
              label="Email"
              type="email"
              autoComplete="off"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              invalid={error?.field === 'email'}
              describedBy={[error?.field === 'email' && errorId]}
            />
          </div>
          <div>
            <TextField label="Name (optional)" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
        </div>
        <fieldset className="choice-group">
          <legend className="field-label">How they sign in</legend>
          <label className="choice">
            <input type="radio" name="method" value="invite" checked={method === 'invite'} onChange={() => setMethod('invite')} />
            Send them an invite link: they choose their password
          </label>
          <label className="choice">
            <input type="radio" name="method" value="password" checked={method === 'password'} onChange={() => setMethod('password')} />
            Set an initial password
          </label>
        </fieldset>
        {method === 'password' && (
          <>
            <TextField
              ref={passwordInput}
              label="Initial password"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              invalid={error?.field === 'password'}
              describedBy={[error?.field === 'password' && errorId, passwordHintId]}
            />
            <p id={passwordHintId} className="field-hint">
              At least {MIN_PASSWORD_LENGTH} characters. Tell it to them; they can change it on their account page.
            </p>
          </>
        )}
        <p id={errorId} className="notice-line field-error" role="alert">
          {error?.text ?? ''}
        </p>
        <p className="notice-line" role="status">
          {created ? `${created.user.email ?? 'The user'} was created${created.invite ? ': send them the invite link below.' : '.'}` : ''}
        </p>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create user'}
          </button>
        </div>
      </form>
      {created?.invite && <InviteLink invite={created.invite} />}
    </section>
  );
}
