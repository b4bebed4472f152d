import { useEffect } from 'react';
import { AccountPage } from '../account/AccountPage.js';
import { AdminPage } from '../admin/AdminPage.js';
import { InvitePage } from '../auth/InvitePage.js';
import { retrySessionCheck, useSession } from '../auth/session.js';
import { SignInPage } from '../auth/SignInPage.js';
import { ReportPage } from '../report/ReportPage.js';
import { ReportListPage } from '../reports/ReportListPage.js';
import { AppHeader } from './AppHeader.js';
import { navigate, useLocation } from './router.js';
import { isPublicRoute, parseRoute } from './routes.js';

export function App() {
  const location = useLocation();
  const route = parseRoute(location.pathname, location.search);
  const session = useSession();
  const here = location.pathname + location.search;
  const publicPage = isPublicRoute(route);

  useEffect(() => {
    if (session.status === 'signed-out' && !publicPage) {
      navigate(`/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
    }
  }, [session.status, publicPage, here]);

  if (route.name === 'sign-in') return <SignInPage next={route.next} />;
  if (route.name === 'admin') return <AdminPage />;
  if (route.name === 'invite') return <InvitePage />;
  if (session.status === 'checking' || session.status === 'signed-out') {
    return <p className="page-status" role="status">Loading…</p>;
  }
  if (session.status === 'unreachable') {
    return (
      <main className="page-status" id="main">
        <p role="alert">{session.message}</p>
        <button type="button" className="button" onClick={retrySessionCheck}>
          Try again
        </button>
      </main>
    );
  }
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader user={session.user} />
      {route.name === 'reports' && <ReportListPage />}
      {route.name === 'report' && <ReportPage key={route.reportId} reportId={route.reportId} conversationId={route.conversationId} />}
      {route.name === 'account' && <AccountPage />}
      {route.name === 'not-found' && (
        <main className="page narrow" id="main">
          <h1>Page not found</h1>
          <p>
            There is nothing at this address. <a href="/">See your reports.</a>
          </p>
        </main>
      )}
    </>
  );
}
