import type { User } from '../api/types.js';
import { signOut } from '../auth/session.js';
import { Link, navigate } from './router.js';

export function AppHeader({ user }: { user: User }) {
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden="true" />
        report-chat
      </Link>
      <nav aria-label="Account" className="account">
        <span className="account-name" title={user.email ?? undefined}>
          {user.name ?? user.email}
        </span>
        <button
          type="button"
          className="button button-quiet"
          onClick={() => {
            void signOut();
            navigate('/sign-in', { replace: true });
          }}
        >
          Sign out
        </button>
      </nav>
    </header>
  );
}
