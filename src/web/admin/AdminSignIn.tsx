import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { adminApi } from '../api/client.js';
import { describeError } from '../api/errors.js';
import { TextField } from '../ui/TextField.js';

/** The admin page's sign-in with the admin token (a one-time link signs in without this form). */
export function AdminSignIn({ reason, onSignedIn }: { reason?: string; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const errorId = useId();

  useEffect(() => {
    document.title = 'Administration · report-chat';
    input.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (!token.trim()) {
      setError('Paste the admin token first.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await adminApi.signIn({ token: token.trim() });
      onSignedIn();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-card">
        <h1 className="sign-in-title">
          <span className="brand-mark" aria-hidden="true" />
          report-chat administration
        </h1>
        <p className="sign-in-lead">Create users, invite them, disable them.</p>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <TextField
            ref={input}
            label="Admin token"
            type="password"
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            invalid={Boolean(error)}
            describedBy={[error && errorId, hintId]}
          />
          <p id={errorId} className="notice-line field-error" role="alert">
            {error ?? ''}
          </p>
          <p id={hintId} className="field-hint">
            <code>npm start</code> prints the admin token on its first start and keeps it in <code>admin-token</code> in the
            data directory (<code>.report-chat</code> unless <code>DATA_DIR</code> says otherwise), unless{' '}
            <code>ADMIN_TOKEN</code> sets it. Or run <code>npx report-chat admin-link</code> for a one-time link to this
            page.
          </p>
          <button type="submit" className="button button-primary button-wide" disabled={busy}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
