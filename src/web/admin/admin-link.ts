import { adminApi } from '../api/client.js';
import type { AdminSession } from '../api/types.js';

let pending: Promise<AdminSession> | undefined;

/**
 * Signs in with the code of an `admin-link` URL (`/admin#<code>`), when the address holds one. The code is taken out
 * of the address at once, so that neither a reload nor the history offers a used code again; a second call while
 * the first is under way (React runs a page's first effect twice in development) shares its answer.
 */
export function signInWithLinkCode(): Promise<AdminSession> | undefined {
  const code = window.location.hash.slice(1);
  if (code) {
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    const signIn = adminApi.signIn({ code });
    pending = signIn;
    signIn
      .finally(() => {
        if (pending === signIn) pending = undefined;
      })
      .catch(() => {
        // Its caller reads the outcome.
      });
  }
  return pending;
}
