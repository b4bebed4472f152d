import type { MessageRow, StoredSource } from '../store/types.js';
import { EventFeed } from './event-feed.js';
import type { SentTurn } from './send-message.js';

/**
 * One turn's answer as a sender follows it, in order: `start` (the turn as stored), the answer's text as `delta`s,
 * each cited `source` once, after the delta that holds its `[n]` marker, then `end` with the final answer. The
 * joined deltas equal the final content and the sources its sources.
 */
export type TurnStreamEvent =
  | { type: 'start'; userMessage: MessageRow; assistantMessage: MessageRow }
  | { type: 'delta'; text: string }
  | { type: 'source'; source: StoredSource }
  /** `saved`: the final answer was committed; `error`: why the model failed, when it did. */
  | { type: 'end'; saved: boolean; message: MessageRow; error: string | undefined };

/**
 * Follows a sent turn's answer wherever it is generated. Closing the feed (the client left) stops only this
 * follower: the answer goes on and is stored.
 */
export function streamTurn(turn: SentTurn): EventFeed<TurnStreamEvent> {
  const feed = new EventFeed<TurnStreamEvent>();
  feed.push({ type: 'start', userMessage: turn.userMessage, assistantMessage: turn.assistantMessage });
  const sent = new Set<number>();
  const delta = (text: string) => {
    if (text) feed.push({ type: 'delta', text });
  };
  const source = (s: StoredSource) => {
    if (sent.has(s.n)) return;
    sent.add(s.n);
    feed.push({ type: 'source', source: s });
  };
  // Deltas and sources that arrive before what there is so far is pushed wait, so the stream is never out of order.
  const early: Array<{ delta: string } | { source: StoredSource }> = [];
  let caughtUp = false;
  const run = async () => {
    const following = await turn.follow(
      (text) => (caughtUp ? delta(text) : early.push({ delta: text })),
      (s) => (caughtUp ? source(s) : early.push({ source: s })),
    );
    feed.onEnd(() => following.unsubscribe());
    delta(following.textSoFar);
    for (const s of following.sourcesSoFar) source(s);
    for (const item of early) {
      if ('delta' in item) delta(item.delta);
      else source(item.source);
    }
    caughtUp = true;
    const outcome = await following.done;
    // Sources this follower did not hear of live (an answer generated on another instance) come with the final message.
    for (const s of outcome.message.sources) source(s);
    const { message } = outcome;
    const error = message.status === 'failed' ? (message.error ?? 'The model failed to answer.') : undefined;
    feed.push({ type: 'end', saved: outcome.saved, message, error });
    feed.finish();
  };
  run().catch((err: unknown) => feed.fail(err));
  return feed;
}
