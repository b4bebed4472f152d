import { SseParser } from '../../src/client/sse.js';
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
  const parser = new SseParser({ keepText: true });
  return {
    stream,
    take() {
      const out: Received[] = [];
      for (const chunk of stream.chunks.splice(0)) {
        for (const piece of decode(chunk)) {
          // Each event is stamped with the arrival of the piece that completed it.
          for (const { event, data, text } of parser.push(piece.text)) {
            if (!data) continue;
            if (event === 'message') {
              const m = JSON.parse(data) as { id: string; status: string };
              out.push({ key: eventKey({ kind: 'message', id: m.id, status: m.status }), at: piece.at, text: text! });
            } else if (event === 'delta') {
              const d = JSON.parse(data) as { id: string; offset: number; text: string };
              out.push({
                key: eventKey({ kind: 'delta', id: d.id, offset: d.offset }),
                at: piece.at,
                text: text!,
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
