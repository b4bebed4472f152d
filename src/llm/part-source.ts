import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';

/** Where a model's stream parts go, as they arrive. After `end` or `error`, nothing more. */
export interface PartSink {
  part(part: LanguageModelV3StreamPart): void;
  end(): void;
  error(err: unknown): void;
}

/**
 * A model's answer as parts pushed to a sink, in the order the model sent them. `streamAnswer` reads every model
 * this way: a web stream costs a queued chunk, a read promise and its microtasks per part, which, on an answer's
 * hottest loop, our own clients skip (they push straight from the socket, wire/response-parts.ts).
 */
export interface PartSource {
  /** Once: the sink is called from here on, until the end. */
  start(sink: PartSink): void;
  /** No more parts; the request behind them ends. Safe after the end, and more than once. */
  cancel(): void;
}

/** A source that can also hold the parts back while a slow reader catches up (the socket pauses). */
export interface PausablePartSource extends PartSource {
  pause(): void;
  resume(): void;
}

/** Parts queued before the reader asks for more; past it the source pauses, so a slow reader slows the provider. */
const HIGH_WATER_MARK = 64;

/** A source as the web stream `LanguageModelV3.doStream` returns, with backpressure. */
export function partStreamOf(source: PausablePartSource): ReadableStream<LanguageModelV3StreamPart> {
  return new ReadableStream<LanguageModelV3StreamPart>(
    {
      start(controller) {
        source.start({
          part(part) {
            controller.enqueue(part);
            if ((controller.desiredSize ?? 1) <= 0) source.pause();
          },
          end: () => controller.close(),
          error: (err) => controller.error(err),
        });
      },
      pull: () => source.resume(),
      cancel: () => source.cancel(),
    },
    { highWaterMark: HIGH_WATER_MARK },
  );
}

/** Any model's web stream as a source: each part is pushed as its read settles. */
export function partSourceOf(stream: ReadableStream<LanguageModelV3StreamPart>): PartSource {
  const reader = stream.getReader();
  let cancelled = false;
  return {
    start(sink) {
      void (async () => {
        try {
          for (;;) {
            const next = await reader.read();
            if (cancelled) return;
            if (next.done) return sink.end();
            sink.part(next.value);
          }
        } catch (err) {
          if (!cancelled) sink.error(err);
        }
      })();
    },
    cancel() {
      if (cancelled) return;
      cancelled = true;
      // Ends a read in progress at once (done), even from a provider that ignores its abort signal.
      reader.cancel().catch(() => {});
    },
  };
}
