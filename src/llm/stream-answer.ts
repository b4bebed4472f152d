import { streamText, type TextStreamPart, type ToolSet } from 'ai';
import { describeModelError, MODEL_STOPPED_RESPONDING } from './error-message.js';
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

/**
 * Streams one answer: a `delta` per non-empty piece of text, then exactly one `finish` or `error`. When the
 * caller aborts, the iteration just ends: the caller knows why, and no terminal event could be true anyway.
 */
export async function* streamAnswer(args: StreamAnswerArgs): AsyncGenerator<AnswerEvent, void, undefined> {
  const { signal } = args;
  if (signal.aborted) return;
  const idleMs = args.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  // Our own controller also cancels the request when the model goes idle or the consumer stops iterating.
  const internal = new AbortController();
  const onAbort = () => internal.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });

  let parts: AsyncIterator<TextStreamPart<ToolSet>> | undefined;
  let failure: unknown;
  let finish: AnswerEvent | undefined;

  try {
    parts = streamText({
      model: args.model.model,
      system: args.input.system,
      messages: args.input.messages,
      maxRetries: 0, // the caller owns retries: it knows whether a partial answer was already shown
      abortSignal: internal.signal,
      onError: () => {}, // errors reach the caller as events; the SDK's default would print them raw
    }).fullStream[Symbol.asyncIterator]();
    for (;;) {
      // The idle clock runs only while we wait on the model, not while the consumer handles a delta.
      const next = await nextOrInterrupt(parts.next(), idleMs, internal.signal);
      if (signal.aborted || next === ABORTED) return;
      if (next === IDLE) {
        internal.abort(new Error(MODEL_STOPPED_RESPONDING));
        yield { type: 'error', message: MODEL_STOPPED_RESPONDING, cause: new Error(`no chunk for ${idleMs} ms`) };
        return;
      }
      if (next.done) break;
      const part = next.value;
      if (part.type === 'text-delta') {
        if (part.text !== '') yield { type: 'delta', text: part.text };
      } else if (part.type === 'error') {
        // Some providers keep going after an error event; the answer is failed either way, first cause wins.
        failure ??= part.error ?? new Error('the provider reported an unspecified error');
      } else if (part.type === 'abort') {
        return;
      } else if (part.type === 'finish') {
        finish = { type: 'finish', inputTokens: part.totalUsage.inputTokens, outputTokens: part.totalUsage.outputTokens };
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    failure ??= error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Ends the HTTP request if we leave early (abort, idle, or the consumer broke out of its loop).
    internal.abort();
    void parts?.return?.().catch(() => {});
  }

  if (signal.aborted) return; // a stop that raced the last chunk is still a stop
  if (failure !== undefined) yield { type: 'error', message: describeModelError(failure), cause: failure };
  else if (finish) yield finish;
  else yield { type: 'error', message: MODEL_STOPPED_RESPONDING, cause: new Error('stream ended without finishing') };
}

/** Waits for the next part, or for the idle timeout, or for an abort, whichever comes first. */
function nextOrInterrupt<T>(next: Promise<T>, idleMs: number, signal: AbortSignal): Promise<T | typeof IDLE | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(IDLE), idleMs);
    const onAbort = () => done(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    function done(value: T | typeof IDLE | typeof ABORTED) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }
    next.then(done, (error: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
}
