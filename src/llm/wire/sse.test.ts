import { describe, expect, it } from 'vitest';
import { SseDecoder } from './sse.js';

function decode(pieces: string[]): Array<[string, string]> {
  const events: Array<[string, string]> = [];
  const decoder = new SseDecoder((event, data) => events.push([event, data]));
  for (const piece of pieces) decoder.push(piece);
  decoder.end();
  return events;
}

/** Every way of cutting `text` in two, and one piece per character. */
function cuts(text: string): string[][] {
  const out = [[text], [...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe('SseDecoder', () => {
  const stream =
    'event: message_start\ndata: {"a":1}\n\n' +
    ': keep-alive\n\n' +
    'data: first line\ndata:second line\n\n' +
    'event: ping\r\ndata: {}\r\n\r\n' +
    'id: 7\rretry: 10\rdata: after CR\r\r' +
    'data\n\n' +
    'data: no blank line at the end';
  const expected: Array<[string, string]> = [
    ['message_start', '{"a":1}'],
    ['message', 'first line\nsecond line'],
    ['ping', '{}'],
    ['message', 'after CR'],
    ['message', ''],
  ];

  it('reads events, multi-line data, comments and every line ending, however the text is cut', () => {
    for (const pieces of cuts(stream)) expect(decode(pieces)).toEqual(expected);
  });

  it('dispatches an event ended by a lone CR at the very end of the stream', () => {
    expect(decode(['data: x\r', '\r'])).toEqual([['message', 'x']]);
    expect(decode(['data: x\r\r'])).toEqual([['message', 'x']]);
  });

  it('resets the event name after each event', () => {
    expect(decode(['event: a\ndata: 1\n\ndata: 2\n\n'])).toEqual([
      ['a', '1'],
      ['message', '2'],
    ]);
  });
});
