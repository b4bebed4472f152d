import { hashToken } from './accounts.js';
import { credentialKey } from './access-watch.js';
import type { EventBus } from './bus.js';
import type { Authenticated } from './context.js';

/**
 * Who an API token or a session cookie belongs to, remembered by each instance for a few seconds: a person's requests
 * come in bursts (a page asks for its messages, its conversations and its events at once; a client sends turn after
 * turn), and each would otherwise read the credential and its user from the database first (BENCHMARKS.md, "HTTP
 * turns"). A credential is remembered no longer than it can stay unnoticed on an open events stream:
 * - an ended credential (a token revoked, a signing out, a user disabled) is forgotten at once on every instance, by
 *   the bus's `credential ended` event that also ends its streams; a lookup that began before the event is not kept;
 * - one the access check finds gone (a token or session deleted, a session expired, in the database by hand) is
 *   forgotten by that check, as its streams end;
 * - anything else (a user's name changed, a credential deleted by hand with no stream open, an event lost while the
 *   bus reconnected) within `ttlMs`, the access check's own interval; a session never past its expiry.
 * Only credentials that were found are remembered: an unknown one is looked up every time.
 */
export interface CredentialCache {
  /** `load`'s answer for `secret` (a bearer token or a session cookie), from memory while it is remembered. */
  lookup(kind: 'token' | 'session', secret: string, load: () => Promise<Authenticated | undefined>): Promise<Authenticated | undefined>;
  /** Forgets the credential (credentialKey) on this instance. */
  forget(key: string): void;
}

interface Entry {
  who: Authenticated;
  credentialKey: string;
  until: number;
}

export const CREDENTIAL_TTL_MS = 5_000;
// Enough for every person active within a few seconds on one instance; the oldest is dropped past it.
const MAX_ENTRIES = 10_000;

export function createCredentialCache(
  bus: Pick<EventBus, 'onCredentialEnded'>,
  options: { ttlMs?: number; maxEntries?: number } = {},
): CredentialCache {
  const ttlMs = options.ttlMs ?? CREDENTIAL_TTL_MS;
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  // By a hash of the secret, so that the secrets themselves are not kept; and from each credential to its entry.
  const entries = new Map<string, Entry>();
  const byCredential = new Map<string, string>();
  // Counts forgettings: a lookup that saw one happen while it read the database does not keep what it read.
  let forgotten = 0;

  const drop = (id: string, entry: Entry) => {
    entries.delete(id);
    if (byCredential.get(entry.credentialKey) === id) byCredential.delete(entry.credentialKey);
  };
  const forget = (key: string) => {
    forgotten++;
    const id = byCredential.get(key);
    const entry = id && entries.get(id);
    if (entry) drop(id, entry);
  };
  bus.onCredentialEnded(forget);

  return {
    async lookup(kind, secret, load) {
      const id = `${kind} ${hashToken(secret).toString('base64')}`;
      const now = Date.now();
      const known = entries.get(id);
      if (known && known.until > now) return known.who;
      if (known) drop(id, known);
      const seen = forgotten;
      const who = await load();
      if (!who || who.credential.kind === 'jwt' || seen !== forgotten) return who;
      const loaded = Date.now();
      const until = Math.min(loaded + ttlMs, who.credential.kind === 'session' ? who.credential.expiresAt.getTime() : Infinity);
      // The oldest first (a Map keeps insertion order): those past their time, and one more while full.
      for (const [oldId, old] of entries) {
        if (old.until > loaded && entries.size < maxEntries) break;
        drop(oldId, old);
      }
      const entry: Entry = { who, credentialKey: credentialKey(who.credential), until };
      entries.set(id, entry);
      byCredential.set(entry.credentialKey, id);
      return who;
    },
    forget,
  };
}
