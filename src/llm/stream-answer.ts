import type { LanguageModelV3StreamPart, LanguageModelV3StreamResult, LanguageModelV3Usage } from '@ai-sdk/provider';
import { AnswerCitations } from './answer-citations.js';
import { describeModelError, MODEL_STOPPED_RESPONDING } from './error-message.js';
import { renderPrompt } from './prompt-input.js';
import type { AnswerEvent, AnswerModel, ModelInput } from './types.js';

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface StreamAnswerArgs {
  model: AnswerModel;
  input: ModelInput;
  signal: AbortSignal;
  /** How long the model may stay silent before the answer fails; 60 s unless a test needs less. */
  idleTimeoutMs?: number;
}

const IDLE = Symbol('idle');
const ABORTED = Symbol('aborted');
type Interrupt = typeof IDLE | typeof ABORTED;

/**
 * Streams one answer: a `delta` per non-empty piece of text, then exactly one `finish` or `error`. When the
 * caller aborts, the iteration just ends: the caller knows why, and no terminal event could be true anyway.
 *
 * It calls the provider's `LanguageModelV3.doStream` directly rather than through the AI SDK's `streamText`:
 * nothing `streamText` adds is used here (retries are the caller's, no tools, no telemetry, text-only prompts),
 * and its extra web streams and per-chunk validation were the largest CPU cost of a turn (BENCHMARKS.md).
 */
export async function* streamAnswer(args: StreamAnswerArgs): AsyncGenerator<AnswerEvent, void, undefined> {
  const { signal } = args;
  if (signal.aborted) return;
  // Our own controller also cancels the request when the model goes idle or the consumer stops iterating.
  const internal = new AbortController();
  const onAbort = () => internal.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const waiter = new Waiter(args.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, internal.signal);

  let started: PromiseLike<LanguageModelV3StreamResult> | undefined;
  let reader: ReadableStreamDefaultReader<LanguageModelV3StreamPart> | undefined;
  let failure: unknown;
  let finish: Extract<AnswerEvent, { type: 'finish' }> | undefined;
  /** Anything but bookkeeping arrived; a stream with none of it is a model that did not answer at all. */
  let output = false;
  let citations: AnswerCitations | undefined;

  try {
    const style = args.model.citations ?? 'labels';
    const { prompt, labels } = renderPrompt(args.input, style);
    citations = new AnswerCitations(args.input.report, style, labels);
    // No retries here: the caller owns them, it knows whether a partial answer was already shown.
    const request = args.model.model.doStream({ prompt, abortSignal: internal.signal, includeRawChunks: false });
    started = request;
    // The request itself (up to the response headers) counts against the idle timeout too: a provider that never
    // answers is as silent as one that stops.
    const result = await waiter.wait(request);
    if (signal.aborted || result === ABORTED) return;
    if (result === IDLE) {
      yield idleError(internal, waiter.idleMs);
      return;
    }
    reader = result.stream.getReader();
    for (;;) {
      // The idle clock runs only while we wait on the model, not while the consumer handles a delta.
      const next = await waiter.wait(reader.read());
      if (signal.aborted || next === ABORTED) return;
      if (next === IDLE) {
        yield idleError(internal, waiter.idleMs);
        return;
      }
      if (next.done) break;
      const part = next.value;
      switch (part.type) {
        case 'text-delta':
          output = true;
          yield* citations.text(part.delta);
          break;
        case 'source':
          output = true;
          citations.source(part);
          break;
        case 'text-end':
          output = true;
          yield* citations.blockEnd();
          break;
        case 'error':
          // Some providers keep going after an error event; the answer is failed either way, first cause wins.
          failure ??= part.error ?? new Error('the provider reported an unspecified error');
          break;
        case 'finish':
          finish = { type: 'finish', rejectedCitations: 0, ...usageOf(part.usage) };
          break;
        case 'stream-start':
        case 'response-metadata':
        case 'raw':
          break;
        default:
          // text-start, reasoning, files: not shown, but the model did answer something.
          output = true;
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    // doStream rejects for a failed request (an APICallError with the HTTP status, or a network error), and the
    // stream errors for a connection lost mid-answer; either is described the same way as an error part.
    failure ??= error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    waiter.dispose();
    // Ends the HTTP request if we leave early (abort, idle, or the consumer broke out of its loop).
    internal.abort();
    if (reader) void reader.cancel().catch(() => {});
    // A request we stopped waiting for may still produce a stream later: nobody will read it, so cancel it.
    else started?.then((r) => r.stream.cancel().catch(() => {}), () => {});
  }

  if (signal.aborted) return; // a stop that raced the last chunk is still a stop
  // Text held back (a label cut in two) is part of the answer whatever happens next.
  if (citations) yield* citations.end();
  // A stream that closes without a single part worth the name is "the model failed to answer", as `streamText`
  // reported it (its NoOutputGeneratedError); one that stops part-way through an answer "stopped responding".
  if (failure === undefined && !finish && !output) failure = new Error('no output: the model stream ended without a finish part');
  if (failure !== undefined) yield { type: 'error', message: describeModelError(failure), cause: failure };
  else if (finish) yield { ...finish, rejectedCitations: citations?.rejected ?? 0 };
  else yield { type: 'error', message: MODEL_STOPPED_RESPONDING, cause: new Error('stream ended without finishing') };
}

function idleError(internal: AbortController, idleMs: number): AnswerEvent {
  internal.abort(new Error(MODEL_STOPPED_RESPONDING));
  return { type: 'error', message: MODEL_STOPPED_RESPONDING, cause: new Error(`no chunk for ${idleMs} ms`) };
}

/** V3 usage counts are objects (`{ total, … }`); a plain number is accepted too, from a model written to V2. */
function usageOf(usage: LanguageModelV3Usage | undefined): Omit<Extract<AnswerEvent, { type: 'finish' }>, 'type' | 'rejectedCitations'> {
  const input = usage?.inputTokens as LanguageModelV3Usage['inputTokens'] | number | undefined;
  const output = usage?.outputTokens as LanguageModelV3Usage['outputTokens'] | number | undefined;
  const counts = {
    inputTokens: typeof input === 'number' ? input : input?.total,
    outputTokens: typeof output === 'number' ? output : output?.total,
    cacheReadTokens: typeof input === 'number' ? undefined : input?.cacheRead,
    cacheWriteTokens: typeof input === 'number' ? undefined : input?.cacheWrite,
  };
  // Absent counts stay absent rather than `undefined` keys, so a finish reads the same in logs and tests.
  return Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined));
}

/**
 * Waits for the model, or for the idle timeout, or for an abort, whichever comes first. One timer (re-armed at
 * each wait) and one abort listener serve the whole answer, instead of a new timer and listener per chunk.
 */
class Waiter {
  private readonly timer: ReturnType<typeof setTimeout>;
  /** Ends the wait in progress; unset between waits, so the timer firing then is ignored. */
  private interrupt: ((why: Interrupt) => void) | undefined;
  private readonly onAbort = () => this.interrupt?.(ABORTED);

  constructor(
    readonly idleMs: number,
    private readonly signal: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.interrupt?.(IDLE), idleMs);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  wait<T>(next: PromiseLike<T>): Promise<T | Interrupt> {
    if (this.signal.aborted) {
      next.then(undefined, () => {}); // nobody waits for it any more; its rejection is expected
      return Promise.resolve(ABORTED);
    }
    // Re-arms a timer that already fired while the consumer was busy, too.
    this.timer.refresh();
    return new Promise<T | Interrupt>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return; // the model answering after an interrupt (or the other way round) changes nothing
        settled = true;
        this.interrupt = undefined;
        outcome();
      };
      this.interrupt = (why) => settle(() => resolve(why));
      next.then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
    this.interrupt = undefined;
  }
}
