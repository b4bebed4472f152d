import { useEffect, useSyncExternalStore } from 'react';
import { api, onUnauthorized } from '../api/client.js';
import { credentials } from '../api/credentials.js';
import { ApiError, isAbort } from '../api/errors.js';
import type { User } from '../api/types.js';

export type Session =
  | { status: 'signed-out'; reason?: string }
  | { status: 'checking' }
  | { status: 'signed-in'; user: User }
  | { status: 'unreachable'; message: string };

/**
 * Who this tab is signed in as. The session cookie is HttpOnly, so only the server knows whether there is one:
 * every page load starts by asking (`GET /api/me`), with the cookie or the stored token (credentials.ts decides).
 */
let session: Session = { status: 'checking' };
/** Grows at every sign-in and sign-out, so that an answer to an older question cannot undo them. */
let epoch = 0;
const listeners = new Set<() => void>();

function set(next: Session): void {
  session = next;
  for (const fn of [...listeners]) fn();
}

function signedOut(reason?: string): void {
  epoch++;
  credentials.forgetToken();
  set({ status: 'signed-out', reason });
}

// Any call answered 401: the credentials are missing or no longer valid, back to the sign-in page.
onUnauthorized(() => {
  if (session.status !== 'signed-in') return; // the first check handles its own answer
  signedOut(
    credentials.mode() === 'token'
      ? 'Your session ended: the token is no longer valid. Sign in again.'
      : 'Your session has ended. Sign in again.',
  );
});

async function becomeSignedIn(): Promise<User> {
  const mine = ++epoch;
  const { user } = await api.me();
  if (mine === epoch) set({ status: 'signed-in', user });
  return user;
}

/** Signs in with email and password: the server sets its session cookie. Throws the API's error (401, 429…). */
export async function signInWithPassword(email: string, password: string): Promise<User> {
  credentials.forgetToken(); // a stored token would be sent instead of the new cookie
  await api.login(email, password);
  return becomeSignedIn();
}

/** Chooses the password of an invite (its code from the link) and signs in with the session it starts. */
export async function signInWithInvite(code: string, password: string): Promise<User> {
  credentials.forgetToken(); // as for a sign-in: the new cookie, not a stored token, must speak for this tab
  await api.acceptInvite(code, password);
  return becomeSignedIn();
}

/** Keeps the token only when `GET /api/me` accepts it. Throws the API's error otherwise. */
export async function signInWithToken(token: string): Promise<User> {
  credentials.useToken(token);
  try {
    return await becomeSignedIn();
  } catch (err) {
    credentials.forgetToken();
    throw err;
  }
}

/** Ends the server's session (the cookie) and forgets a stored token; this tab is signed out even offline. */
export async function signOut(): Promise<void> {
  signedOut();
  await api.logout().catch(() => {
    // Offline or refused: the cookie may live on until it expires, but this tab shows the sign-in page.
  });
}

let checking: Promise<void> | undefined;

/** Asks the server who this tab's credentials belong to (once per page load, and on "Try again"). */
function check(): Promise<void> {
  const mine = epoch;
  const stillCurrent = () => mine === epoch && session.status === 'checking';
  return (checking ??= api
    .me(undefined, { quiet: true })
    .then(({ user }) => {
      if (stillCurrent()) set({ status: 'signed-in', user });
    })
    .catch((err: unknown) => {
      if (isAbort(err) || !stillCurrent()) return;
      if (err instanceof ApiError && err.status === 401) {
        // Not signed in (a first visit, an expired cookie) or a stored token that no longer works.
        signedOut(credentials.mode() === 'token' ? 'Your session ended: the token is no longer valid. Sign in again.' : undefined);
        return;
      }
      set({ status: 'unreachable', message: err instanceof Error ? err.message : 'The server could not be reached.' });
    })
    .finally(() => {
      checking = undefined;
    }));
}

export function useSession(): Session {
  const current = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => session,
  );
  useEffect(() => {
    if (current.status === 'checking') void check();
  }, [current.status]);
  return current;
}

export function retrySessionCheck(): void {
  set({ status: 'checking' });
}
