import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import { upsertMember, removeMember } from '../store/members.js';
import { finishAnswer, reserveTurn } from '../store/turns.js';
import type { MessageRow } from '../store/types.js';
import { createUser } from '../store/users.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { seedReport, turnInput } from '../../test/support/fixtures.js';
import type { ChatContext } from './context.js';
import { createChatContext } from './create-context.js';
import type { EventFeed } from './event-feed.js';
import { followConversation, openConversation, type ConversationEvent } from './follow-conversation.js';
import { sendMessage } from './send-message.js';

let db: TestDatabase;
let ctx: ChatContext;
const credential = { kind: 'token', id: randomUUID() } as const;

beforeAll(async () => {
  db = await createTestDatabase();
  // A slow local model, so an answer is still streaming while a test follows it; an access check only when asked.
  const config = loadConfig({ DATABASE_URL: db.url, LOCAL_MODEL_CHUNK_DELAY_MS: '40', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_PER_DAY: '0' });
  ctx = createChatContext({ config, sql: db.sql, log: createLogger({ level: 'silent' }), tuning: { accessCheckMs: 3_600_000 } });
});
afterAll(async () => {
  await ctx?.engine.shutdown();
  await db?.drop();
});

/**
 * Takes events until `enough` says so, the feed ends, or `ms` pass; the feed stays open (after a timeout with a
 * `next()` pending, which takes the next event: call only `close()` after that).
 */
async function take(feed: EventFeed<ConversationEvent>, enough: (events: ConversationEvent[]) => boolean, ms = 5_000) {
  const events: ConversationEvent[] = [];
  const deadline = Date.now() + ms;
  while (!enough(events)) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    const next = await Promise.race([feed.next(), timeout]);
    clearTimeout(timer);
    if (next === 'timeout' || next.done) break;
    events.push(next.value);
  }
  return events;
}

const messagesIn = (events: ConversationEvent[]) => events.flatMap((e) => (e.type === 'message' ? [e.message] : []));

async function reserve(conversationId: string) {
  const r = await reserveTurn(db.sql, turnInput(conversationId));
  return [r.userMessage, r.assistantMessage];
}

describe('followConversation', () => {
  it('resumed from a version, gives every message changed after it, in version order, then live ones', async () => {
    const { userId, reportId, conversationId } = await seedReport(db.sql);
    const target = { reportId, conversationId, userId };
    const [, firstAnswer] = await reserve(conversationId);
    const since = firstAnswer!.changedVersion;
    const second = await reserve(conversationId);
    // An older message changed after `since` comes too, at its new version.
    const finished = await finishAnswer(db.sql, {
      conversationId,
      seq: firstAnswer!.seq,
      owner: 'owner-a',
      status: 'complete',
      content: 'done',
      error: null,
    });
    const feed = followConversation(ctx, target, { since, credential });
    const live = await reserve(conversationId);
    for (const message of live) ctx.bus.publish({ type: 'message', conversationId, message });
    const events = await take(feed, (evs) => messagesIn(evs).length >= 5);
    feed.close();

    const got = messagesIn(events);
    expect(got.map((m) => m.id)).toEqual([...second, finished.message, ...live].map((m) => m.id));
    const versions = got.map((m) => m.changedVersion);
    expect(versions.every((v, i) => v > since && (i === 0 || v > versions[i - 1]!))).toBe(true);
  });

  it('sends no version twice across the seam between the resume read and live events', async () => {
    const { userId, reportId, conversationId } = await seedReport(db.sql);
    const before = await reserve(conversationId);
    const since = before[1]!.changedVersion;
    const resumed = await reserve(conversationId);
    const feed = followConversation(ctx, { reportId, conversationId, userId }, { since, credential });
    // Published while the resume read runs: versions the read also returns, and one it may not.
    for (const message of [...before, ...resumed]) ctx.bus.publish({ type: 'message', conversationId, message });
    const later = await reserve(conversationId);
    for (const message of [...later, ...resumed]) ctx.bus.publish({ type: 'message', conversationId, message });
    const events = await take(feed, (evs) => messagesIn(evs).some((m) => m.id === later[1]!.id));
    // Anything still queued would be a repeat.
    const more = await take(feed, () => false, 300);
    feed.close();

    const versions = messagesIn([...events, ...more]).map((m) => m.changedVersion);
    expect(versions).toEqual([...resumed, ...later].map((m) => m.changedVersion));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('skips the deltas a resumed streaming answer already holds, so the next one applies at its offset', async () => {
    const { userId, reportId, conversationId } = await seedReport(db.sql, '# Report\n\n' + 'Findings about the pool. '.repeat(40));
    const [, earlier] = await reserve(conversationId);
    const since = earlier!.changedVersion;
    await finishAnswer(db.sql, { conversationId, seq: earlier!.seq, owner: 'owner-a', status: 'complete', content: 'ok', error: null });
    const turn = await sendMessage(ctx, { id: userId, email: null, name: null }, { where: { reportId }, messageId: randomUUID(), content: 'Explain' });
    const answerId = turn.assistantMessage.id;
    const live = ctx.engine.liveTurn(answerId)!;
    for (let i = 0; i < 100 && live.text.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(live.text.length).toBeGreaterThan(0);

    const feed = followConversation(ctx, { reportId, conversationId, userId }, { since, credential });
    // Text the resumed answer already holds, heard late (held while the read ran): it must not be sent again.
    ctx.bus.publish({ type: 'delta', conversationId, messageId: answerId, offset: 0, text: live.text.slice(0, 1) });
    const events = await take(feed, (evs) => messagesIn(evs).some((m) => m.id === answerId && m.status === 'complete'), 30_000);

    let text: string | undefined;
    for (const e of events) {
      if (e.type === 'message' && e.message.id === answerId && text === undefined) text = e.message.content;
      else if (e.type === 'delta' && e.messageId === answerId) {
        expect(e.offset).toBe(text!.length);
        text += e.text;
      }
    }
    feed.close();
    const final = messagesIn(events).find((m) => m.id === answerId && m.status === 'complete') as MessageRow;
    expect(text).toBe(final.content);
  });

  it('ends when the reader is removed, or loses access as the access check finds', async () => {
    const { reportId } = await seedReport(db.sql);
    const reader = await createUser(db.sql, { email: `r-${randomUUID()}@example.test`, name: null, passwordHash: null });
    await upsertMember(db.sql, reportId, reader.id, 'viewer');
    const caller = { id: reader.id, email: reader.email, name: null };

    const removed = (await openConversation(ctx, caller, { reportId })).follow({ credential });
    const { conversation } = await openConversation(ctx, caller, { reportId });
    ctx.bus.publish({ type: 'revoked', conversationId: conversation.id, userId: randomUUID() });
    ctx.bus.publish({ type: 'revoked', conversationId: conversation.id, userId: reader.id });
    expect(await take(removed, () => false)).toEqual([{ type: 'end', reason: 'revoked' }]);

    const other = (await openConversation(ctx, caller, { reportId })).follow({ credential });
    // Caught up (the watch starts then), and not ended by anything else.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(other.done).toBe(false);
    await removeMember(db.sql, reportId, reader.id);
    await ctx.access.checkNow();
    expect(await take(other, () => false)).toEqual([{ type: 'end', reason: 'access-lost' }]);
    expect(ctx.bus.size()).toBe(0);
  });
});
