import { useEffect, useSyncExternalStore } from 'react';
import { api, onUnauthorized } from '../api/client.js';
import { credentials } from '../api/credentials.js';
import { isAbort } from '../api/errors.js';
import type { User } from '../api/types.js';

export type Session =
  | { status: 'signed-out'; reason?: string }
  | { status: 'checking' }
  | { status: 'signed-in'; user: User }
  | { status: 'unreachable'; message: string };

let session: Session = credentials.signedIn() ? { status: 'checking' } : { status: 'signed-out' };
const listeners = new Set<() => void>();

function set(next: Session): void {
  session = next;
  for (const fn of [...listeners]) fn();
}

onUnauthorized(() => {
  if (!credentials.signedIn()) return;
  credentials.clear();
  set({ status: 'signed-out', reason: 'Your session ended: the token is no longer valid. Sign in again.' });
});

/** Keeps the token only when `GET /api/me` accepts it. Throws the API's error otherwise. */
export async function signInWithToken(token: string): Promise<User> {
  credentials.set(token);
  try {
    const { user } = await api.me();
    set({ status: 'signed-in', user });
    return user;
  } catch (err) {
    credentials.clear();
    throw err;
  }
}

export function signOut(): void {
  credentials.clear();
  set({ status: 'signed-out' });
}

let checking: Promise<void> | undefined;

/** Asks the server who this tab's stored credentials belong to (once per page load). */
function check(): Promise<void> {
  return (checking ??= api
    .me()
    .then(({ user }) => set({ status: 'signed-in', user }))
    .catch((err: unknown) => {
      if (isAbort(err) || !credentials.signedIn()) return; // a 401 has already signed out
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
