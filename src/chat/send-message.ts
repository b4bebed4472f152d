import { randomUUID } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import type { WindowCount } from '../store/rate-limits.js';
import { RateLimited, reserveTurn } from '../store/turns.js';
import type { MessageRow, StoredSource } from '../store/types.js';
import { CHAT_ROLES, requireRole, visibleConversation, type ConversationRef } from './access.js';
import type { Caller, ChatContext } from './context.js';
import { followTurn, type Following } from './follow-turn.js';
import { withPatientRetry } from './patient-retry.js';
import { rateLimitedError, turnLimits } from './rate-limit.js';

export interface SendInput {
  where: ConversationRef;
  /** The client's id for the user message: the idempotency key. */
  messageId: string;
  content: string;
  ifMatch?: number;
}

export interface SentTurn {
  replayed: boolean;
  reportId: string;
  userMessage: MessageRow;
  /**
   * The answer as reserved (`queued`, or `streaming` when nothing was ahead of it and it started at once) or, for a
   * replay, as stored when the replay arrived.
   */
  assistantMessage: MessageRow;
  /** The caller's turn-limit windows after this send (empty for a replay: replays are not counted). */
  limits: WindowCount[];
  /** Starts following the answer; call once. `onSource` hears each source emitted after `sourcesSoFar`. */
  follow(onDelta: (text: string) => void, onSource?: (source: StoredSource) => void): Promise<Following>;
}

/**
 * DESIGN.md "A turn": authorize, then commit the user message and the answer placeholder in one transaction
 * before any model call, then hand the answer to the engine, which runs it whether or not anyone follows.
 */
export async function sendMessage(ctx: ChatContext, caller: Caller, input: SendInput): Promise<SentTurn> {
  const found = await visibleConversation(ctx, caller, input.where);
  const { report } = found;
  const conversationId = found.conversation.id;
  requireRole(found, CHAT_ROLES, 'send messages');
  if (report.status !== 'complete') {
    throw new AppError('report_not_ready', 'This report is not complete yet; chat opens when it is.');
  }
  if (input.content.length > ctx.config.maxMessageChars) {
    throw new AppError('payload_too_large', `A message may hold at most ${ctx.config.maxMessageChars} characters.`);
  }
  // A retry after a lost acknowledgement finds its own turn as a "replay": the idempotency key makes it safe. The
  // retries outlast a database restart: a commit whose acknowledgement was lost must be found before the client is
  // told 503, "nothing was stored" (the torture test caught a quick give-up answering 503 for a stored message).
  const limits = turnLimits(ctx.config, caller.id);
  // One answer id for every attempt of this request: an attempt that did not commit left it unused, and one that
  // did is found again as a replay, recognisable as this request's own by this id.
  const assistantMessageId = randomUUID();
  const reservation = await withPatientRetry(
    () =>
      reserveTurn(ctx.sql, {
        conversationId,
        userMessageId: input.messageId,
        assistantMessageId,
        content: input.content,
        authorId: caller.id,
        ifMatch: input.ifMatch,
        maxMessages: ctx.config.maxMessagesPerConversation,
        leaseOwner: ctx.instanceId,
        leaseMs: ctx.config.turnLeaseMs,
        // Nothing ahead of it: the answer is created streaming under our lease and generated at once.
        start: { model: ctx.engine.modelId },
        limits,
      }),
    'Your message may have been saved, but the database stopped answering before it could be confirmed. ' +
      'Send it again with the same id: it is never stored twice, and you will get its answer.',
  ).catch((err: unknown) => {
    if (err instanceof RateLimited) throw rateLimitedError(err.counts);
    throw err;
  });
  const { userMessage, assistantMessage } = reservation;
  // A turn whose reserve committed but whose acknowledgement was lost: by an earlier attempt of this request (its
  // answer carries the id only this request made), or by a request that gave up on it ("may have been saved") and
  // that the client now sends again. Its answer is leased to this instance, queued or already streaming, and no engine
  // runs it: only this instance's engine could, and it does not. Run it here instead of leaving it to expire. Two
  // requests may both find it so (the client's resend while the first request is still retrying): engine.start
  // runs one answer once, and the second gets the running turn.
  const orphaned =
    reservation.kind === 'replay' &&
    (assistantMessage.status === 'queued' || assistantMessage.status === 'streaming') &&
    assistantMessage.leaseOwner === ctx.instanceId &&
    !ctx.engine.liveTurn(assistantMessage.id);
  if (reservation.kind === 'created' || orphaned) {
    ctx.bus.publish({ type: 'message', conversationId, message: userMessage });
    ctx.bus.publish({ type: 'message', conversationId, message: assistantMessage });
    ctx.engine.start({
      conversationId,
      reportId: report.id,
      reportTitle: report.title,
      // Read in the same row as the content: the revision the answer's sources will point into.
      reportRevision: report.revision,
      reportContent: report.content,
      question: userMessage.content,
      assistant: assistantMessage,
    });
  }
  // The client is told "replayed" unless this request stored the turn (its answer id is this request's).
  const replayed = reservation.kind === 'replay' && assistantMessage.id !== assistantMessageId;
  return {
    replayed,
    reportId: report.id,
    userMessage,
    assistantMessage,
    limits: reservation.kind === 'created' ? reservation.limits : [],
    follow: (onDelta, onSource) => followTurn(ctx, assistantMessage, onDelta, onSource),
  };
}
