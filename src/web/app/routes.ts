/** The app's few pages, from the URL path (the server answers index.html for every non-API path). */
export type Route =
  | { name: 'reports' }
  /** A report with a conversation: its main one when `conversationId` is undefined. */
  | { name: 'report'; reportId: string; conversationId: string | undefined }
  | { name: 'sign-in'; next: string }
  | { name: 'account' }
  | { name: 'admin' }
  | { name: 'invite' }
  | { name: 'not-found' };

/** Pages that work signed out: the admin page has its own sign-in, an invite signs its person in. */
export const isPublicRoute = (route: Route): boolean => route.name === 'sign-in' || route.name === 'admin' || route.name === 'invite';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const REPORT_PATH = new RegExp(`^/reports/(${UUID})(?:/conversations/(${UUID}))?/?$`);

export function parseRoute(pathname: string, search: string): Route {
  if (pathname === '/' || pathname === '/reports' || pathname === '/reports/') return { name: 'reports' };
  const report = REPORT_PATH.exec(pathname);
  if (report?.[1]) return { name: 'report', reportId: report[1].toLowerCase(), conversationId: report[2]?.toLowerCase() };
  if (pathname === '/sign-in') {
    const next = new URLSearchParams(search).get('next') ?? '/';
    // Only paths of this app: never an absolute URL, so a crafted link cannot send the person elsewhere.
    return { name: 'sign-in', next: next.startsWith('/') && !next.startsWith('//') ? next : '/' };
  }
  if (pathname === '/account') return { name: 'account' };
  if (pathname === '/admin') return { name: 'admin' };
  if (pathname === '/invite') return { name: 'invite' };
  return { name: 'not-found' };
}

/**
 * The address of a report's conversation: the report's own for its main one (so the links made before there were
 * other conversations still open it), `/reports/:reportId/conversations/:conversationId` for any other.
 */
export function conversationPath(reportId: string, conversationId?: string): string {
  const report = `/reports/${encodeURIComponent(reportId)}`;
  return conversationId === undefined ? report : `${report}/conversations/${encodeURIComponent(conversationId)}`;
}
