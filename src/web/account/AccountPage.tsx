import { useEffect } from 'react';
import { api } from '../api/client.js';
import type { Me } from '../api/types.js';
import { LoadFailed } from '../ui/LoadFailed.js';
import { useLoaded } from '../ui/use-loaded.js';
import { PasswordForm } from './PasswordForm.js';
import { TokenSection } from './TokenSection.js';

const SIGNED_IN_WITH: Record<Me['signedInWith'], string> = {
  session: 'Email and password (a session in this browser)',
  token: 'An API token (kept in this tab until you close it)',
  jwt: 'A token from your organisation’s sign-in (JWT)',
};

/** Who you are and how you signed in; your password; your API tokens. */
export function AccountPage() {
  const { loaded, reload, update } = useLoaded(api.me);

  useEffect(() => {
    document.title = 'Your account · report-chat';
  }, []);

  return (
    <main className="page narrow account-page" id="main">
      <div className="page-heading">
        <h1>Your account</h1>
      </div>
      {loaded.status === 'loading' && <p role="status">Loading your account…</p>}
      {loaded.status === 'failed' && <LoadFailed what="Your account" message={loaded.message} onRetry={reload} />}
      {loaded.status === 'ready' && (
        <>
          <section className="card account-section" aria-labelledby="profile-title">
            <h2 id="profile-title">Profile</h2>
            <dl className="facts">
              <dt>Name</dt>
              <dd>{loaded.value.user.name ?? 'None given'}</dd>
              <dt>Email</dt>
              <dd>{loaded.value.user.email ?? 'None'}</dd>
              <dt>Signed in with</dt>
              <dd>{SIGNED_IN_WITH[loaded.value.signedInWith]}</dd>
            </dl>
          </section>
          <PasswordForm hasPassword={loaded.value.hasPassword} onChanged={() => update((me) => ({ ...me, hasPassword: true }))} />
          <TokenSection />
        </>
      )}
    </main>
  );
}
