import { describe, expect, it } from 'vitest';
import { SseFrame, sseResponse, type SseWriter } from './sse.js';

/** A response whose producer is driven by the test; `writer` is there once the producer has started. */
function open() {
  let writer!: SseWriter;
  let finish!: () => void;
  const errors: unknown[] = [];
  const response = sseResponse(
    { 'X-Test': '1' },
    async (w) => {
      writer = w;
      await new Promise<void>((resolve) => (finish = resolve));
    },
    (err) => errors.push(err),
  );
  const reader = response.body!.getReader();
  const started = new Promise<void>((resolve) => queueMicrotask(() => queueMicrotask(resolve)));
  return { response, reader, errors, started, writer: () => writer, finish: () => finish() };
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join('');

describe('sseResponse', () => {
  it('is an event stream with the given headers', () => {
    const { response, finish } = open();
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-test')).toBe('1');
    queueMicrotask(finish);
  });

  it('sends what one turn of the event loop wrote as one chunk, in order', async () => {
    const { reader, started, writer, finish } = open();
    await started;
    writer().write(': connected\n\n');
    writer().data({ n: 1 });
    writer().write(new SseFrame('event: delta\ndata: {}\n\n'));
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(': connected\n\ndata: {"n":1}\n\nevent: delta\ndata: {}\n\n');
    writer().data({ n: 2 });
    finish();
    expect(text(await readAll(reader))).toBe('data: {"n":2}\n\n');
  });

  it('sends a frame written alone as the same bytes on every stream', async () => {
    const a = open();
    const b = open();
    await Promise.all([a.started, b.started]);
    const frame = new SseFrame('event: message\ndata: {"é":1}\n\n');
    a.writer().write(frame);
    b.writer().write(frame);
    const [ra, rb] = await Promise.all([a.reader.read(), b.reader.read()]);
    expect(ra.value).toBe(rb.value);
    expect(new TextDecoder().decode(ra.value)).toBe(frame.text);
    a.finish();
    b.finish();
  });

  it('joins the same burst of frames once for every stream', async () => {
    const streams = [open(), open(), open()];
    await Promise.all(streams.map((s) => s.started));
    const burst = ['one', 'two', 'three'].map((t) => new SseFrame(`event: delta\ndata: "${t}"\n\n`));
    for (const s of streams) for (const frame of burst) s.writer().write(frame);
    const chunks = await Promise.all(streams.map(async (s) => (await s.reader.read()).value));
    expect(new TextDecoder().decode(chunks[0])).toBe(burst.map((f) => f.text).join(''));
    expect(chunks[1]).toBe(chunks[0]);
    expect(chunks[2]).toBe(chunks[0]);
    // A stream that also wrote text of its own gets a chunk of its own.
    streams[0]!.writer().write(burst[0]!);
    streams[0]!.writer().write(': ping\n\n');
    streams[1]!.writer().write(burst[0]!);
    streams[1]!.writer().write(burst[1]!);
    const [own, other] = await Promise.all([streams[0]!.reader.read(), streams[1]!.reader.read()]);
    expect(new TextDecoder().decode(own.value)).toBe(`${burst[0]!.text}: ping\n\n`);
    expect(new TextDecoder().decode(other.value)).toBe(burst[0]!.text + burst[1]!.text);
    for (const s of streams) s.finish();
  });

  it('delivers what was written before close, then ends; later writes are refused', async () => {
    const { reader, started, writer, finish } = open();
    await started;
    writer().write('data: last\n\n');
    writer().close();
    expect(writer().closed).toBe(true);
    expect(writer().write('data: late\n\n')).toBe(false);
    expect(text(await readAll(reader))).toBe('data: last\n\n');
    finish();
  });

  it('drops a subscriber more than 1 MiB behind', async () => {
    const { reader, started, writer, finish } = open();
    await started;
    const piece = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    let accepted = 0;
    // Nobody reads: the queue only grows, over several turns of the event loop.
    while (accepted < 40 && writer().write(piece)) {
      accepted++;
      if (accepted % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(writer().closed).toBe(true);
    // The limit is 1 MiB beyond the 64 KiB high-water mark, i.e. 17 pieces of 64 KiB; the piece that crossed it
    // may still be delivered (it was queued before the stream was closed), nothing after it is.
    const pieces = text(await readAll(reader)).length / piece.length;
    expect(Number.isInteger(pieces)).toBe(true);
    expect(pieces).toBeGreaterThanOrEqual(17);
    expect(pieces).toBeLessThanOrEqual(accepted + 1);
    expect(accepted).toBeLessThan(20);
    finish();
  });

  it('tells the producer when the client goes away, and drops what was pending', async () => {
    const { reader, started, writer, finish } = open();
    await started;
    let closed = 0;
    writer().onClose(() => closed++);
    writer().write('data: never read\n\n');
    await reader.cancel();
    expect(closed).toBe(1);
    expect(writer().closed).toBe(true);
    expect(writer().write('data: x\n\n')).toBe(false);
    await new Promise((resolve) => setImmediate(resolve)); // the scheduled flush finds nothing to do
    finish();
  });
});
