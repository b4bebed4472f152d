import { useCallback, useEffect, useState } from 'react';
import { adminApi } from '../api/client.js';
import { ApiError, describeError } from '../api/errors.js';
import { Link } from '../app/router.js';
import { signInWithLinkCode } from './admin-link.js';
import { AdminSignIn } from './AdminSignIn.js';
import { UsersPanel } from './UsersPanel.js';

type State = { status: 'checking' } | { status: 'signed-out'; reason?: string } | { status: 'signed-in' };

const LINK_REFUSED = 'This sign-in link is not valid: it was used already, or it expired (links last 10 minutes). Run “npx report-chat admin-link” for a new one, or sign in with the admin token.';

/**
 * `/admin`: the administrator's page, on its own session (the `rc_admin` cookie), with or without a person's session
 * in this browser. A one-time link (`/admin#<code>`) signs in by itself; otherwise the admin token does.
 */
export function AdminPage() {
  const [state, setState] = useState<State>({ status: 'checking' });

  useEffect(() => {
    document.title = 'Administration · report-chat';
    let active = true;
    const link = signInWithLinkCode();
    (link ?? adminApi.session()).then(
      () => active && setState({ status: 'signed-in' }),
      (err: unknown) => {
        if (!active) return;
        if (err instanceof ApiError && err.status === 401) setState({ status: 'signed-out', reason: link ? LINK_REFUSED : undefined });
        else setState({ status: 'signed-out', reason: describeError(err) });
      },
    );
    return () => {
      active = false;
    };
  }, []);

  const sessionEnded = useCallback(() => setState({ status: 'signed-out', reason: 'Your admin session has ended. Sign in again.' }), []);

  const signOut = async () => {
    setState({ status: 'signed-out', reason: undefined });
    await adminApi.signOut().catch(() => {
      // Offline: the cookie lasts until it expires, but this page no longer uses it.
    });
  };

  if (state.status === 'checking') return <p className="page-status" role="status">Loading…</p>;
  if (state.status === 'signed-out') return <AdminSignIn reason={state.reason} onSignedIn={() => setState({ status: 'signed-in' })} />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          report-chat <span className="brand-area">Administration</span>
        </span>
        <nav aria-label="Administration" className="account">
          <Link href="/" className="button button-quiet">
            Reports
          </Link>
          <button type="button" className="button button-quiet" onClick={() => void signOut()}>
            Sign out
          </button>
        </nav>
      </header>
      <UsersPanel onSessionEnded={sessionEnded} />
    </>
  );
}
