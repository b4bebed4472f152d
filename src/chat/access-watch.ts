import type { Logger } from '../log/logger.js';
import type { Sql } from '../store/db.js';
import { grantsStillValid } from '../store/stream-access.js';
import type { EventBus } from './bus.js';
import type { Credential } from './context.js';

/** What an open events stream was allowed by: a user reading a conversation, with the credential that opened it. */
export interface StreamGrant {
  conversationId: string;
  userId: string;
  credential: Credential;
}

export interface AccessWatch {
  /**
   * Calls `onLost` once when the stream may no longer go on: the user can no longer see the conversation (removed as
   * a member, the report or the conversation deleted, the conversation made private by someone else) or its credential ended (token revoked, signed out, session or JWT expired). Returns
   * the function that stops watching.
   */
  watch(grant: StreamGrant, onLost: () => void): () => void;
  /** Runs one check of every watched stream now (tests; the timer runs it every `intervalMs`). */
  checkNow(): Promise<void>;
}

/** A credential that can end before it expires: an API token, a session. A JWT only expires. */
type Revocable = Extract<Credential, { id: string }>;

/** The name under which the bus announces that a revocable credential ended. */
export const credentialKey = (credential: Pick<Revocable, 'kind' | 'id'>) => `${credential.kind}:${credential.id}`;

const expiresAt = (credential: Credential) => (credential.kind === 'token' ? undefined : credential.expiresAt.getTime());

// setTimeout's longest delay (about 24.8 days); a later end is left to the periodic check.
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  grant: StreamGrant;
  credentialKey: string | undefined;
  onLost: Set<() => void>;
  /** Fires when the credential expires. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Re-checks the access of every open events stream of this instance with one statement per interval, whatever the
 * number of streams: checked one by one, 1,000 idle streams cost 200 statements a second (BENCHMARKS.md). Events
 * end streams at once where something announces the loss: the `revoked` bus event (a removed member; the events
 * route listens for it) and an ended credential (a revoked token, a sign-out; heard here from the bus, from any
 * instance). An expiring session or JWT ends its streams by a timer at its end. The check is the fallback for what
 * no event announces: a membership, token or session changed by hand in the database, a report deleted, an event
 * lost while the bus reconnected.
 */
export function createAccessWatch(
  sql: Sql,
  bus: EventBus,
  log: Logger,
  intervalMs = 5_000,
  /** Told each credential whose streams the check ended: it may be gone (src/chat/credential-cache.ts). */
  forgetCredential: (credentialKey: string) => void = () => {},
): AccessWatch {
  // One entry per (conversation, user, credential) with open streams, and each stream's callback.
  const watched = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const lose = (key: string, entry: Entry) => {
    // An entry replaced while a check ran is not the one the check found lost.
    if (watched.get(key) !== entry) return;
    watched.delete(key);
    clearTimeout(entry.timer);
    if (watched.size === 0) stop();
    for (const onLost of entry.onLost) onLost();
  };
  const check = async () => {
    if (watched.size === 0) return;
    const entries = [...watched];
    const valid = await grantsStillValid(
      sql,
      entries.map(([, { grant }]) => ({
        conversationId: grant.conversationId,
        userId: grant.userId,
        tokenId: grant.credential.kind === 'token' ? grant.credential.id : null,
        sessionId: grant.credential.kind === 'session' ? grant.credential.id : null,
      })),
    );
    const now = Date.now();
    entries.forEach(([key, entry], i) => {
      const end = expiresAt(entry.grant.credential);
      if (valid.has(i) && (end === undefined || end > now)) return;
      if (entry.credentialKey) forgetCredential(entry.credentialKey);
      lose(key, entry);
    });
  };
  const tick = () => {
    // A slow database must not pile checks up: skip a tick while the previous check runs.
    running ??= check()
      .catch((err: unknown) => log.warn({ err }, 'events access check failed'))
      .finally(() => (running = undefined));
  };

  bus.onCredentialEnded((ended) => {
    for (const [key, entry] of [...watched]) if (entry.credentialKey === ended) lose(key, entry);
  });

  return {
    watch(grant, onLost) {
      const credKey = grant.credential.kind === 'jwt' ? undefined : credentialKey(grant.credential);
      const end = expiresAt(grant.credential);
      const key = `${grant.conversationId} ${grant.userId} ${credKey ?? `jwt:${end}`}`;
      let entry = watched.get(key);
      if (!entry) {
        const created: Entry = { grant, credentialKey: credKey, onLost: new Set(), timer: undefined };
        if (end !== undefined && end - Date.now() <= MAX_TIMER_MS) {
          created.timer = setTimeout(() => lose(key, created), Math.max(0, end - Date.now()));
          created.timer.unref();
        }
        watched.set(key, (entry = created));
      }
      entry.onLost.add(onLost);
      if (!timer) {
        timer = setInterval(tick, intervalMs);
        timer.unref();
      }
      const mine = entry;
      return () => {
        mine.onLost.delete(onLost);
        if (mine.onLost.size === 0 && watched.get(key) === mine) {
          watched.delete(key);
          clearTimeout(mine.timer);
        }
        if (watched.size === 0) stop();
      };
    },
    checkNow: () => check(),
  };
}
