import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { streamAnswer } from './stream-answer.js';
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

const input = { system: 'system', messages: [{ role: 'user' as const, content: 'q' }], droppedHistory: 0 };

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
      { type: 'finish', inputTokens: 7, outputTokens: 3 },
    ]);
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
});
