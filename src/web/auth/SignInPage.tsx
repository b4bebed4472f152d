import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../api/errors.js';
import { navigate } from '../app/router.js';
import { signInWithPassword, signInWithToken, useSession } from './session.js';

type Method = 'password' | 'token';

/** Sign-in for people (email and password, then the session cookie), or with an API token (kept in this tab). */
export function SignInPage({ next }: { next: string }) {
  const session = useSession();
  const [method, setMethod] = useState<Method>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(session.status === 'signed-out' ? session.reason : undefined);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const errorId = useId();

  useEffect(() => {
    document.title = 'Sign in · report-chat';
  }, []);
  useEffect(() => {
    first.current?.focus();
  }, [method]);
  // Already signed in (the cookie of an earlier visit): straight on.
  useEffect(() => {
    if (session.status === 'signed-in' && !busy) navigate(next, { replace: true });
  }, [session.status, busy, next]);
  // A 401 elsewhere brought the person here: say why.
  useEffect(() => {
    if (session.status === 'signed-out' && session.reason) setError(session.reason);
  }, [session]);

  const fail = (message: string, focus: HTMLInputElement | null) => {
    setError(message);
    setBusy(false);
    focus?.focus();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (method === 'password') {
      if (!email.trim() || !password) return fail('Enter your email and password.', email.trim() ? passwordInput.current : first.current);
    } else if (!token.trim()) {
      return fail('Paste your API token first.', first.current);
    }
    setBusy(true);
    setError(undefined);
    try {
      if (method === 'password') await signInWithPassword(email.trim(), password);
      else await signInWithToken(token.trim());
      navigate(next, { replace: true });
    } catch (err) {
      if (method === 'password') {
        // In the server's words: a wrong pair, a disabled account (said only with the right password), or for 429
        // when to try again.
        fail(describeError(err), passwordInput.current);
      } else {
        fail(err instanceof ApiError && err.status === 401 ? 'This token was not accepted. Check that you copied all of it.' : describeError(err), first.current);
      }
    }
  };

  const switchTo = (to: Method) => {
    setMethod(to);
    setError(undefined);
  };
  const describedBy = error ? `${errorId} ${hintId}` : hintId;
  const errorText = error && (
    <p id={errorId} className="field-error" role="alert">
      {error}
    </p>
  );

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-card">
        <h1 className="sign-in-title">
          <span className="brand-mark" aria-hidden="true" />
          Sign in to report-chat
        </h1>
        <p className="sign-in-lead">Read a report and ask questions about it.</p>
        {method === 'password' ? (
          <form onSubmit={(e) => void submit(e)} noValidate>
            <label htmlFor="email" className="field-label">
              Email
            </label>
            <input
              ref={first}
              id="email"
              name="email"
              type="email"
              className="text-input"
              autoComplete="username"
              spellCheck={false}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={error ? true : undefined}
            />
            <label htmlFor="password" className="field-label">
              Password
            </label>
            <input
              ref={passwordInput}
              id="password"
              name="password"
              type="password"
              className="text-input"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-describedby={describedBy}
              aria-invalid={error ? true : undefined}
            />
            {errorText}
            <p id={hintId} className="field-hint">
              Your administrator gives you your account, or an invite link to choose your password. Trying report-chat
              out? <code>npm start</code> prints the demo account, <code>demo@report-chat.local</code>, and its password
              on its first start, and keeps the password in <code>demo-password</code> in the data directory
              (<code>.report-chat</code> unless <code>DATA_DIR</code> says otherwise).
            </p>
            <button type="submit" className="button button-primary button-wide" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        ) : (
          <form onSubmit={(e) => void submit(e)} noValidate>
            <label htmlFor="token" className="field-label">
              API token
            </label>
            <input
              ref={first}
              id="token"
              name="token"
              type="password"
              className="text-input"
              autoComplete="off"
              spellCheck={false}
              placeholder="rc_…"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              aria-describedby={describedBy}
              aria-invalid={error ? true : undefined}
            />
            {errorText}
            <p id={hintId} className="field-hint">
              Create one on your account page once you are signed in. <code>npm start</code> prints the demo
              account’s token each time it starts. The token stays in this tab only, until you close it.
            </p>
            <button type="submit" className="button button-primary button-wide" disabled={busy}>
              {busy ? 'Checking…' : 'Sign in'}
            </button>
          </form>
        )}
        <p className="sign-in-alternative">
          {method === 'password' ? (
            <button type="button" className="link-button" onClick={() => switchTo('token')}>
              Use an API token instead
            </button>
          ) : (
            <button type="button" className="link-button" onClick={() => switchTo('password')}>
              Use email and password instead
            </button>
          )}
        </p>
      </div>
    </main>
  );
}
