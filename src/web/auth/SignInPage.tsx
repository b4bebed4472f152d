import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../api/errors.js';
import { navigate } from '../app/router.js';
import { signInWithToken, useSession } from './session.js';

/** Sign-in with an API token (cookie sign-in with email and password comes later). */
export function SignInPage({ next }: { next: string }) {
  const session = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(session.status === 'signed-out' ? session.reason : undefined);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const errorId = useId();

  useEffect(() => {
    document.title = 'Sign in · report-chat';
    input.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Paste your API token first.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await signInWithToken(value);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'This token was not accepted. Check that you copied all of it.' : describeError(err));
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-card">
        <h1 className="sign-in-title">
          <span className="brand-mark" aria-hidden="true" />
          Sign in to report-chat
        </h1>
        <p className="sign-in-lead">Read a report and ask questions about it.</p>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor="token" className="field-label">
            API token
          </label>
          <input
            ref={input}
            id="token"
            name="token"
            type="password"
            className="text-input"
            autoComplete="off"
            spellCheck={false}
            placeholder="rc_…"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-describedby={error ? `${errorId} ${hintId}` : hintId}
            aria-invalid={error ? true : undefined}
          />
          {error && (
            <p id={errorId} className="field-error" role="alert">
              {error}
            </p>
          )}
          <p id={hintId} className="field-hint">
            <code>npm start</code> prints a demo API token when it starts. An administrator can create one for you
            with <code>POST /api/users</code>. The token stays in this tab only, until you close it.
          </p>
          <button type="submit" className="button button-primary button-wide" disabled={busy}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
