/** Messages between the bench (parent) and a server process it started (child), over the IPC channel. */
export type ToChild =
  | { type: 'usage'; gc?: boolean }
  | { type: 'clock' }
  /**
   * Start recording when events of this conversation are published on the instance's bus. A `first` listener
   * (subscribed before any stream) notes publication; a `last` one (after them) notes when the synchronous
   * delivery to every subscriber of the instance has returned. Its keys are prefixed `last:`.
   */
  | { type: 'watch'; conversationId: string; position: 'first' | 'last' }
  | { type: 'published' }
  /**
   * Bare fan-out (baseline process): write each event's text to every open GET /fanout stream, `delayMs` after
   * the previous event; replies `published` with when each event's loop started.
   */
  | { type: 'broadcast'; events: { key: string; text: string; delayMs: number }[] }
  /** Start V8's CPU profiler; `profile-stop` writes what it sampled to `file`. */
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'close' };

export interface Usage {
  /** process.cpuUsage(), in microseconds. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  external: number;
}

/** A bus event as published, keyed the way subscribers can recognise it, with the publish time. */
export interface Published {
  key: string;
  at: number;
}

export type FromChild =
  | { type: 'ready'; url: string; pid: number }
  | { type: 'usage'; usage: Usage }
  | { type: 'clock'; at: number }
  | { type: 'watching' }
  | { type: 'published'; events: Published[] }
  | { type: 'profiling' }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

/** The key a subscriber derives from an events-stream event, matching the publisher's. */
export function eventKey(event: { kind: 'message'; id: string; status: string } | { kind: 'delta'; id: string; offset: number }): string {
  return event.kind === 'message' ? `message:${event.id}:${event.status}` : `delta:${event.id}:${event.offset}`;
}

export function usage(): Usage {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { cpuUs: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external };
}

/** Full collections until the heap stops shrinking: memory figures then count live objects, not garbage. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 3; i++) gc();
}
