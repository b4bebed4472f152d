import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../api/errors.js';
import { Link, navigate } from '../app/router.js';
import { checkNewPassword, MIN_PASSWORD_LENGTH } from './new-password.js';
import { signInWithInvite } from './session.js';
import { TextField } from '../ui/TextField.js';

const USED_OR_EXPIRED = 'This invite link is not valid: it was used already, or it expired. Ask your administrator for a new one.';

/**
 * `/invite#<code>`: the person the administrator invited chooses a password and is signed in. The code stays in the
 * fragment, which no request carries, until it is used.
 */
export function InvitePage() {
  const [code] = useState(() => window.location.hash.slice(1));
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<{ text: string; field: 'next' | 'repeat' }>();
  const [busy, setBusy] = useState(false);
  const inputs = { next: useRef<HTMLInputElement>(null), repeat: useRef<HTMLInputElement>(null) };
  const hintId = useId();
  const errorId = useId();

  useEffect(() => {
    document.title = 'Choose your password · report-chat';
  }, []);

  const fail = (text: string, field: 'next' | 'repeat') => {
    setError({ text, field });
    setBusy(false);
    inputs[field].current?.focus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const problem = checkNewPassword(next, repeat);
    if (problem) return fail(problem.text, problem.field);
    setBusy(true);
    setError(undefined);
    try {
      await signInWithInvite(code, next);
      navigate('/', { replace: true });
    } catch (err) {
      fail(err instanceof ApiError && err.status === 404 ? USED_OR_EXPIRED : describeError(err), 'next');
    }
  };

  const field = (name: 'next' | 'repeat') => ({
    invalid: error?.field === name,
    describedBy: [error?.field === name && errorId, name === 'next' && hintId],
    ref: inputs[name],
    type: 'password',
    autoComplete: 'new-password',
  });

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-card">
        <h1 className="sign-in-title">
          <span className="brand-mark" aria-hidden="true" />
          Welcome to report-chat
        </h1>
        {code ? (
          <>
            <p className="sign-in-lead">You were invited. Choose the password you will sign in with.</p>
            <form onSubmit={(e) => void submit(e)} noValidate>
              <TextField label="Password" autoFocus value={next} onChange={(e) => setNext(e.target.value)} {...field('next')} />
              <p id={hintId} className="field-hint">
                At least {MIN_PASSWORD_LENGTH} characters.
              </p>
              <TextField label="Password again" value={repeat} onChange={(e) => setRepeat(e.target.value)} {...field('repeat')} />
              <p id={errorId} className="notice-line field-error" role="alert">
                {error?.text ?? ''}
              </p>
              <button type="submit" className="button button-primary button-wide" disabled={busy}>
                {busy ? 'Signing in…' : 'Set password and sign in'}
              </button>
            </form>
          </>
        ) : (
          <p role="alert">
            This invite link is incomplete: it should end with <code>#</code> and a code. Open the whole link your
            administrator sent, or ask them for a new one.
          </p>
        )}
        <p className="sign-in-alternative">
          <Link href="/sign-in">I already have a password</Link>
        </p>
      </div>
    </main>
  );
}
