/** HTTP helpers of the torture harness: one SSE reader, and what a failed request tells about its outcome. */

export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

/** The events of a text/event-stream body, as they arrive; comment blocks (pings) are skipped. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      let sep = buffer.indexOf('\n\n');
      while (sep < 0) {
        const chunk = await reader.read();
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        sep = buffer.indexOf('\n\n');
      }
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      const event: SseEvent = { data: '' };
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue;
        fields++;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
      }
      if (fields === 0) continue;
      event.data = data.join('\n');
      yield event;
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
