import type { LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';
import { AnswerCitations } from './answer-citations.js';
import { describeModelError, MODEL_STOPPED_RESPONDING } from './error-message.js';
import { partSourceOf, type PartSource } from './part-source.js';
import { renderPrompt } from './prompt-input.js';
import type { AnswerEvent, AnswerModel, ModelInput } from './types.js';
import { WireModel } from './wire/wire-model.js';

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
 * Streams one answer: a `delta` per non-empty piece of text, each verified `source` right after the delta that
 * holds its `[n]` marker (answer-citations.ts), then exactly one `finish` (with the rejected citations and the
 * cache tokens) or `error`. When the caller aborts, the iteration just ends: the caller knows why, and no terminal
 * event could be true anyway. The prompt gives the report the way this model cites it (prompt-input.ts).
 *
 * It calls the provider's `LanguageModelV3.doStream` directly rather than through the AI SDK's `streamText`:
 * nothing `streamText` adds is used here (retries are the caller's, no tools, no telemetry, text-only prompts),
 * and its extra web streams and per-chunk validation were the largest CPU cost of a turn (BENCHMARKS.md).
 */
export async function* streamAnswer(args: StreamAnswerArgs): AsyncGenerator<AnswerEvent, void, undefined> {
  // The consumer leaving the loop ends the answer as an abort would.
  const left = new AbortController();
  const queue: AnswerEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const done = answerEvents({ ...args, signal: AbortSignal.any([args.signal, left.signal]) }, (event) => {
    queue.push(event);
    wake?.();
  }).finally(() => {
    ended = true;
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    await done;
  } finally {
    left.abort();
  }
}

/**
 * `streamAnswer` for a consumer that handles each event at once (the turn engine): every event goes to `emit`
 * synchronously, as its part is read, with no promise per event in between. Resolves once the last has gone; a
 * model's failure is the `error` event, so it rejects only when `emit` throws.
 */
export async function answerEvents(args: StreamAnswerArgs, emit: (event: AnswerEvent) => void): Promise<void> {
  const { signal } = args;
  if (signal.aborted) return;
  // Our own controller also cancels the request when the model goes idle.
  const internal = new AbortController();
  let started: PromiseLike<PartSource> | undefined;
  let source: PartSource | undefined;
  /** Ends the wait for the parts: the model ended, failed, went idle, or the caller aborted. */
  let stopReading: (() => void) | undefined;
  const onAbort = () => {
    internal.abort(signal.reason);
    source?.cancel();
    stopReading?.();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const idleMs = args.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const waiter = new Waiter(idleMs, internal.signal);
  let idle = false;
  const watch = new ReadWatch(idleMs, () => {
    idle = true;
    source?.cancel();
    stopReading?.();
  });

  let failure: unknown;
  let finish: Extract<AnswerEvent, { type: 'finish' }> | undefined;
  /** Anything but bookkeeping arrived; a stream with none of it is a model that did not answer at all. */
  let output = false;
  let citations: AnswerCitations | undefined;
  let consumerFailure: { err: unknown } | undefined;
  /** The model's stream was read to its end: its request has nothing left to cancel. */
  let readToEnd = false;
  const emitAll = (events: AnswerEvent[]) => {
    for (const event of events) emit(event);
  };
  const onPart = (part: LanguageModelV3StreamPart) => {
    switch (part.type) {
      case 'text-delta':
        output = true;
        emitAll(citations!.text(part.delta));
        break;
      case 'source':
        output = true;
        citations!.source(part);
        break;
      case 'text-end':
        output = true;
        emitAll(citations!.blockEnd());
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
  };

  try {
    const opened = openAnswer(args, internal.signal);
    citations = opened.citations;
    started = opened.started;
    // The request itself (up to the response headers) counts against the idle timeout too: a provider that never
    // answers is as silent as one that stops.
    const opening = await waiter.wait(opened.started);
    if (signal.aborted || opening === ABORTED) return;
    if (opening === IDLE) {
      emit(idleError(internal, waiter.idleMs));
      return;
    }
    source = opening;
    started = undefined;
    waiter.dispose();
    // The idle clock runs from each part to the next; the consumer handles a part before the next is read.
    watch.reading();
    await new Promise<void>((resolve, reject) => {
      stopReading = resolve;
      opening.start({
        part(part) {
          watch.reading();
          try {
            onPart(part);
          } catch (err) {
            // The consumer's own failure, thrown on the source's stack: not the model's, so it is not described as one.
            consumerFailure = { err };
            opening.cancel();
            resolve();
          }
        },
        end() {
          readToEnd = true;
          resolve();
        },
        error: reject,
      });
    });
    stopReading = undefined;
    if (consumerFailure) throw consumerFailure.err;
    if (signal.aborted) return;
    if (idle) {
      emit(idleError(internal, idleMs));
      return;
    }
  } catch (error) {
    if (consumerFailure) throw consumerFailure.err;
    if (signal.aborted) return;
    // doStream rejects for a failed request (an APICallError with the HTTP status, or a network error), and the
    // stream errors for a connection lost mid-answer; either is described the same way as an error part.
    failure ??= error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    waiter.dispose();
    watch.dispose();
    // Ends the HTTP request if we leave early (abort, idle, failure). Not after a stream read to its end: there is
    // nothing left to end, and an abort without a reason builds a DOMException (with its stack) per answer.
    if (!readToEnd) internal.abort();
    source?.cancel();
    // A request we stopped waiting for may still produce a stream later: nobody will read it, so cancel it.
    started?.then((late) => late.cancel(), () => {});
  }

  if (signal.aborted) return; // a stop that raced the last chunk is still a stop
  // Text held back (a label cut in two) is part of the answer whatever happens next.
  if (citations) emitAll(citations.end());
  // A stream that closes without a single part worth the name is "the model failed to answer", as `streamText`
  // reported it (its NoOutputGeneratedError); one that stops part-way through an answer "stopped responding".
  if (failure === undefined && !finish && !output) failure = new Error('no output: the model stream ended without a finish part');
  if (failure !== undefined) emit({ type: 'error', message: describeModelError(failure), cause: failure });
  else if (finish) emit({ ...finish, rejectedCitations: citations?.rejected ?? 0 });
  else emit({ type: 'error', message: MODEL_STOPPED_RESPONDING, cause: new Error('stream ended without finishing') });
}

/**
 * Calls the model. No retries here: the caller owns them, it knows whether a partial answer was already shown. Only
 * the stream is kept: the call's result also holds the request as sent, and the prompt holds the whole report,
 * which an answer streaming for a minute need not keep alive (so they stay in this function's scope).
 */
function openAnswer(args: StreamAnswerArgs, signal: AbortSignal) {
  const style = args.model.citations ?? 'labels';
  const { prompt, labels } = renderPrompt(args.input, style);
  const model = args.model.model;
  const options = { prompt, abortSignal: signal, includeRawChunks: false };
  const started = model instanceof WireModel ? model.openParts(options) : model.doStream(options).then((result) => partSourceOf(result.stream));
  return { citations: new AnswerCitations(args.input.report, style, labels), started };
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
 * The idle clock of the parts: `onIdle` runs once `idleMs` have passed since the last part (or since reading
 * began). A part costs an assignment and a clock reading, not a timer re-arm (the answer's parts are its hottest
 * loop); the one timer checks the time when it fires and sleeps again for what is left.
 */
class ReadWatch {
  private since = 0;
  private waiting = false;
  private timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.timer = setTimeout(this.check, idleMs);
  }

  reading(): void {
    this.since = performance.now();
    this.waiting = true;
  }

  private readonly check = () => {
    const left = this.waiting ? this.since + this.idleMs - performance.now() : this.idleMs;
    if (left <= 0) this.onIdle();
    else this.timer = setTimeout(this.check, left);
  };

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Waits for the model's response (up to its stream), or for the idle timeout, or for an abort, whichever comes first.
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
