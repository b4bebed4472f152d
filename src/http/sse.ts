import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';

const encoder = new TextEncoder();
// A subscriber this far behind is dropped; it resumes with Last-Event-ID instead of holding memory.
const MAX_BUFFERED_BYTES = 1024 * 1024;
const HIGH_WATER_MARK = 64 * 1024;

/** The Node response a request's body is written to, under @hono/node-server; undefined elsewhere (app.request()). */
export function nodeResponseOf(c: Context): ServerResponse | undefined {
  return (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
}

/**
 * Runs `fn` once the current I/O callbacks are done. Node (and Bun and Deno) have setImmediate; a host without
 * it gets the next timer turn, which only makes the coalescing below a little coarser.
 */
const afterThisTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * The flushes due after this turn, of every stream that wrote in it, in the order they first wrote: one timer for
 * all of them rather than one per stream (a thousand streams each given a delta in a turn would be a thousand).
 */
let due: Array<() => void> = [];

function flushAfterThisTurn(fn: () => void): void {
  if (due.length === 0) afterThisTurn(runDue);
  due.push(fn);
}

function runDue(): void {
  const fns = due;
  due = [];
  for (const fn of fns) fn();
}

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
  /** The Node response the server adapter writes the body to (nodeResponseOf), when there is one. */
  socket?: ServerResponse,
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
  /**
   * Bytes written and not yet on the wire at the last flush: in the body's queue and in the Node response's buffer.
   * A write checks its turn's text against it (the queue only drains in between, so that errs on the safe side)
   * instead of asking the web stream each time.
   */
  let bufferedAtFlush = 0;
  /** True while the stream has room; the limit is checked against what was actually queued. */
  const flush = (): boolean => {
    if (closed || pending.length === 0) return !closed;
    const bytes = encodePending(pending);
    pending = [];
    pendingChars = 0;
    const room = controller.desiredSize ?? 0;
    // Once the adapter has sent the head and the body's queue is empty, the adapter has written every chunk it read
    // (it writes one in the microtask its read settles in, and a flush runs in a later turn of the event loop), so
    // writing to the Node response directly keeps the order, and saves a queued chunk, a read and its microtasks.
    // The adapter's read stays pending, to end the response when the body closes and to cancel it when the client
    // goes.
    let queued = HIGH_WATER_MARK - room;
    if (socket?.headersSent && !socket.destroyed && room >= HIGH_WATER_MARK) socket.write(bytes);
    else {
      controller.enqueue(bytes);
      queued += bytes.byteLength;
    }
    bufferedAtFlush = queued + (socket?.writableLength ?? 0);
    return bufferedAtFlush <= MAX_BUFFERED_BYTES + HIGH_WATER_MARK;
  };
  // Runs beside other streams' flushes (flushAfterThisTurn): a failure here must end this stream only.
  const flushDue = () => {
    try {
      if (!flush()) writer.close();
    } catch (err) {
      onProducerError(err);
      writer.close();
    }
  };
  const writer: SseWriter = {
    write(chunk) {
      if (closed) return false;
      if (pending.length === 0) flushAfterThisTurn(flushDue);
      pending.push(chunk);
      pendingChars += textOf(chunk).length;
      // Text length undercounts bytes beyond ASCII; the flush checks the exact size as it writes.
      if (bufferedAtFlush + pendingChars > MAX_BUFFERED_BYTES + HIGH_WATER_MARK) {
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
    new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_MARK }),
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
