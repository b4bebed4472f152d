import { describe, expect, it } from 'vitest';
import { parseSse, SseParser, type SseRecord } from './sse.js';

/** Feeds every piece to one parser and returns all it produced. */
function parse(pieces: string[], options?: { keepText?: boolean }): SseRecord[] {
  const parser = new SseParser(options);
  return pieces.flatMap((piece) => parser.push(piece));
}

/** A body that sends `pieces` and stays open until the reader cancels it, as a live events stream does. */
function openBody(pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
    },
  });
}

const STREAM = ': connected\n\nevent: message\nid: 3\ndata: {"a":1}\n\nevent: delta\ndata: {"t":"x"}\n\ndata: plain\n\n';
const EXPECTED: SseRecord[] = [{ event: 'message', id: '3', data: '{"a":1}' }, { event: 'delta', data: '{"t":"x"}' }, { data: 'plain' }];

describe('SseParser', () => {
  it('reads events, types and ids, and skips comment blocks', () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events however the text is cut, one character at a time included', () => {
    expect(parse([...STREAM])).toEqual(EXPECTED);
    for (let cut = 1; cut < STREAM.length; cut++) expect(parse([STREAM.slice(0, cut), STREAM.slice(cut)])).toEqual(EXPECTED);
  });

  it('returns each event from the piece that completed it, and holds a partial one', () => {
    const parser = new SseParser();
    expect(parser.push('event: delta\nda')).toEqual([]);
    expect(parser.push('ta: {"t":"x"}\n')).toEqual([]);
    expect(parser.push('\ndata: next')).toEqual([{ event: 'delta', data: '{"t":"x"}' }]);
    expect(parser.push('\n\n')).toEqual([{ data: 'next' }]);
  });

  it('accepts \\r\\n and \\r line ends, a \\r\\n cut in two included, with no empty line invented', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    expect(parse([crlf])).toEqual(EXPECTED);
    for (let cut = 1; cut < crlf.length; cut++) expect(parse([crlf.slice(0, cut), crlf.slice(cut)])).toEqual(EXPECTED);
    expect(parse([STREAM.replace(/\n/g, '\r')])).toEqual(EXPECTED);
    // The \n after a piece's last \r ends the same line: the data lines stay one event.
    expect(parse(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([{ data: 'a\nb' }]);
  });

  it('joins data lines with \\n, keeps colons after the first, strips one leading space, reads bare field names', () => {
    expect(parse(['data: one\ndata:two\ndata:  three\ndata: a:b\ndata\n\n'])).toEqual([{ data: 'one\ntwo\n three\na:b\n' }]);
    expect(parse(['event\ndata: x\n\n'])).toEqual([{ event: '', data: 'x' }]);
  });

  it('skips comment lines inside an event, and ignores unknown fields', () => {
    expect(parse([': ping\nevent: delta\n: another\nretry: 10\nfoo: bar\ndata: x\n\n'])).toEqual([{ event: 'delta', data: 'x' }]);
  });

  it('makes an event of an id without data, but none of a block with neither', () => {
    expect(parse(['id: 7\n\nevent: delta\n\n\n\n'])).toEqual([{ id: '7', data: '' }]);
  });

  it('keeps no text unless asked, and then the block as received', () => {
    expect(parse([STREAM])[0]).not.toHaveProperty('text');
    expect(parse([STREAM.replace(/\n/g, '\r\n')], { keepText: true }).map((r) => r.text)).toEqual([
      'event: message\nid: 3\ndata: {"a":1}\n\n',
      'event: delta\ndata: {"t":"x"}\n\n',
      'data: plain\n\n',
    ]);
  });
});

describe('parseSse', () => {
  it('yields events typed as an EventSource would, across UTF-8 split between chunks', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: "é"\n\ndata: {}\n\n');
    const at = bytes.indexOf(0xc3) + 1;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, at));
        controller.enqueue(bytes.slice(at));
        controller.close();
      },
    });
    const events = [];
    for await (const ev of parseSse(body)) events.push(ev);
    expect(events).toEqual([
      { event: 'delta', data: '"é"' },
      { event: 'message', data: '{}' },
    ]);
  });

  it('yields an event ended by \\r\\r at once, without waiting for the next chunk', async () => {
    const controller = new AbortController();
    const events = parseSse(openBody(['data: one\r\r']), controller.signal);
    const first = await Promise.race([events.next(), new Promise((resolve) => setTimeout(() => resolve('waiting'), 1_000))]);
    controller.abort();
    expect(first).toEqual({ done: false, value: { event: 'message', data: 'one' } });
    await events.return(undefined);
  });
});
