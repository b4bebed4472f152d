const encoder = new TextEncoder();
// A subscriber this far behind is dropped; it resumes with Last-Event-ID instead of holding memory.
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface SseWriter {
  /** Writes raw SSE text; false once the stream is closed. */
  write(text: string): boolean;
  /** One `data: <json>` event. */
  data(value: unknown): boolean;
  close(): void;
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

/**
 * A text/event-stream response whose producer runs after the headers are sent. The producer learns of a client
 * that went away through onClose (the body stream is cancelled); writes after that are ignored.
 */
export function sseResponse(
  headers: Record<string, string>,
  produce: (writer: SseWriter) => Promise<void>,
  onProducerError: (err: unknown) => void,
): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const closeHandlers: Array<() => void> = [];
  const markClosed = () => {
    if (closed) return;
    closed = true;
    for (const fn of closeHandlers.splice(0)) {
      try {
        fn();
      } catch (err) {
        onProducerError(err);
      }
    }
  };
  const writer: SseWriter = {
    write(text) {
      if (closed) return false;
      controller.enqueue(encoder.encode(text));
      if ((controller.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) {
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
