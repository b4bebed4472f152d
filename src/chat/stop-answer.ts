import { setTimeout as sleep } from 'node:timers/promises';
import { notFound } from '../errors/app-error.js';
import { readMessage, readMessageBySeq } from '../store/history.js';
import { stopQueuedAnswer } from '../store/turns.js';
import type { MessageRow } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import { CHAT_ROLES, requireRole, visibleConversation, type ConversationRef } from './access.js';
import type { Caller, ChatContext } from './context.js';

const STOP_WAIT_MS = 5_000;
const STOP_REPEAT_MS = 250;

/**
 * Stops an answer wherever it is generated: a queued answer is ended here; a streaming one is asked to stop
 * through the bus and its owner saves it as `stopped` with its partial text. Idempotent: a finished answer is
 * returned as it is.
 */
export async function stopAnswer(
  ctx: ChatContext,
  caller: Caller,
  input: { where: ConversationRef; messageId: string },
): Promise<{ reportId: string; message: MessageRow }> {
  const found = await visibleConversation(ctx, caller, input.where);
  const { report } = found;
  requireRole(found, CHAT_ROLES, 'stop answers');
  const conversationId = found.conversation.id;
  let answer = await readMessage(ctx.sql, conversationId, input.messageId);
  if (answer?.role === 'user') answer = await readMessageBySeq(ctx.sql, conversationId, answer.seq + 1);
  if (!answer) throw notFound('message');
  if (isTerminal(answer.status)) return { reportId: report.id, message: answer };

  if (answer.status === 'queued') {
    const stopped = await stopQueuedAnswer(ctx.sql, { conversationId, seq: answer.seq });
    if (stopped) {
      ctx.bus.publish({ type: 'message', conversationId, message: stopped });
      ctx.bus.publish({ type: 'stop', conversationId, messageId: stopped.id });
      return { reportId: report.id, message: stopped };
    }
  }
  // Streaming (or it just started): its owner ends it. Wait a moment for the terminal status to answer with it.
  const id = answer.id;
  let ended: MessageRow | undefined;
  const terminal = new Promise<MessageRow>((resolve) => {
    const unsubscribe = ctx.bus.subscribe(conversationId, (event) => {
      if (event.type === 'message' && event.message.id === id && isTerminal(event.message.status)) {
        unsubscribe();
        ended = event.message;
        resolve(event.message);
      }
    });
    setTimeout(unsubscribe, STOP_WAIT_MS).unref();
  });
  // The request is repeated until the answer ends: an answer that reserveTurn started is `streaming` from its
  // commit, a moment before its owner (which learns of the commit from the acknowledgement) listens for stops, so a
  // single request sent in that moment would be lost. A repeat that reaches an answer already stopping is ignored.
  const stop = () => ctx.bus.publish({ type: 'stop', conversationId, messageId: id });
  stop();
  const repeat = setInterval(() => {
    if (!ended) stop();
  }, STOP_REPEAT_MS);
  try {
    await Promise.race([terminal, sleep(STOP_WAIT_MS)]);
  } finally {
    clearInterval(repeat);
  }
  const message = ended ?? (await readMessage(ctx.sql, conversationId, id)) ?? answer;
  return { reportId: report.id, message };
}
