/**
 * How this tab proves who it is. Today: an API token kept in sessionStorage (per tab, gone when the tab closes),
 * sent as `Authorization: Bearer`. Cookie sign-in will change only this file: the browser then sends the cookie
 * itself (`credentials: 'same-origin'` is already set on every request) and `apply` adds nothing.
 */
const TOKEN_KEY = 'report-chat.token';

type Listener = () => void;
const listeners = new Set<Listener>();

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    // Storage can be blocked by the browser's privacy settings: then the tab stays signed out.
    return undefined;
  }
}

export const credentials = {
  token(): string | null {
    return storage()?.getItem(TOKEN_KEY) ?? null;
  },
  signedIn(): boolean {
    return credentials.token() !== null;
  },
  set(token: string): void {
    storage()?.setItem(TOKEN_KEY, token);
    for (const fn of [...listeners]) fn();
  },
  clear(): void {
    storage()?.removeItem(TOKEN_KEY);
    for (const fn of [...listeners]) fn();
  },
  /** Adds this tab's credentials to a request. */
  apply(headers: Headers): void {
    const token = credentials.token();
    if (token) headers.set('Authorization', `Bearer ${token}`);
  },
  subscribe(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

/** An API token as API.md defines it: `rc_` and 43 base64url characters. */
export const API_TOKEN_PATTERN = /^rc_[A-Za-z0-9_-]{43}$/;
