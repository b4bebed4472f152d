import { useEffect } from 'react';
import { retrySessionCheck, useSession } from '../auth/session.js';
import { SignInPage } from '../auth/SignInPage.js';
import { ReportPage } from '../report/ReportPage.js';
import { ReportListPage } from '../reports/ReportListPage.js';
import { AppHeader } from './AppHeader.js';
import { navigate, useLocation } from './router.js';
import { parseRoute } from './routes.js';

export function App() {
  const location = useLocation();
  const route = parseRoute(location.pathname, location.search);
  const session = useSession();
  const here = location.pathname + location.search;

  useEffect(() => {
    if (session.status === 'signed-out' && route.name !== 'sign-in') {
      navigate(`/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
    }
  }, [session.status, route.name, here]);

  if (route.name === 'sign-in') return <SignInPage next={route.next} />;
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
