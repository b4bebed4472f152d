import type { IncomingMessage } from 'node:http';
import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import type { PausablePartSource, PartSink } from '../part-source.js';
import { SseDecoder } from './sse.js';

export type Emit = (part: LanguageModelV3StreamPart) => void;

/** A provider's events, read into stream parts: one call per server-sent event, then one at the end. */
export interface WireEvents {
  event(name: string, data: string, emit: Emit): void;
  /** The response ended; a `finish` part goes out only if the provider said it finished. */
  end(emit: Emit): void;
}

/**
 * The provider's SSE response as V3 stream parts, pushed from the socket's `data` events: one SSE decoder and
 * `JSON.parse` per event, no fetch body, decoder or parser streams in between. A connection lost before the
 * response ended is an error with the socket's error (ECONNRESET); cancelling destroys the response.
 */
export function responseParts(response: IncomingMessage, wire: WireEvents): PausablePartSource {
  let sink: PartSink | undefined;
  let done = false;
  const emit: Emit = (part) => {
    if (!done) sink!.part(part);
  };
  const finish = () => {
    if (done) return;
    done = true;
    sink!.end();
  };
  // A failure before the reader started (the socket reset between the headers and the first read) waits for it.
  let early: { err: unknown } | undefined;
  const fail = (err: unknown) => {
    if (done) return;
    if (!sink) {
      early ??= { err };
      return;
    }
    done = true;
    sink.error(err);
  };
  response.on('error', fail);
  // Destroyed without an error (the request's own abort), or closed before 'end': either way no more parts.
  response.on('close', () => {
    if (!response.complete) fail(Object.assign(new Error('the response closed before it ended'), { code: 'ECONNRESET' }));
  });
  return {
    start(s) {
      sink = s;
      const decoder = new SseDecoder((name, data) => {
        try {
          wire.event(name, data, emit);
        } catch (error) {
          // An event that is not what the provider documents: the answer fails here rather than guess.
          emit({ type: 'error', error });
          finish();
          response.destroy();
        }
      });
      response.on('data', (text: string) => {
        if (!done) decoder.push(text);
      });
      response.on('end', () => {
        if (done) return;
        decoder.end();
        wire.end(emit);
        finish();
      });
      emit({ type: 'stream-start', warnings: [] });
      if (early) fail(early.err);
    },
    cancel() {
      done = true;
      response.destroy();
    },
    pause: () => response.pause(),
    resume() {
      if (response.isPaused()) response.resume();
    },
  };
}
