import { api } from '../api/client.js';
import { abortError, ApiError, describeError, isRetryable } from '../api/errors.js';
import type { Conversation } from '../api/types.js';
import { pause } from '../chat/pause.js';
import { backoffDelay } from '../../backoff.js';
import { firstQuestions, type FirstQuestion } from './first-question.js';

/**
 * Editing a question, or regenerating an answer, never changes the conversation: it forks it just before the
 * question (`seq` = the question's seq − 1) and asks the edited, or the same, question in the fork. Two requests,
 * each idempotent by an id chosen once and kept for every retry: the fork's (here) and the question's (sent by the
 * fork's chat, first-question.ts).
 */
export interface ForkPlan {
  reportId: string;
  /** The conversation forked, and the seq its copy ends at. */
  from: { conversationId: string; seq: number };
  /** The source's: a fork of a private conversation must not show its messages to the report's other members. */
  visibility: Conversation['visibility'];
  /** The fork's id: the idempotency key of its creation. */
  id: string;
  question: FirstQuestion;
}

const MAX_ATTEMPTS = 4;
const TITLE_CHARS = 80;

/** The fork's title: the question it was made for, as the list of conversations can show it. */
export function forkTitle(question: string): string {
  const line = question.trim().split('\n', 1)[0]!.trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1).trimEnd()}…`;
}

/**
 * Creates the fork, sending the same body again after an answer that was lost (a replay returns the fork made the
 * first time), and hands its question to the fork's chat. Throws the last error when it cannot. (`create` is the
 * API's, or a test's.)
 */
export async function createFork(plan: ForkPlan, signal: AbortSignal, create = api.createConversation): Promise<Conversation> {
  const body = { id: plan.id, title: forkTitle(plan.question.content), visibility: plan.visibility, forkFrom: plan.from };
  for (let attempt = 0; ; attempt++) {
    try {
      const fork = await create(plan.reportId, body, signal);
      firstQuestions.put(fork.id, plan.question);
      return fork;
    } catch (err) {
      if (!isRetryable(err) || attempt + 1 >= MAX_ATTEMPTS) throw err;
      if (!(await pause(backoffDelay(attempt, { base: 800, jitter: 'none' }), signal))) throw abortError();
    }
  }
}

/** Why a fork was not made, in words. */
export function explainForkError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'conversation_busy') return 'An answer before this point is still being written. Wait for it to end, then try again.';
    if (err.code === 'conversation_limit') return 'You have started as many conversations on this report as it allows. Delete one, then try again.';
    if (err.status === 403) return 'Your role on this report does not allow starting conversations.';
    if (err.status === 404) return 'This conversation is no longer available.';
  }
  return `No branch was made: ${describeError(err)}`;
}
