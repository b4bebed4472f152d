import { useId, useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { ApiError, describeError } from '../api/errors.js';
import { checkNewPassword, MIN_PASSWORD_LENGTH } from '../auth/new-password.js';
import { TextField } from '../ui/TextField.js';

type Field = 'current' | 'next' | 'repeat';

/** Changes the password (the current one is required when there is one); the server signs out the other sessions. */
export function PasswordForm({ hasPassword, onChanged }: { hasPassword: boolean; onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<{ text: string; field: Field }>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);
  const inputs = { current: useRef<HTMLInputElement>(null), next: useRef<HTMLInputElement>(null), repeat: useRef<HTMLInputElement>(null) };
  const hintId = useId();
  const errorId = useId();

  const fail = (text: string, field: Field) => {
    setError({ text, field });
    inputs[field].current?.focus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setDone(undefined);
    if (hasPassword && !current) return fail('Enter your current password.', 'current');
    const problem = checkNewPassword(next, repeat);
    if (problem) return fail(problem.text, problem.field);
    setBusy(true);
    setError(undefined);
    try {
      await api.changePassword(hasPassword ? { currentPassword: current, newPassword: next } : { newPassword: next });
      setCurrent('');
      setNext('');
      setRepeat('');
      setDone(
        hasPassword
          ? 'Your password was changed. Your other sessions were signed out; this one stays signed in.'
          : 'Your password is set: you can now sign in with your email and this password.',
      );
      onChanged();
    } catch (err) {
      fail(describeError(err), err instanceof ApiError && err.status === 403 ? 'current' : 'next');
    } finally {
      setBusy(false);
    }
  };

  const field = (name: Field) => ({
    invalid: error?.field === name,
    describedBy: [error?.field === name && errorId, name === 'next' && hintId],
    ref: inputs[name],
    type: 'password',
  });

  return (
    <section className="card account-section" aria-labelledby="password-title">
      <h2 id="password-title">{hasPassword ? 'Change your password' : 'Set a password'}</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        {hasPassword && (
          <TextField label="Current password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} {...field('current')} />
        )}
        <TextField label="New password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} {...field('next')} />
        <p id={hintId} className="field-hint">
          At least {MIN_PASSWORD_LENGTH} characters.
          {hasPassword && ' Changing it signs out your other sessions; your API tokens keep working.'}
        </p>
        <TextField label="New password again" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} {...field('repeat')} />
        <p id={errorId} className="notice-line field-error" role="alert">
          {error?.text ?? ''}
        </p>
        <p className="notice-line notice-success" role="status">
          {done ?? ''}
        </p>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : hasPassword ? 'Change password' : 'Set password'}
          </button>
        </div>
      </form>
    </section>
  );
}
