import { api } from '../api/client.js';
import { describeError, isAbort, isRetryable } from '../api/errors.js';
import { readTurnStream } from '../api/turn-stream.js';
import type { ConversationRef, Message, TurnStreamEvent } from '../api/types.js';
import type { ChatMessage } from './chat-message.js';
import { pause } from './pause.js';
import { backoffDelay } from '../../backoff.js';

/**
 * Sends one question and follows its answer on this tab's own stream. The question's id is its idempotency
 * key: every attempt (a network retry, a stream that broke, a person's "retry") sends the same id and content,
 * so the server stores the turn once and replays it to later attempts.
 */
export interface TurnHost {
  readonly conversation: ConversationRef;
  readonly signal: AbortSignal;
  stored(message: Message): void;
  /** The whole answer text so far, from this stream. */
  answerText(assistantId: string, text: string): void;
  unsaved(message: Message | ChatMessage, reason: string): void;
  sendFailed(userId: string, reason: string): void;
  /** The server refused the question (what it said is also the reason given to `sendFailed` or `unsaved`). */
  refused(err: unknown): void;
  /** True when the server already showed this answer stored in a terminal status (through the events stream). */
  storedFinal(assistantId: string): boolean;
  current(assistantId: string): ChatMessage | undefined;
}

export interface RunningTurn {
  readonly userId: string;
  assistantId: string | undefined;
}

const MAX_ATTEMPTS = 4;
const backoffMs = (attempt: number) => backoffDelay(attempt, { base: 800, jitter: 'none' });

const SAVE_FAILED = 'The answer could not be saved: the server could not store it. Its text is shown as it was received.';
const STREAM_BROKE = 'The connection broke before the answer was saved.';

type Attempt = { kind: 'done' } | { kind: 'retry'; reason: string };

export async function runTurn(host: TurnHost, turn: RunningTurn, content: string): Promise<void> {
  let reason = '';
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0 && !(await pause(backoffMs(attempt - 1), host.signal))) return;
    const result = await sendOnce(host, turn, content);
    if (result.kind === 'done') return;
    reason = result.reason;
  }
  const answer = turn.assistantId ? host.current(turn.assistantId) : undefined;
  if (answer) host.unsaved(answer, reason);
  else host.sendFailed(turn.userId, reason);
}

async function sendOnce(host: TurnHost, turn: RunningTurn, content: string): Promise<Attempt> {
  let res: AsyncIterable<TurnStreamEvent>;
  try {
    res = await api.sendMessage(host.conversation, { id: turn.userId, content }, host.signal);
  } catch (err) {
    if (isAbort(err)) return { kind: 'done' };
    // The same id is safe to send again, and finds the stored turn if there is one.
    if (isRetryable(err)) return { kind: 'retry', reason: err.message };
    // The server refused the question (too long, rate limited, no longer allowed…): it was not stored.
    host.refused(err);
    const answer = turn.assistantId ? host.current(turn.assistantId) : undefined;
    if (answer) host.unsaved(answer, describeError(err));
    else host.sendFailed(turn.userId, describeError(err));
    return { kind: 'done' };
  }
  let text = '';
  let end;
  try {
    end = await readTurnStream(
      res,
      {
        onTurn(userMessage, assistantMessage) {
          turn.assistantId = assistantMessage.id;
          host.stored(userMessage);
          host.stored(assistantMessage);
        },
        onDelta(delta) {
          text += delta;
          if (turn.assistantId) host.answerText(turn.assistantId, text);
        },
        onModelError() {
          // The final message (status failed, with its error) follows in data-saved.
        },
        onSaved(saved, message) {
          if (saved) host.stored(message);
          else host.unsaved(message, SAVE_FAILED);
        },
      },
      host.signal,
    );
  } catch (err) {
    if (isAbort(err)) return { kind: 'done' };
    throw err;
  }
  if (end.sawSaved) return { kind: 'done' };
  if (turn.assistantId && host.storedFinal(turn.assistantId)) return { kind: 'done' };
  return { kind: 'retry', reason: STREAM_BROKE };
}
