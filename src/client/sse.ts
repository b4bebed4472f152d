/** One Server-Sent Event as an EventSource would dispatch it (`event` defaults to 'message'). */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/** One event block as it was sent: `event` is absent when the block named no type. */
export interface SseRecord {
  event?: string;
  data: string;
  id?: string;
  /** The block's lines as received (line ends as `\n`) and its closing blank line; only with `keepText`. */
  text?: string;
}

/**
 * The one text/event-stream parser of the project (client, tests, torture and bench read through it): feed it the
 * decoded text as it arrives, cut anywhere, and it returns the events each piece completed. Lines end with `\n`,
 * `\r\n` or `\r`; comment lines are skipped; several `data:` lines join with `\n`. A block with neither data nor
 * id (a comment-only keep-alive) is no event.
 */
export class SseParser {
  /** The start of a line whose end has not arrived yet. */
  private partial = '';
  /** The last piece ended with `\r`: a `\n` opening the next one belongs to that line end. */
  private afterCr = false;
  private event: string | undefined;
  private id: string | undefined;
  private data: string[] = [];
  private lines: string[] = [];

  constructor(private readonly options: { keepText?: boolean } = {}) {}

  push(text: string): SseRecord[] {
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = text.endsWith('\r');
    const lines = (this.partial + text).split(/\r\n|\r|\n/);
    this.partial = lines.pop()!;
    const out: SseRecord[] = [];
    for (const line of lines) {
      if (line === '') {
        const record = this.dispatch();
        if (record) out.push(record);
        continue;
      }
      if (this.options.keepText) this.lines.push(line);
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id') this.id = value;
    }
    return out;
  }

  private dispatch(): SseRecord | undefined {
    const { event, id, data, lines } = this;
    this.event = undefined;
    this.id = undefined;
    this.data = [];
    this.lines = [];
    if (data.length === 0 && id === undefined) return undefined;
    const record: SseRecord = { data: data.join('\n') };
    if (event !== undefined) record.event = event;
    if (id !== undefined) record.id = id;
    if (this.options.keepText) record.text = `${lines.join('\n')}\n\n`;
    return record;
  }
}

/** Parses a text/event-stream body into events (comments skipped), for fetch-based clients. */
export async function* parseSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const record of parser.push(decoder.decode(value, { stream: true }))) {
        const event: ServerSentEvent = { event: record.event ?? 'message', data: record.data };
        if (record.id !== undefined) event.id = record.id;
        yield event;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}
