import { readMessage } from '../store/history.js';
import type { MessageRow, StoredSource } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import type { ChatContext } from './context.js';
import type { TurnOutcome } from './live-turn.js';

export interface Following {
  /** The answer's text before the first delta this follower receives. */
  textSoFar: string;
  /**
   * The sources known before the first source this follower receives. A follower of an answer generated elsewhere
   * hears of later sources only with the final message (`done`): the bus carries text, not sources.
   */
  sourcesSoFar: StoredSource[];
  done: Promise<TurnOutcome>;
  unsubscribe(): void;
}

const POLL_MS = 1_000;

/**
 * Follows an answer wherever it is generated: the exact live state when this process generates it, the bus
 * (deltas by offset, then the final message) otherwise, and the stored row when it is already over. The text
 * given as `textSoFar` plus every delta delivered always equals the final content.
 */
export async function followTurn(
  ctx: ChatContext,
  answer: MessageRow,
  onDelta: (text: string) => void,
  onSource: (source: StoredSource) => void = () => {},
): Promise<Following> {
  const live = ctx.engine.liveTurn(answer.id);
  if (live) {
    const f = live.follow((event) => {
      if (event.type === 'delta') onDelta(event.text);
      else if (event.type === 'source') onSource(event.source);
    });
    return { textSoFar: f.textSoFar, sourcesSoFar: f.sourcesSoFar, done: live.done, unsubscribe: f.unsubscribe };
  }
  if (isTerminal(answer.status)) {
    return over(answer);
  }
  return followRemote(ctx, answer, onDelta);
}

async function followRemote(ctx: ChatContext, answer: MessageRow, onDelta: (text: string) => void): Promise<Following> {
  let sent = '';
  let ready = false;
  let finished = false;
  let finalSeenEarly: MessageRow | undefined;
  let settle!: (outcome: TurnOutcome) => void;
  const done = new Promise<TurnOutcome>((resolve) => {
    settle = resolve;
  });
  const finishWith = (message: MessageRow) => {
    if (finished) return;
    finished = true;
    cleanup();
    // Its owner died after streaming text it never saved (the sweeper kept its last checkpoint): what this client
    // was shown is not what is stored, so it must not hear `saved`, and keeps the text it has (as the owner's own
    // followers do when their final commit fails).
    if (!message.content.startsWith(sent)) return settle({ saved: false, message: { ...message, content: sent } });
    // Deltas we missed (a gap in offsets) are delivered here, so the joined text equals the final content.
    if (message.content.length > sent.length) onDelta(message.content.slice(sent.length));
    settle({ saved: true, message });
  };
  // Subscribe before reading, so nothing that happens between the read and the subscription is lost.
  const unsubscribeBus = ctx.bus.subscribe(answer.conversationId, (event) => {
    if (finished) return;
    if (event.type === 'message' && event.message.id === answer.id && isTerminal(event.message.status)) {
      if (ready) finishWith(event.message);
      else finalSeenEarly = event.message;
    } else if (ready && event.type === 'delta' && event.messageId === answer.id && event.offset === sent.length) {
      sent += event.text;
      onDelta(event.text);
    }
  });
  // A missed notification (another instance, a dropped connection) must not leave a follower waiting forever.
  const poll = setInterval(() => {
    readMessage(ctx.sql, answer.conversationId, answer.id)
      .then((row) => {
        if (ready && row && isTerminal(row.status)) finishWith(row);
      })
      .catch((err: unknown) => ctx.log.warn({ err, messageId: answer.id }, 'follower poll failed'));
  }, POLL_MS);
  const cleanup = () => {
    clearInterval(poll);
    unsubscribeBus();
  };
  let stored: MessageRow;
  try {
    stored = (await readMessage(ctx.sql, answer.conversationId, answer.id)) ?? answer;
  } catch (err) {
    cleanup();
    throw err;
  }
  const final = finalSeenEarly ?? (isTerminal(stored.status) ? stored : undefined);
  if (final) {
    finished = true;
    cleanup();
    return over(final);
  }
  sent = stored.content;
  ready = true;
  return {
    textSoFar: stored.content,
    // Those saved with its last checkpoint; the rest come with the final message.
    sourcesSoFar: stored.sources,
    done,
    unsubscribe: () => {
      finished = true;
      cleanup();
    },
  };
}

/** An answer already over: everything it has, at once. */
function over(answer: MessageRow): Following {
  return {
    textSoFar: answer.content,
    sourcesSoFar: answer.sources,
    done: Promise.resolve({ saved: true, message: answer }),
    unsubscribe: () => {},
  };
}
