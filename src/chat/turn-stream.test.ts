import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import { readMessage } from '../store/history.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { SAMPLE_REPORT, seedReport } from '../../test/support/fixtures.js';
import type { ChatContext } from './context.js';
import { createChatContext } from './create-context.js';
import { sendMessage } from './send-message.js';
import { streamTurn, type TurnStreamEvent } from './turn-stream.js';

let db: TestDatabase;
let ctx: ChatContext;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = loadConfig({ DATABASE_URL: db.url, LOCAL_MODEL_CHUNK_DELAY_MS: '5', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_PER_DAY: '0' });
  ctx = createChatContext({ config, sql: db.sql, log: createLogger({ level: 'silent' }) });
});
afterAll(async () => {
  await ctx?.engine.shutdown();
  await db?.drop();
});

async function all(feed: AsyncIterable<TurnStreamEvent>) {
  const events: TurnStreamEvent[] = [];
  for await (const event of feed) events.push(event);
  return events;
}

/** start first, end last, every source once and before the end, and the deltas joined equal the final content. */
function expectWellOrdered(events: TurnStreamEvent[]) {
  expect(events[0]?.type).toBe('start');
  const end = events.at(-1);
  if (end?.type !== 'end') throw new Error(`the last event is ${end?.type}`);
  expect(events.filter((e) => e.type === 'start' || e.type === 'end')).toHaveLength(2);
  const text = events.map((e) => (e.type === 'delta' ? e.text : '')).join('');
  expect(text).toBe(end.message.content);
  const sources = events.flatMap((e) => (e.type === 'source' ? [e.source] : []));
  expect(sources).toEqual(end.message.sources);
  return end;
}

describe('streamTurn', () => {
  it('gives a live answer and its replay in the same order, with the same text and sources', async () => {
    const { userId, reportId } = await seedReport(db.sql, SAMPLE_REPORT);
    const caller = { id: userId, email: null, name: null };
    const input = { where: { reportId }, messageId: randomUUID(), content: 'Why was the pool exhausted?' };
    const live = expectWellOrdered(await all(streamTurn(await sendMessage(ctx, caller, input))));
    expect(live).toMatchObject({ saved: true, error: undefined, message: { status: 'complete' } });
    expect(live.message.sources.length).toBeGreaterThan(0);

    const replay = await sendMessage(ctx, caller, input);
    expect(replay.replayed).toBe(true);
    const replayed = expectWellOrdered(await all(streamTurn(replay)));
    expect(replayed.message).toEqual(live.message);
  });

  it('stops only its follower when closed: the answer goes on and is stored', async () => {
    const { userId, reportId, conversationId } = await seedReport(db.sql, SAMPLE_REPORT);
    const turn = await sendMessage(ctx, { id: userId, email: null, name: null }, { where: { reportId }, messageId: randomUUID(), content: 'Explain' });
    const feed = streamTurn(turn);
    const seen: TurnStreamEvent[] = [];
    for await (const event of feed) {
      seen.push(event);
      if (event.type === 'delta') break;
    }
    expect(feed.done).toBe(true);
    let stored = await readMessage(db.sql, conversationId, turn.assistantMessage.id);
    for (let i = 0; i < 200 && stored?.status === 'streaming'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      stored = await readMessage(db.sql, conversationId, turn.assistantMessage.id);
    }
    expect(stored?.status).toBe('complete');
    expect(stored?.content.startsWith(seen.map((e) => (e.type === 'delta' ? e.text : '')).join(''))).toBe(true);
  });
});
