import { api } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import type { ConversationEvent, ConversationRef, Message } from '../api/types.js';
import { backoffDelay } from '../../backoff.js';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface Delta {
  id: string;
  offset: number;
  text: string;
}

export interface EventsHandlers {
  /** A message as stored at `version`. */
  onMessage(message: Message, version: number): void;
  onDelta(delta: Delta): void;
  onCleared(version: number): void;
  onStatus(status: LiveStatus): void;
  /** The stream cannot be opened again (the conversation or its report is gone, or no longer visible). */
  onFatal(error: ApiError): void;
}

export interface EventsConnection {
  /** Reconnects at once instead of waiting for the backoff (e.g. when the browser is back online). */
  reconnectNow(): void;
  close(): void;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15_000;
/** A connection that lived this long was healthy: the next failure starts the backoff again from its minimum. */
const HEALTHY_MS = 10_000;

/**
 * GET …/events, kept open: the first connection resumes after the history it loaded, every reconnection after the
 * last version received (`Last-Event-ID`, through the shared client), so nothing is missed or repeated across
 * drops. Reconnects with exponential backoff and jitter.
 */
export function connectEvents(where: ConversationRef, afterVersion: number, handlers: EventsHandlers): EventsConnection {
  let closed = false;
  let lastEventId = afterVersion;
  let first = true;
  let attempt = 0;
  let current: AbortController | undefined;
  let wakeUp: (() => void) | undefined;

  const dispatch = (event: ConversationEvent) => {
    if (event.type === 'message') {
      if (Number.isSafeInteger(event.version)) lastEventId = event.version;
      handlers.onMessage(event.message, lastEventId);
    } else if (event.type === 'delta') {
      handlers.onDelta({ id: event.id, offset: event.offset, text: event.text });
    } else {
      if (Number.isSafeInteger(event.version)) lastEventId = event.version;
      handlers.onCleared(lastEventId);
    }
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const run = async () => {
    while (!closed) {
      current = new AbortController();
      const openedAt = Date.now();
      handlers.onStatus(first ? 'connecting' : 'reconnecting');
      try {
        const events = api.events(where, lastEventId, {
          signal: current.signal,
          onOpen: () => {
            first = false;
            handlers.onStatus('live');
          },
        });
        for await (const event of events) dispatch(event);
      } catch (err) {
        if (closed) return;
        if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
          handlers.onFatal(err);
          handlers.onStatus('closed');
          return;
        }
        // Anything else (the network, a broken stream, the server restarting) is retried after a pause.
      }
      if (closed) return;
      first = false;
      if (Date.now() - openedAt > HEALTHY_MS) attempt = 0;
      handlers.onStatus('reconnecting');
      const pause = backoffDelay(attempt, { base: MIN_BACKOFF_MS, max: MAX_BACKOFF_MS, jitter: 'half' });
      attempt++;
      await wait(pause);
    }
  };

  const onOnline = () => {
    attempt = 0;
    wakeUp?.();
  };
  window.addEventListener('online', onOnline);
  void run();

  return {
    reconnectNow() {
      current?.abort();
      onOnline();
    },
    close() {
      closed = true;
      window.removeEventListener('online', onOnline);
      current?.abort();
      wakeUp?.();
      handlers.onStatus('closed');
    },
  };
}
