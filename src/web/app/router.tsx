import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The app's few pages, from the URL path (the server answers index.html for every non-API path). */
export type Route =
  | { name: 'reports' }
  | { name: 'report'; reportId: string }
  | { name: 'sign-in'; next: string }
  | { name: 'account' }
  | { name: 'admin' }
  | { name: 'invite' }
  | { name: 'not-found' };

/** Pages that work signed out: the admin page has its own sign-in, an invite signs its person in. */
export const isPublicRoute = (route: Route): boolean => route.name === 'sign-in' || route.name === 'admin' || route.name === 'invite';

export function parseRoute(pathname: string, search: string): Route {
  if (pathname === '/' || pathname === '/reports' || pathname === '/reports/') return { name: 'reports' };
  const report = /^\/reports\/([0-9a-fA-F-]{36})\/?$/.exec(pathname);
  if (report?.[1]) return { name: 'report', reportId: report[1].toLowerCase() };
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

const NAVIGATE_EVENT = 'report-chat:navigate';

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

function subscribe(fn: () => void): () => void {
  window.addEventListener('popstate', fn);
  window.addEventListener(NAVIGATE_EVENT, fn);
  return () => {
    window.removeEventListener('popstate', fn);
    window.removeEventListener(NAVIGATE_EVENT, fn);
  };
}

const currentUrl = () => window.location.pathname + window.location.search;

export function useLocation(): { pathname: string; search: string } {
  const url = useSyncExternalStore(subscribe, currentUrl);
  const q = url.indexOf('?');
  return q === -1 ? { pathname: url, search: '' } : { pathname: url.slice(0, q), search: url.slice(q) };
}

/** An ordinary link that the app follows itself (a modified click still opens a new tab). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
