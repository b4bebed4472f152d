import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError } from '../api/errors.js';
import type { Conversation, NewConversation } from '../api/types.js';
import { createFork, explainForkError, forkTitle, type ForkPlan } from './fork.js';
import { firstQuestions } from './first-question.js';

const plan: ForkPlan = {
  reportId: 'report-1',
  from: { conversationId: 'source-1', seq: 2 },
  visibility: 'private',
  id: 'fork-1',
  question: { id: 'question-1', content: 'What is the weekend shift proposal?\nAnd its cost?' },
};

const conversation = (id: string) => ({ id }) as Conversation;

/** A server that fails as told, then creates; it records every body it was sent. */
function server(failures: unknown[]) {
  const bodies: NewConversation[] = [];
  const create = (reportId: string, body: NewConversation & { id: string }) => {
    expect(reportId).toBe('report-1');
    bodies.push(structuredClone(body));
    const failure = failures.shift();
    return failure ? Promise.reject(failure) : Promise.resolve(conversation(body.id));
  };
  return { create, bodies };
}

afterEach(() => {
  vi.useRealTimers();
  firstQuestions.done('fork-1');
});

describe('createFork', () => {
  it('sends the same body again after a lost or failed answer, then hands the question to the fork', async () => {
    vi.useFakeTimers();
    const { create, bodies } = server([new NetworkError(new TypeError('reset')), new ApiError(500, 'internal', 'may have been saved')]);
    const made = createFork(plan, new AbortController().signal, create);
    await vi.runAllTimersAsync();
    expect((await made).id).toBe('fork-1');
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size, 'one body, three times').toBe(1);
    expect(bodies[0]).toEqual({
      id: 'fork-1',
      title: 'What is the weekend shift proposal?',
      visibility: 'private',
      forkFrom: { conversationId: 'source-1', seq: 2 },
    });
    expect(firstQuestions.get('fork-1')).toEqual(plan.question);
  });

  it('gives up at once on a refusal, and hands nothing over', async () => {
    const { create, bodies } = server([new ApiError(409, 'conversation_busy', 'busy')]);
    const error = await createFork(plan, new AbortController().signal, create).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiError);
    expect(explainForkError(error)).toMatch(/still being written/);
    expect(bodies).toHaveLength(1);
    expect(firstQuestions.get('fork-1')).toBeUndefined();
  });

  it('stops retrying when the chat goes away', async () => {
    const controller = new AbortController();
    const { create, bodies } = server([new NetworkError(new TypeError('offline'))]);
    const made = createFork(plan, controller.signal, create).catch((err: unknown) => err);
    controller.abort();
    expect(await made).toMatchObject({ name: 'AbortError' });
    expect(bodies).toHaveLength(1);
  });
});

describe('forkTitle', () => {
  it('is the question’s first line, cut to fit a list', () => {
    expect(forkTitle('  Why?\nBecause.')).toBe('Why?');
    const long = forkTitle('x'.repeat(200));
    expect(long).toHaveLength(80);
    expect(long.endsWith('…')).toBe(true);
  });
});
