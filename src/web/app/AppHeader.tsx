import type { User } from '../api/types.js';
import { signOut } from '../auth/session.js';
import { personName } from '../ui/person-name.js';
import { Link, navigate } from './router.js';

export function AppHeader({ user }: { user: User }) {
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden="true" />
        report-chat
      </Link>
      <nav aria-label="Account" className="account">
        <Link href="/account" className="account-name" title={user.email ?? undefined} aria-label={`${personName(user)}, your account`}>
          {personName(user)}
        </Link>
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
