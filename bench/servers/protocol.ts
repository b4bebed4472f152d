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
  /** Start V8's sampling heap profiler; `heap-profile-stop` writes the sampled allocations still alive to `file`. */
  | { type: 'heap-profile-start' }
  | { type: 'heap-profile-stop'; file: string }
  /** Paced model: how many chunks it sent and how late they were, since the last reset. */
  | { type: 'model-stats'; reset: boolean }
  /** Stream client: run these answers and reply `stream-result` when every one has ended. */
  | { type: 'stream-run'; run: StreamRun }
  | { type: 'close' };

/** One step of the streaming suite, as the load generator runs it. */
export interface StreamRun {
  answers: { url: string; headers: Record<string, string>; body: string }[];
  /** Answer i starts i × staggerMs / answers.length after the run does. */
  staggerMs: number;
  /** Stamped chunks each answer must deliver. */
  chunks: number;
  timeoutMs: number;
  /** The epoch of the stamps (bench/lib/stamps.ts). */
  epoch: number;
  /** Whether an answer must end with `data-saved` and `saved: true` to count as delivered. */
  requireSaved: boolean;
  /** Chunks sent in this window (epoch ms) are not counted: the bench forces garbage collections in it. */
  exclude?: { from: number; to: number };
}

export interface StreamResult {
  answers: number;
  ok: number;
  failures: number;
  firstErrors: string[];
  /** Delivery delay of each chunk: its arrival at the client minus its stamp, in ms. */
  delays: { n: number; p50: number; p95: number; p99: number; max: number };
  excluded: number;
  clientCpuMs: number;
  wallMs: number;
}

export interface ModelStats {
  chunks: number;
  open: number;
  latenessP99Ms: number;
  latenessMaxMs: number;
}

export interface Usage {
  /** process.cpuUsage(), in microseconds. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  external: number;
  /** Statements that saved a streaming answer's text (bench servers that save while streaming). */
  saves?: number;
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
  | { type: 'model-stats'; stats: ModelStats }
  | { type: 'stream-result'; result: StreamResult }
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
