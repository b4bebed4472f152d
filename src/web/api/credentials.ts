/**
 * How this tab proves who it is — the one place that decides between the two ways:
 *
 * - **cookie** (the default): a person signed in with email and password; the server's `HttpOnly` session cookie
 *   goes with every same-origin request by itself, and this tab holds no secret.
 * - **token**: an API token pasted on the sign-in page, kept in sessionStorage (per tab, gone when the tab closes)
 *   and sent as `Authorization: Bearer`. While a token is stored it is used instead of any cookie.
 */
const TOKEN_KEY = 'report-chat.token';

export type CredentialsMode = 'cookie' | 'token';

type Listener = () => void;
const listeners = new Set<Listener>();

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    // Storage can be blocked by the browser's privacy settings: then only the cookie can sign this tab in.
    return undefined;
  }
}

function changed(): void {
  for (const fn of [...listeners]) fn();
}

export const credentials = {
  mode(): CredentialsMode {
    return credentials.bearer() === undefined ? 'cookie' : 'token';
  },
  /** The token to send as `Authorization: Bearer`, or undefined when requests go with the session cookie. */
  bearer(): string | undefined {
    return storage()?.getItem(TOKEN_KEY) ?? undefined;
  },
  /** From now on this tab sends `token` (until `forgetToken`). */
  useToken(token: string): void {
    storage()?.setItem(TOKEN_KEY, token);
    changed();
  },
  /** Back to the cookie: the stored token (if any) is forgotten. */
  forgetToken(): void {
    if (storage()?.getItem(TOKEN_KEY) == null) return;
    storage()?.removeItem(TOKEN_KEY);
    changed();
  },
  subscribe(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

/** An API token as API.md defines it: `rc_` and 43 base64url characters. */
export const API_TOKEN_PATTERN = /^rc_[A-Za-z0-9_-]{43}$/;
