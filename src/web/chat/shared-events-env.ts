import { connectEvents } from './events-connection.js';
import { watchFreezing } from './page-lifecycle.js';

/** What shared-events.ts needs of the browser: the real APIs here, fakes in its tests. */

export interface Channel {
  postMessage(note: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

export interface Locks {
  /** As navigator.locks.request: the lock is held until the promise `whileHeld` returns settles. */
  request(name: string, options: { signal?: AbortSignal }, whileHeld: () => Promise<void>): Promise<unknown>;
}

export interface SharedEventsEnv {
  /** Missing (no Web Locks or no BroadcastChannel): every tab has its own stream. */
  locks: Locks | undefined;
  channel: ((name: string) => Channel) | undefined;
  connect: typeof connectEvents;
  /** Calls back when the page is frozen (true) or runs again (false); returns the unsubscribe. */
  watchFreezing?: (onChange: (frozen: boolean) => void) => () => void;
}

/** This browser's: a per-tab stream where Web Locks (secure contexts only) or BroadcastChannel are missing. */
export function browserEnv(): SharedEventsEnv {
  const locks = typeof navigator !== 'undefined' && navigator.locks ? navigator.locks : undefined;
  const channel = typeof BroadcastChannel === 'function' ? (name: string) => new BroadcastChannel(name) : undefined;
  return { locks, channel, connect: connectEvents, watchFreezing };
}
