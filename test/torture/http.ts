/** HTTP helpers of the torture harness: its SSE reader, and what a failed request tells about its outcome. */
import { SseParser, type SseRecord } from '../../src/client/sse.js';

export type SseEvent = Omit<SseRecord, 'text'>;

/** The events of a text/event-stream body, as they arrive; comment blocks (pings) are skipped. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      yield* parser.push(decoder.decode(chunk.value, { stream: true }));
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The request never reached a server (nothing listened): it cannot have changed anything. */
export function wasRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = cause?.code ?? (err as { code?: unknown }).code;
    return `${err.name}: ${err.message}${code ? ` (${String(code)})` : cause?.message ? ` (${String(cause.message)})` : ''}`;
  }
  return String(err);
}

/** Aborts after `ms`, or when `outer` aborts; `dispose` clears the timer. */
export function deadlineSignal(ms: number, outer?: AbortSignal): { signal: AbortSignal; abort: (reason?: unknown) => void; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${ms} ms`)), ms);
  const onOuter = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}
