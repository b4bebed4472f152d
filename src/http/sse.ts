const encoder = new TextEncoder();
// A subscriber this far behind is dropped; it resumes with Last-Event-ID instead of holding memory.
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Runs `fn` once the current I/O callbacks are done. Node (and Bun and Deno) have setImmediate; a host without
 * it gets the next timer turn, which only makes the coalescing below a little coarser.
 */
const afterThisTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * SSE text that many streams send unchanged (one bus event to every subscriber of a conversation): encoded once,
 * and the same bytes enqueued on every stream. Sharing them is safe: a default (non-byte) ReadableStream hands
 * each chunk to its reader as it is, never transferring or copying it, and nothing here or in the server
 * adapters writes into a chunk.
 */
export class SseFrame {
  private encoded: Uint8Array | undefined;
  constructor(readonly text: string) {}
  get bytes(): Uint8Array {
    return (this.encoded ??= encoder.encode(this.text));
  }
}

/**
 * The frames most recently joined into one chunk, and that chunk. Every subscriber of a conversation gets the same
 * frames in the same turn (a burst of deltas), and their streams flush one after another: the first encodes the
 * joined text, the others reuse its bytes.
 */
let lastJoined: { frames: SseFrame[]; bytes: Uint8Array } | undefined;

function encodePending(parts: Array<string | SseFrame>): Uint8Array {
  if (!parts.every((part) => part instanceof SseFrame)) return encoder.encode(parts.map(textOf).join(''));
  const frames = parts as SseFrame[];
  if (frames.length === 1) return frames[0]!.bytes;
  const last = lastJoined;
  if (last && last.frames.length === frames.length && last.frames.every((f, i) => f === frames[i])) return last.bytes;
  const bytes = encoder.encode(frames.map(textOf).join(''));
  lastJoined = { frames, bytes };
  return bytes;
}

const textOf = (part: string | SseFrame) => (typeof part === 'string' ? part : part.text);

export interface SseWriter {
  /** Writes raw SSE text; false once the stream is closed. */
  write(text: string | SseFrame): boolean;
  /** One `data: <json>` event. */
  data(value: unknown): boolean;
  close(): void;
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

/**
 * A text/event-stream response whose producer runs after the headers are sent. The producer learns of a client
 * that went away through onClose (the body stream is cancelled); writes after that are ignored.
 *
 * Writes are coalesced: everything written during one turn of the event loop (an answer's deltas parsed from one
 * socket read, the opening events of a turn, a resume's replay) becomes one chunk, so one encode, one enqueue,
 * one read by the server adapter and one socket write, instead of one of each per event.
 */
export function sseResponse(
  headers: Record<string, string>,
  produce: (writer: SseWriter) => Promise<void>,
  onProducerError: (err: unknown) => void,
): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const closeHandlers: Array<() => void> = [];
  // What this turn wrote and is not yet enqueued.
  let pending: Array<string | SseFrame> = [];
  let pendingChars = 0;
  const markClosed = () => {
    if (closed) return;
    closed = true;
    pending = [];
    pendingChars = 0;
    for (const fn of closeHandlers.splice(0)) {
      try {
        fn();
      } catch (err) {
        onProducerError(err);
      }
    }
  };
  /** True while the stream has room; the queue's limit is checked against what was actually enqueued. */
  const flush = (): boolean => {
    if (closed || pending.length === 0) return !closed;
    const bytes = encodePending(pending);
    pending = [];
    pendingChars = 0;
    controller.enqueue(bytes);
    return (controller.desiredSize ?? 0) >= -MAX_BUFFERED_BYTES;
  };
  const writer: SseWriter = {
    write(chunk) {
      if (closed) return false;
      if (pending.length === 0) {
        afterThisTurn(() => {
          if (!flush()) writer.close();
        });
      }
      pending.push(chunk);
      pendingChars += textOf(chunk).length;
      // Text length undercounts bytes beyond ASCII; the flush checks the exact queue size as it enqueues.
      if ((controller.desiredSize ?? 0) - pendingChars < -MAX_BUFFERED_BYTES) {
        writer.close();
        return false;
      }
      return true;
    },
    data(value) {
      return writer.write(`data: ${JSON.stringify(value)}\n\n`);
    },
    close() {
      if (closed) return;
      // What was written before the close still goes out, ahead of the end of the stream.
      flush();
      try {
        controller.close();
      } catch {
        // Already cancelled by the client.
      }
      markClosed();
    },
    onClose(fn) {
      if (closed) fn();
      else closeHandlers.push(fn);
    },
    get closed() {
      return closed;
    },
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      cancel() {
        markClosed();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  queueMicrotask(() => {
    produce(writer)
      .catch((err: unknown) => onProducerError(err))
      .finally(() => writer.close());
  });
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      ...headers,
    },
  });
}
