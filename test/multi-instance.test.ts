import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/chat/accounts.js';
import type { ChatContext } from '../src/chat/context.js';
import { createChatContext } from '../src/chat/create-context.js';
import type { PgBusOptions, PgEventBus } from '../src/chat/pg-bus.js';
import { startSweeper } from '../src/chat/sweeper.js';
import { loadConfig } from '../src/config/config.js';
import { createApp } from '../src/http/app.js';
import { messageSchema } from '../src/api/schemas.js';
import { createLogger } from '../src/log/logger.js';
import type { Sql } from '../src/store/db.js';
import { reserveTurn, startAnswer } from '../src/store/turns.js';
import { startFakeOpenAI, type FakeProviderServer } from './fakes/fake-openai-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, collectUntil, readSse, requestVia, type SseEvent } from './support/test-app.js';

/**
 * Two instances of the service on one database, in one process: each has its own connection pool, PostgreSQL event
 * bus (its own listening connection), turn engine and sweeper, as two processes would. They share nothing else.
 */
interface Instance {
  ctx: ChatContext;
  bus: PgEventBus;
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

let db: TestDatabase;
let fake: FakeProviderServer;
let sqlB: Sql;
let a: Instance;
let b: Instance;
let token: string;
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const CHUNKS = Array.from({ length: 10 }, (_, i) => `part${i} `);
const LONG = Array.from({ length: 300 }, (_, i) => `s${i} `);

function configFor() {
  return loadConfig({
    DATABASE_URL: db.url,
    DATABASE_DIRECT_URL: db.directUrl,
    ADMIN_TOKEN,
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
    LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: fake.baseUrl,
    LLM_MODEL: 'fake-model',
  });
}

function instance(ctx: ChatContext, sweeps = true): Instance {
  const stopSweeper = sweeps ? startSweeper(ctx, 200) : () => {};
  const { app } = createApp({ ctx, adminTokenHash: hashToken(ADMIN_TOKEN) });
  return {
    ctx,
    bus: ctx.bus as PgEventBus,
    request: requestVia(app),
    async close() {
      stopSweeper();
      await ctx.engine.shutdown();
      await ctx.bus.close?.();
    },
  };
}

/** Instance A: wired as src/server.ts wires it. */
function startA(): Instance {
  return instance(createChatContext({ config: configFor(), sql: db.sql, log, instanceId: `a-${randomUUID().slice(0, 8)}`, databaseUrl: db.directUrl }));
}

/**
 * Instance B: the same parts, with the queue's fallback poll at a minute, so that an answer waiting behind one on A
 * can only start promptly if A's notification woke it; a slow reconnect, so a test can act while it is away; and no
 * sweeper, so only A's can end the answers of an instance that died.
 */
function startB(sql: Sql, bus: Pick<PgBusOptions, 'resyncMs' | 'reconnectBackoffMs'>): Instance {
  const instanceId = `b-${randomUUID().slice(0, 8)}`;
  const ctx = createChatContext({ config: configFor(), sql, log, instanceId, databaseUrl: db.directUrl, tuning: { queuePollMs: 60_000, bus } });
  return instance(ctx, false);
}

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOpenAI({ behavior: { chunks: CHUNKS, chunkDelayMs: 20 } });
  sqlB = db.connect({ max: 6, applicationName: 'report-chat-test-b' });
  a = startA();
  // B re-reads after a reconnect only: no periodic version check, so the reconnect test shows the reconnect works.
  b = startB(sqlB, { resyncMs: 3_600_000, reconnectBackoffMs: { min: 3_000, max: 3_000 } });
  await Promise.all([a.bus.ready, b.bus.ready]);
  const res = await a.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email: `u-${randomUUID()}@example.com` } });
  token = ((await res.json()) as { token: string }).token;
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await sqlB?.end({ timeout: 5 });
  await fake?.close();
  await db?.drop();
});

async function createReport(on: Instance): Promise<string> {
  const res = await on.request('/api/reports', { method: 'POST', token, json: { title: 'A report', content: '# Findings\n\nThe cache was cold.' } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const messagesOf = (events: SseEvent[]) =>
  events.filter((e) => e.event === 'message').map((e) => ({ version: Number(e.id), m: messageSchema.parse(JSON.parse(e.data)) }));
const hasFinal = (id: () => string | undefined) => (events: SseEvent[]) =>
  messagesOf(events).some(({ m }) => m.id === id() && m.status !== 'queued' && m.status !== 'streaming');

type StreamEvent = { type: string; delta?: string; data?: { saved?: boolean; message?: { id: string; status: string; content: string }; assistantMessage?: { id: string } } };

describe('two instances on one database', () => {
  it("an events subscriber on B sees A's turn: its messages and every delta, and the final content", async () => {
    const reportId = await createReport(a);
    const subscriber = readSse(await b.request(`/api/reports/${reportId}/events?after=0`, { token }));
    await sleep(50);
    const sent = readSse(await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Explain' } }));
    const senderEvents = (await sent.all()) as StreamEvent[];
    const answerId = (senderEvents.find((e) => e.type === 'start') as unknown as { messageId: string }).messageId;
    const events = await collectUntil(subscriber, hasFinal(() => answerId));
    await subscriber.stop();

    const messages = messagesOf(events);
    // In version order, never repeating one; the question first, the answer's final state last.
    for (let i = 1; i < messages.length; i++) expect(messages[i]!.version).toBeGreaterThan(messages[i - 1]!.version);
    expect(messages[0]!.m).toMatchObject({ seq: 1, role: 'user', content: 'Explain' });
    const final = messages.at(-1)!.m;
    expect(final).toMatchObject({ id: answerId, seq: 2, status: 'complete', content: CHUNKS.join('') });
    // The question (1), the answer created streaming (2: nothing was ahead of it), its final content (3).
    expect(messages.at(-1)!.version).toBe(3);
    const deltas = events.filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data) as { id: string; offset: number; text: string });
    // Every delta, in order (deltas sent while a NOTIFY is on its way travel merged, so count characters, not events).
    expect(deltas.map((d) => d.text).join('')).toBe(CHUNKS.join(''));
    let offset = 0;
    for (const d of deltas) {
      expect(d).toMatchObject({ id: answerId, offset });
      offset += d.text.length;
    }
    expect(senderEvents.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('')).toBe(final.content);
  });

  it('a stop sent to B stops the answer streaming on A', async () => {
    const reportId = await createReport(a);
    fake.setBehavior({ chunks: LONG, chunkDelayMs: 20 });
    try {
      const sent = readSse(await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Go on' } }));
      const head: StreamEvent[] = [];
      while (head.filter((e) => e.type === 'text-delta').length < 5) head.push(JSON.parse((await sent.next())!.data) as StreamEvent);
      const answerId = head.find((e) => e.type === 'data-turn')!.data!.assistantMessage!.id;
      expect(a.ctx.engine.liveTurn(answerId)).toBeDefined(); // generated on A

      const askedAt = Date.now();
      const res = await b.request(`/api/reports/${reportId}/messages/${answerId}/stop`, { method: 'POST', token });
      expect(res.status).toBe(200);
      const stopped = messageSchema.parse(((await res.json()) as { message: unknown }).message);
      // B answers with the stopped message as soon as A saved it (B gives up waiting after 5 s).
      expect(Date.now() - askedAt).toBeLessThan(4_000);
      expect(stopped.status).toBe('stopped');

      const rest = (await sent.all()) as Array<StreamEvent | string>;
      const all = [...head, ...rest.filter((e): e is StreamEvent => typeof e !== 'string')];
      const saved = all.find((e) => e.type === 'data-saved')!.data!;
      const streamed = all.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('');
      expect(saved.saved).toBe(true);
      expect(saved.message).toMatchObject({ id: answerId, status: 'stopped', content: streamed });
      expect(stopped.content).toBe(streamed);
      expect(streamed.length).toBeLessThan(LONG.join('').length);
    } finally {
      fake.setBehavior({ chunks: CHUNKS, chunkDelayMs: 20 });
    }
  });

  it("an answer queued on B behind one streaming on A starts as soon as A's ends, woken by its notification", async () => {
    const reportId = await createReport(a);
    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    // Long enough (60 chunks, 40 ms apart) that B's question is queued while A's answer is still streaming.
    fake.setBehavior({ chunks: Array.from({ length: 6 }, () => CHUNKS).flat(), chunkDelayMs: 40 });
    try {
      // What B's engine sees, on B's clock: when A's answer (seq 2) ended, when B's own answer (seq 4) was queued
      // and started. By seq, not id: A's answer can reach B before this test has read its id from A's stream.
      let firstEnded: { at: number; version: number } | undefined;
      let secondQueuedVersion: number | undefined;
      let secondStartedAt: number | undefined;
      const unsubscribe = b.bus.subscribe(conv!.id, (e) => {
        if (e.type !== 'message' || e.message.role !== 'assistant') return;
        const { seq, status, changedVersion } = e.message;
        if (seq === 2 && status === 'complete') firstEnded ??= { at: performance.now(), version: changedVersion };
        if (seq === 4 && status === 'queued') secondQueuedVersion ??= changedVersion;
        if (seq === 4 && status === 'streaming') secondStartedAt ??= performance.now();
      });
      const first = readSse(await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'First' } }));
      const head: StreamEvent[] = [];
      while (!head.some((e) => e.type === 'text-delta')) head.push(JSON.parse((await first.next())!.data) as StreamEvent);

      const second = await b.request(`/api/reports/${reportId}/messages`, {
        method: 'POST',
        token,
        json: { id: randomUUID(), content: 'Second' },
        headers: { accept: 'application/json' },
      });
      await first.all();
      const body = (await second.json()) as { saved: boolean; assistantMessage: { status: string; seq: number } };
      unsubscribe();
      expect(body.saved).toBe(true);
      expect(body.assistantMessage).toMatchObject({ status: 'complete', seq: 4 });
      expect(firstEnded).toBeDefined();
      expect(secondStartedAt).toBeDefined();
      // B's answer really waited: it was queued before A's ended.
      expect(secondQueuedVersion).toBeLessThan(firstEnded!.version);
      // B's fallback poll is a minute: only A's notification can have started it this soon.
      expect(secondStartedAt! - firstEnded!.at).toBeGreaterThanOrEqual(0);
      expect(secondStartedAt! - firstEnded!.at).toBeLessThan(2_000);
    } finally {
      fake.setBehavior({ chunks: CHUNKS, chunkDelayMs: 20 });
    }
  });

  it("an answer queued on B behind one whose instance died proceeds when A's sweeper ends that one", async () => {
    const reportId = await createReport(a);
    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    const conversationId = conv!.id;
    // An instance took a turn, started its answer and died: its lease runs out in a second and a half.
    const dead = await reserveTurn(db.sql, {
      conversationId,
      userMessageId: randomUUID(),
      assistantMessageId: randomUUID(),
      content: 'Q',
      maxMessages: 1_000,
      leaseOwner: 'dead-instance',
      leaseMs: 1_500,
    });
    await startAnswer(db.sql, { conversationId, seq: dead.assistantMessage.seq, owner: 'dead-instance', leaseMs: 1_500, model: 'm' });

    const sentAt = Date.now();
    const res = await b.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: { id: randomUUID(), content: 'Anyone there?' },
      headers: { accept: 'application/json' },
    });
    const body = (await res.json()) as { saved: boolean; assistantMessage: { status: string; seq: number; content: string } };
    expect(body).toMatchObject({ saved: true, assistantMessage: { status: 'complete', seq: 4, content: CHUNKS.join('') } });
    // B sweeps nothing and polls once a minute: A's sweep, through its notification, is what let it go on.
    expect(Date.now() - sentAt).toBeLessThan(15_000);
    const [stored] = await db.sql<{ status: string }[]>`SELECT status FROM messages WHERE id = ${dead.assistantMessage.id}`;
    expect(stored!.status).toBe('interrupted');
  });

  it('a replay on B that streamed text its owner died without saving is not told saved', async () => {
    const reportId = await createReport(a);
    const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
    const conversationId = conv!.id;
    // A turn taken by an instance that streams a little, then dies before its first checkpoint.
    const userMessageId = randomUUID();
    const reserved = await reserveTurn(db.sql, {
      conversationId,
      userMessageId,
      assistantMessageId: randomUUID(),
      content: 'Q',
      maxMessages: 1_000,
      leaseOwner: 'doomed-instance',
      leaseMs: 60_000,
    });
    const answer = reserved.assistantMessage;
    const started = await startAnswer(db.sql, { conversationId, seq: answer.seq, owner: 'doomed-instance', leaseMs: 60_000, model: 'm' });
    a.bus.publish({ type: 'message', conversationId, message: started! });

    // The client re-sends its message to B: a replay, which follows the answer through the bus.
    const subscriptions = b.bus.size();
    const replay = readSse(await b.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: userMessageId, content: 'Q' } }));
    const seen: StreamEvent[] = [];
    while (!seen.some((e) => e.type === 'text-start')) seen.push(JSON.parse((await replay.next())!.data) as StreamEvent);
    // The follower subscribes, then reads the answer's text so far; a delta before that read would not be its own.
    for (let i = 0; i < 500 && b.bus.size() <= subscriptions; i++) await sleep(10);
    await sleep(1_000);
    a.bus.publish({ type: 'delta', conversationId, messageId: answer.id, offset: 0, text: 'Hello ' });
    while (!seen.some((e) => e.type === 'text-delta')) seen.push(JSON.parse((await replay.next())!.data) as StreamEvent);

    // Its lease runs out; a sweeper ends it with what was saved: nothing.
    await db.sql`UPDATE messages SET lease_expires_at = now() - interval '1 second' WHERE id = ${answer.id}`;
    const rest = (await replay.all()).filter((e): e is StreamEvent => typeof e !== 'string');
    const saved = rest.find((e) => e.type === 'data-saved')!.data!;
    const [stored] = await db.sql<{ status: string; content: string }[]>`SELECT status, content FROM messages WHERE id = ${answer.id}`;
    expect(stored).toEqual({ status: 'interrupted', content: '' });
    // The client was shown "Hello ": it must not hear that this was saved, and it keeps the text.
    expect(saved.saved).toBe(false);
    expect(saved.message).toMatchObject({ id: answer.id, status: 'interrupted', content: 'Hello ' });
    const streamed = [...seen, ...rest].filter((e) => e.type === 'text-delta').map((e) => e.delta).join('');
    expect(streamed).toBe('Hello ');
  });

  it("a notification missed while B's listening connection was down is recovered when it reconnects", async () => {
    const reportId = await createReport(a);
    const first = await a.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: { id: randomUUID(), content: 'Before' },
      headers: { accept: 'application/json' },
    });
    expect(first.status).toBe(201);
    // The first turn took versions 1 to 3 (its answer started in the reserve, then ended).
    const subscriber = readSse(await b.request(`/api/reports/${reportId}/events`, { token, headers: { 'last-event-id': '3' } }));
    await sleep(100);

    const [listener] = await db.admin<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE application_name = ${`report-chat listen ${b.ctx.instanceId}`}`;
    expect(listener).toBeDefined();
    await db.admin`SELECT pg_terminate_backend(${listener!.pid})`;
    for (let i = 0; i < 200 && b.bus.listening; i++) await sleep(10);
    expect(b.bus.listening).toBe(false);

    const res = await a.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: { id: randomUUID(), content: 'While B was away' },
      headers: { accept: 'application/json' },
    });
    const turn = (await res.json()) as { assistantMessage: { id: string; content: string; status: string } };
    expect(turn.assistantMessage.status).toBe('complete');
    expect(b.bus.listening).toBe(false); // A's notifications for this turn reached no listener of B

    const events = await collectUntil(subscriber, hasFinal(() => turn.assistantMessage.id));
    await subscriber.stop();
    expect(b.bus.listening).toBe(true);
    const messages = messagesOf(events);
    expect(messages.map(({ version, m }) => [version, m.seq, m.role, m.status])).toEqual([
      [4, 3, 'user', 'complete'],
      [6, 4, 'assistant', 'complete'],
    ]);
    expect(messages[1]!.m.content).toBe(turn.assistantMessage.content);
  });
});
