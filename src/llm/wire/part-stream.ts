import type { IncomingMessage } from 'node:http';
import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { SseDecoder } from './sse.js';

export type Emit = (part: LanguageModelV3StreamPart) => void;

/** A provider's events, read into stream parts: one call per server-sent event, then one at the end. */
export interface WireEvents {
  event(name: string, data: string, emit: Emit): void;
  /** The response ended; a `finish` part goes out only if the provider said it finished. */
  end(emit: Emit): void;
}

/** Parts queued before the reader asks for more; past it the socket pauses, so a slow reader slows the provider. */
const HIGH_WATER_MARK = 64;

/**
 * The provider's SSE response as the V3 stream parts `streamAnswer` reads: one web stream per answer, fed straight
 * from the socket's `data` events (no fetch body, decoder or parser streams in between). A connection lost before
 * the response ended errors the stream with the socket's error (ECONNRESET); cancelling it destroys the response.
 */
export function partStream(response: IncomingMessage, wire: WireEvents): ReadableStream<LanguageModelV3StreamPart> {
  let done = false;
  return new ReadableStream<LanguageModelV3StreamPart>(
    {
      start(controller) {
        const emit: Emit = (part) => {
          if (!done) controller.enqueue(part);
        };
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
        const finish = () => {
          if (done) return;
          done = true;
          controller.close();
        };
        response.on('data', (text: string) => {
          if (done) return;
          decoder.push(text);
          if ((controller.desiredSize ?? 1) <= 0) response.pause();
        });
        response.on('end', () => {
          if (done) return;
          decoder.end();
          wire.end(emit);
          finish();
        });
        response.on('error', (error) => {
          if (done) return;
          done = true;
          controller.error(error);
        });
        // Destroyed without an error (the request's own abort), or closed before 'end': either way no more parts.
        response.on('close', () => {
          if (done || response.complete) return;
          done = true;
          controller.error(Object.assign(new Error('the response closed before it ended'), { code: 'ECONNRESET' }));
        });
        controller.enqueue({ type: 'stream-start', warnings: [] });
      },
      pull() {
        if (response.isPaused()) response.resume();
      },
      cancel() {
        done = true;
        response.destroy();
      },
    },
    { highWaterMark: HIGH_WATER_MARK },
  );
}
