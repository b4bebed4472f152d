import { APICallError, type LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { buildModelInput } from './context.js';
import { renderPrompt } from './prompt-input.js';
import { answerEvents, streamAnswer } from './stream-answer.js';
import type { AnswerEvent } from './types.js';

const usage = {
  inputTokens: { total: 7, noCache: 7, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 3, text: 3, reasoning: undefined },
};
const finish: LanguageModelV3StreamPart = { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage };
const delta = (text: string): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't', delta: text });

function modelStreaming(chunks: LanguageModelV3StreamPart[]) {
  const model = new MockLanguageModelV3({ doStream: async () => ({ stream: simulateReadableStream({ chunks }) }) });
  return { model, id: 'mock' };
}

/** A model that sends one delta and then nothing, never closing its stream; `cancelled` tells whether it was cancelled. */
function modelFallingSilent(text: string) {
  let cancelled = false;
  const model = new MockLanguageModelV3({
    doStream: async () => ({
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        start(controller) {
          controller.enqueue({ type: 'text-start', id: 't' });
          controller.enqueue(delta(text));
        },
        cancel() {
          cancelled = true;
        },
      }),
    }),
  });
  return { model: { model, id: 'mock' }, cancelled: () => cancelled };
}

const input = buildModelInput({ reportTitle: 'T', reportContent: 'The report.', history: [], question: 'q', maxTokens: 10_000 });

async function collect(events: AsyncIterable<AnswerEvent>): Promise<AnswerEvent[]> {
  const out: AnswerEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('streamAnswer', () => {
  it('yields non-empty deltas, then finish with usage', { timeout: 5_000 }, async () => {
    const model = modelStreaming([{ type: 'text-start', id: 't' }, delta('Hel'), delta(''), delta('lo'), { type: 'text-end', id: 't' }, finish]);
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events).toEqual([
      { type: 'delta', text: 'Hel' },
      { type: 'delta', text: 'lo' },
      { type: 'finish', rejectedCitations: 0, inputTokens: 7, outputTokens: 3 },
    ]);
  });

  it('never loses text held back as a possible label when the stream fails right after it', { timeout: 5_000 }, async () => {
    const model = modelStreaming([{ type: 'text-start', id: 't' }, delta('Growth was 12% [P'), { type: 'error', error: { type: 'overloaded_error' } }]);
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('')).toBe('Growth was 12% [P');
    expect(events.at(-1)!.type).toBe('error');
  });

  it('ends with one error, not finish, when the provider reports an error and then finishes', { timeout: 5_000 }, async () => {
    const secret = 'https://api.example.com/v1?key=sk-secret';
    const model = modelStreaming([
      { type: 'text-start', id: 't' },
      delta('Part'),
      { type: 'error', error: { type: 'overloaded_error', message: secret } },
      finish,
    ]);
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events.map((e) => e.type)).toEqual(['delta', 'error']);
    const error = events[1] as Extract<AnswerEvent, { type: 'error' }>;
    expect(error.message).toBe('The model provider reported an error while answering (overloaded_error).');
    expect(error.cause).toEqual({ type: 'overloaded_error', message: secret });
  });

  it('never puts a thrown error’s own text in the message', { timeout: 5_000 }, async () => {
    const model = {
      id: 'mock',
      model: new MockLanguageModelV3({
        doStream: async () => {
          throw new Error('failed calling https://internal.example/v1 with key sk-secret');
        },
      }),
    };
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events).toEqual([{ type: 'error', message: 'The model failed to answer.', cause: expect.any(Error) }]);
  });

  it('does not call the model when the signal is already aborted', { timeout: 5_000 }, async () => {
    const model = modelStreaming([finish]);
    const controller = new AbortController();
    controller.abort();
    expect(await collect(streamAnswer({ model, input, signal: controller.signal }))).toEqual([]);
    expect((model.model as MockLanguageModelV3).doStreamCalls).toHaveLength(0);
  });

  it('aborts the model call when the consumer stops iterating', { timeout: 5_000 }, async () => {
    let modelSignal: AbortSignal | undefined;
    const model = {
      id: 'mock',
      model: new MockLanguageModelV3({
        doStream: async (options) => {
          modelSignal = options.abortSignal;
          return {
            // Never finishes on its own, like a provider still streaming.
            stream: new ReadableStream<LanguageModelV3StreamPart>({
              start(controller) {
                controller.enqueue({ type: 'text-start', id: 't' });
                controller.enqueue(delta('first'));
              },
            }),
          };
        },
      }),
    };
    for await (const event of streamAnswer({ model, input, signal: new AbortController().signal })) {
      expect(event).toEqual({ type: 'delta', text: 'first' });
      break;
    }
    expect(modelSignal?.aborted).toBe(true);
  });

  it('answerEvents: a consumer that throws stops the answer and gets its own error back, not a model error', { timeout: 5_000 }, async () => {
    const { model, cancelled } = modelFallingSilent('first');
    const seen: AnswerEvent[] = [];
    const failure = new Error('the consumer failed');
    const run = answerEvents({ model, input, signal: new AbortController().signal }, (event) => {
      seen.push(event);
      throw failure;
    });
    await expect(run).rejects.toBe(failure);
    expect(seen).toEqual([{ type: 'delta', text: 'first' }]);
    expect(cancelled()).toBe(true);
  });

  it('sends the system prompt, then the turns as plain text parts in the provider’s format', { timeout: 5_000 }, async () => {
    const model = modelStreaming([{ type: 'text-start', id: 't' }, delta('ok'), finish]);
    const history = buildModelInput({
      reportTitle: 'T',
      reportContent: 'The report.',
      history: [
        { role: 'user' as const, content: 'first question' },
        { role: 'assistant' as const, content: 'first answer' },
      ],
      question: 'second question',
      maxTokens: 10_000,
    });
    await collect(streamAnswer({ model, input: history, signal: new AbortController().signal }));
    const call = (model.model as MockLanguageModelV3).doStreamCalls[0]!;
    expect(call.prompt).toEqual([
      { role: 'system', content: renderPrompt(history).prompt[0]!.content },
      { role: 'user', content: [{ type: 'text', text: history.messages[0]!.content }] },
      { role: 'assistant', content: [{ type: 'text', text: 'first answer' }] },
      { role: 'user', content: [{ type: 'text', text: history.messages[2]!.content }] },
    ]);
    expect(call.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('describes an HTTP error of the model call by its status only', { timeout: 5_000 }, async () => {
    const failure = new APICallError({
      message: 'Internal error at https://api.example.com/v1?key=sk-secret',
      url: 'https://api.example.com/v1',
      requestBodyValues: {},
      statusCode: 500,
    });
    const model = {
      id: 'mock',
      model: new MockLanguageModelV3({
        doStream: async () => {
          throw failure;
        },
      }),
    };
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events).toEqual([{ type: 'error', message: 'The model provider returned an error (HTTP 500).', cause: failure }]);
  });

  it('fails with "The model stopped responding." when the stream ends part-way without a finish', { timeout: 5_000 }, async () => {
    const model = modelStreaming([{ type: 'text-start', id: 't' }, delta('Half an ans')]);
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events).toEqual([
      { type: 'delta', text: 'Half an ans' },
      { type: 'error', message: 'The model stopped responding.', cause: expect.any(Error) },
    ]);
  });

  it('fails without a finish when the stream ends with nothing in it', { timeout: 5_000 }, async () => {
    const model = modelStreaming([{ type: 'stream-start', warnings: [] }]);
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal }));
    expect(events).toEqual([{ type: 'error', message: 'The model failed to answer.', cause: expect.any(Error) }]);
  });

  it('times out a model call that never returns, and cancels the stream it returns late', { timeout: 5_000 }, async () => {
    let cancelled = false;
    let respond!: () => void;
    const model = {
      id: 'mock',
      model: new MockLanguageModelV3({
        doStream: async () => {
          await new Promise<void>((resolve) => (respond = resolve));
          const stream = new ReadableStream<LanguageModelV3StreamPart>({
            cancel() {
              cancelled = true;
            },
          });
          return { stream };
        },
      }),
    };
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal, idleTimeoutMs: 50 }));
    expect(events).toEqual([{ type: 'error', message: 'The model stopped responding.', cause: expect.any(Error) }]);
    respond();
    await expect.poll(() => cancelled).toBe(true);
  });

  it('fails with "The model stopped responding." when the model goes silent mid-answer, and cancels its stream', { timeout: 5_000 }, async () => {
    // A provider that ignores the abort signal: only cancelling its stream ends the wait.
    const { model, cancelled } = modelFallingSilent('Half');
    const started = performance.now();
    const events = await collect(streamAnswer({ model, input, signal: new AbortController().signal, idleTimeoutMs: 60 }));
    expect(events).toEqual([
      { type: 'delta', text: 'Half' },
      { type: 'error', message: 'The model stopped responding.', cause: expect.any(Error) },
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(cancelled()).toBe(true);
  });

  it('keeps the idle clock still while the consumer handles a delta', { timeout: 5_000 }, async () => {
    const model = modelStreaming([{ type: 'text-start', id: 't' }, delta('a'), delta('b'), finish]);
    const events: AnswerEvent[] = [];
    for await (const event of streamAnswer({ model, input, signal: new AbortController().signal, idleTimeoutMs: 40 })) {
      events.push(event);
      await new Promise((resolve) => setTimeout(resolve, 80)); // a slow consumer is not a silent model
    }
    expect(events.map((e) => e.type)).toEqual(['delta', 'delta', 'finish']);
  });

  it('cancels the model’s stream when the caller aborts mid-answer', { timeout: 5_000 }, async () => {
    const { model, cancelled } = modelFallingSilent('first');
    const controller = new AbortController();
    const events = await collect(
      (async function* () {
        for await (const event of streamAnswer({ model, input, signal: controller.signal })) {
          yield event;
          controller.abort(); // the stream has nothing more; only the abort can end this answer
        }
      })(),
    );
    expect(events).toEqual([{ type: 'delta', text: 'first' }]);
    expect(cancelled()).toBe(true);
  });
});
