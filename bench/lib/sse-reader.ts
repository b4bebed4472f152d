import { eventKey } from '../servers/protocol.js';
import { bodyDecoder, type EventStream } from './http-client.js';

/** An event of GET …/events, keyed as the publisher keys it (servers/protocol.ts eventKey). */
export interface Received {
  key: string;
  /** Arrival time (epoch ms) of the bytes that completed the event. */
  at: number;
  /** The event's bytes as sent. */
  text: string;
  /** For a delta: the answer and the span of its text it carries (an instance may merge consecutive deltas). */
  delta?: { id: string; start: number; end: number };
}

/**
 * Reads an events stream's recorded bytes into events, each with the arrival time of the bytes that completed it.
 * Stateful: `take()` returns what arrived since the last call, so rounds can be told apart without losing the
 * HTTP framing or an event cut in two.
 */
export function sseReader(stream: EventStream): { take(): Received[]; stream: EventStream } {
  const decode = bodyDecoder();
  let buffer = '';
  return {
    stream,
    take() {
      const out: Received[] = [];
      for (const chunk of stream.chunks.splice(0)) {
        for (const piece of decode(chunk)) {
          buffer += piece.text;
          for (let sep = buffer.indexOf('\n\n'); sep >= 0; sep = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, sep);
            buffer = buffer.slice(sep + 2);
            let type = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (!data) continue;
            const text = `${block}\n\n`;
            if (type === 'message') {
              const m = JSON.parse(data) as { id: string; status: string };
              out.push({ key: eventKey({ kind: 'message', id: m.id, status: m.status }), at: piece.at, text });
            } else if (type === 'delta') {
              const d = JSON.parse(data) as { id: string; offset: number; text: string };
              out.push({
                key: eventKey({ kind: 'delta', id: d.id, offset: d.offset }),
                at: piece.at,
                text,
                delta: { id: d.id, start: d.offset, end: d.offset + d.text.length },
              });
            }
          }
        }
      }
      return out;
    },
  };
}

