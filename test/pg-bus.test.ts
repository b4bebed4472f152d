import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../src/chat/bus.js';
import { createPgBus, NOTIFY_CHANNEL, type PgBusOptions, type PgEventBus } from '../src/chat/pg-bus.js';
import { createLogger } from '../src/log/logger.js';
import { connect, type Sql } from '../src/store/db.js';
import { sendNotifications } from '../src/store/notify.js';
import { reserveTurn, startAnswer } from '../src/store/turns.js';
import type { MessageRow } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTcpRelay, type TcpRelay } from './support/tcp-relay.js';
import { seedReport } from './support/fixtures.js';

let db: TestDatabase;
let sqlB: Sql;
/** For the tests' own raw listeners: LISTEN needs a session, so it never goes through a transaction pooler. */
let direct: Sql;
const buses: PgEventBus[] = [];
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  sqlB = db.connect({ max: 4, applicationName: 'report-chat-test-b' });
  direct = connect(db.directUrl, { max: 2, applicationName: 'report-chat-test-listen' });
});
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await sqlB?.end({ timeout: 5 });
  await direct?.end({ timeout: 5 });
  await db?.drop();
});

async function bus(name: string, sql: Sql, extra: Partial<PgBusOptions> = {}): Promise<PgEventBus> {
  const b = createPgBus({ url: db.directUrl, sql, instanceId: `${name}-${randomUUID().slice(0, 8)}`, log, ...extra });
  buses.push(b);
  await b.ready;
  return b;
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Reserves a turn straight in the store, as an instance would, without publishing anything. */
async function reserve(sql: Sql, conversationId: string, owner = 'test-owner') {
  const r = await reserveTurn(sql, {
    conversationId,
    userMessageId: randomUUID(),
    assistantMessageId: randomUUID(),
    content: 'a question',
    maxMessages: 1_000,
    leaseOwner: owner,
    leaseMs: 60_000,
  });
  if (r.kind !== 'created') throw new Error('expected a new turn');
  return r;
}

/** A pool whose connections go through a TCP relay to the test database, for a database that goes away on demand. */
async function withRelayedPool(run: (relay: TcpRelay, pool: Sql) => Promise<void>): Promise<void> {
  const relay = await startTcpRelay(Number(new URL(db.url).port));
  const url = new URL(db.url);
  url.port = String(relay.port);
  const pool = connect(url.toString(), { max: 1, applicationName: 'report-chat-test-away' });
  try {
    await run(relay, pool);
  } finally {
    await pool.end({ timeout: 1 });
    await relay.close();
  }
}

/**
 * After 5 rounds of one delta per answer (text = the round) piled up past the bus's limit of 20,000: the newest round
 * came whole, the oldest deltas went (at most the limit came, at least three quarters of it), each answer's in order.
 */
function expectNewestKept(seen: BusEvent[], answers: string[]): void {
  const deltas = seen.filter((e): e is Extract<BusEvent, { type: 'delta' }> => e.type === 'delta');
  expect(deltas.filter((e) => e.text === '4')).toHaveLength(answers.length);
  expect(deltas.length).toBeLessThanOrEqual(20_000);
  expect(deltas.length).toBeGreaterThanOrEqual(15_000);
  const lastOf = new Map<string, number>();
  for (const e of deltas) {
    expect(e.offset).toBeGreaterThan(lastOf.get(e.messageId) ?? -1);
    lastOf.set(e.messageId, e.offset);
  }
}

const lastRoundOf = (seen: BusEvent[]) => seen.filter((e) => e.type === 'delta' && e.text === '4').length;

const versionsOf = (events: BusEvent[]) => events.flatMap((e) => (e.type === 'message' ? [e.message.changedVersion] : []));

describe('the PostgreSQL event bus', () => {
  it("delivers its own events once, synchronously, and other instances' through NOTIFY", async () => {
    const a = await bus('a', db.sql);
    const b = await bus('b', sqlB);
    const { conversationId } = await seedReport(db.sql);
    const seenA: BusEvent[] = [];
    const seenB: BusEvent[] = [];
    const offA = a.subscribe(conversationId, (e) => seenA.push(e));
    const offB = b.subscribe(conversationId, (e) => seenB.push(e));
    const turn = await reserve(db.sql, conversationId);
    a.publish({ type: 'message', conversationId, message: turn.userMessage });
    a.publish({ type: 'message', conversationId, message: turn.assistantMessage });
    a.publish({ type: 'delta', conversationId, messageId: turn.assistantMessage.id, offset: 0, text: 'Hello' });
    a.publish({ type: 'stop', conversationId, messageId: turn.assistantMessage.id });
    // Local delivery happened inside publish().
    expect(seenA.map((e) => e.type)).toEqual(['message', 'message', 'delta', 'stop']);
    await until('B to see the delta and the stop', () => seenB.some((e) => e.type === 'stop') && seenB.some((e) => e.type === 'delta'));
    await until('B to see both messages', () => versionsOf(seenB).includes(2));
    await sleep(300); // our own notifications come back to A too: they must be ignored
    expect(seenA).toHaveLength(4);
    expect(versionsOf(seenB)).toEqual([1, 2]);
    const delta = seenB.find((e) => e.type === 'delta');
    expect(delta).toEqual({ type: 'delta', conversationId, messageId: turn.assistantMessage.id, offset: 0, text: 'Hello' });
    offA();
    offB();
    expect(a.size()).toBe(0);
    expect(b.size()).toBe(0);
  });

  it('keeps every notification under 8000 bytes: a large delta goes as a marker and receivers read its text from the row', async () => {
    const a = await bus('a', db.sql);
    const b = await bus('b', sqlB);
    const { conversationId } = await seedReport(db.sql);
    const payloads: string[] = [];
    const raw = await direct.listen(NOTIFY_CHANNEL, (p) => payloads.push(p));
    const seenB: BusEvent[] = [];
    const off = b.subscribe(conversationId, (e) => seenB.push(e));
    const turn = await reserve(db.sql, conversationId);
    const small = 'small start ';
    const big = 'é'.repeat(3_000) + 'x'.repeat(6_000); // 15,000 bytes of UTF-8
    // The owner's checkpoint stores the text; the marker makes B read it from there.
    await db.sql`UPDATE messages SET content = ${small + big} WHERE id = ${turn.assistantMessage.id}`;
    a.publish({ type: 'message', conversationId, message: turn.assistantMessage });
    a.publish({ type: 'delta', conversationId, messageId: turn.assistantMessage.id, offset: 0, text: small });
    a.publish({ type: 'delta', conversationId, messageId: turn.assistantMessage.id, offset: small.length, text: big });
    await until('B to get both deltas', () => seenB.filter((e) => e.type === 'delta').length === 2);
    const deltas = seenB.filter((e) => e.type === 'delta');
    expect(deltas.map((d) => d.offset)).toEqual([0, small.length]);
    expect(deltas.map((d) => d.text).join('')).toBe(small + big);
    await until('the raw listener to see the notifications', () => payloads.length >= 3);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    expect(payloads.some((p) => p.includes('xxxxxxxx'))).toBe(false);
    off();
    await raw.unlisten();
  });

  it("packs many answers' deltas into few notifications, and every receiver gets each delta once, in order", async () => {
    const a = await bus('a', db.sql);
    const b = await bus('b', sqlB);
    const { conversationId } = await seedReport(db.sql);
    const payloads: string[] = [];
    const raw = await direct.listen(NOTIFY_CHANNEL, (p) => payloads.push(p));
    const seenA: BusEvent[] = [];
    const seenB: BusEvent[] = [];
    const offA = a.subscribe(conversationId, (e) => seenA.push(e));
    const offB = b.subscribe(conversationId, (e) => seenB.push(e));
    // 40 answers streaming at once, 5 deltas each, interleaved as their chunks arrive: 200 deltas, ~30 KB of text.
    const answers = Array.from({ length: 40 }, () => randomUUID());
    const piece = (i: number, k: number) => `answer ${i} piece ${k} "quoted" é ${'w'.repeat(120)} `;
    const offsets = new Map<string, number>();
    for (let k = 0; k < 5; k++) {
      answers.forEach((messageId, i) => {
        const offset = offsets.get(messageId) ?? 0;
        a.publish({ type: 'delta', conversationId, messageId, offset, text: piece(i, k) });
        offsets.set(messageId, offset + piece(i, k).length);
      });
      await sleep(5);
    }
    const textOf = (seen: BusEvent[], messageId: string) =>
      seen.flatMap((e) => (e.type === 'delta' && e.messageId === messageId ? [e.text] : [])).join('');
    await until('B to get every delta', () => seenB.filter((e) => e.type === 'delta').length >= 200);
    await sleep(200);
    for (const [i, messageId] of answers.entries()) {
      const whole = [0, 1, 2, 3, 4].map((k) => piece(i, k)).join('');
      expect(textOf(seenA, messageId)).toBe(whole);
      expect(textOf(seenB, messageId)).toBe(whole);
    }
    expect(seenB.filter((e) => e.type === 'delta')).toHaveLength(200);
    // ~30 KB in payloads of at most 8,000 bytes: a handful of notifications, not one per delta.
    await until('the raw listener to see them', () => payloads.length > 0);
    await sleep(200);
    expect(payloads.length).toBeLessThan(20);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    offA();
    offB();
    await raw.unlisten();
  });

  it('keeps up with more deltas than one batch carries: a sustained burst from many answers reaches the other instance whole', async () => {
    const a = await bus('a', db.sql);
    const b = await bus('b', sqlB);
    const { conversationId } = await seedReport(db.sql);
    const seenB = new Map<string, string>();
    const offB = b.subscribe(conversationId, (e) => {
      if (e.type === 'delta') seenB.set(e.messageId, (seenB.get(e.messageId) ?? '') + e.text);
    });
    // 1,200 answers streaming at once, a delta each every 5 ms for 20 rounds: 24,000 deltas in ~100 ms, more than
    // the bus may hold waiting (20,000) unless each batch takes what is pending rather than a fixed count.
    const answers = Array.from({ length: 1_200 }, () => randomUUID());
    const piece = (k: number) => `piece ${k}; `;
    let offset = 0;
    for (let k = 0; k < 20; k++) {
      for (const messageId of answers) a.publish({ type: 'delta', conversationId, messageId, offset, text: piece(k) });
      offset += piece(k).length;
      await sleep(5);
    }
    const whole = Array.from({ length: 20 }, (_, k) => piece(k)).join('');
    const complete = () => answers.filter((m) => seenB.get(m) === whole).length;
    await until('B to get every answer whole', () => complete() === answers.length, 20_000).catch(() => {});
    expect(complete()).toBe(answers.length);
    offB();
  });

  it('while the database is away, sheds the oldest deltas past its limit, keeps everything else, and sends the rest once back', async () => {
    await withRelayedPool(async (relay, away) => {
      relay.mode = 'refuse';
      const a = await bus('a', away, { reconnectBackoffMs: { min: 10, max: 50 } });
      const b = await bus('b', sqlB);
      const { conversationId } = await seedReport(db.sql);
      const seenB: BusEvent[] = [];
      const offB = b.subscribe(conversationId, (e) => seenB.push(e));
      // 5 rounds of 6,000 answers' deltas: 30,000 waiting, over the outbox's limit of 20,000; a stop between rounds.
      const answers = Array.from({ length: 6_000 }, () => randomUUID());
      const stopped = randomUUID();
      for (let k = 0; k < 5; k++) {
        for (const messageId of answers) a.publish({ type: 'delta', conversationId, messageId, offset: k, text: String(k) });
        if (k === 1) a.publish({ type: 'stop', conversationId, messageId: stopped });
        await sleep(5);
      }
      relay.mode = 'pass';
      await until('B to get the last round', () => lastRoundOf(seenB) === answers.length, 20_000).catch(() => {});
      await sleep(300);
      expectNewestKept(seenB, answers);
      expect(seenB.filter((e) => e.type === 'stop' && e.messageId === stopped)).toHaveLength(1);
      offB();
    });
  });

  it("while a receiver's reads fail, it holds at most its limit of a conversation's deltas, the newest, and delivers them once back", async () => {
    await withRelayedPool(async (relay, away) => {
      const a = await bus('a', db.sql);
      // B listens on its own connection, and reads through the relay, which refuses from now on.
      relay.mode = 'refuse';
      const b = await bus('b', away);
      const { conversationId } = await seedReport(db.sql);
      const seenB: BusEvent[] = [];
      const offB = b.subscribe(conversationId, (e) => seenB.push(e));
      // A change B must read before anything after it: its read fails, so everything after waits in B's queue.
      a.publish({ type: 'cleared', conversationId, version: 1 });
      const answers = Array.from({ length: 6_000 }, () => randomUUID());
      for (let k = 0; k < 5; k++) {
        for (const messageId of answers) a.publish({ type: 'delta', conversationId, messageId, offset: k, text: String(k) });
        await sleep(20);
      }
      await sleep(300);
      expect(seenB.filter((e) => e.type === 'delta')).toHaveLength(0);
      relay.mode = 'pass';
      await until('B to deliver the last round', () => lastRoundOf(seenB) === answers.length, 20_000).catch(() => {});
      await sleep(300);
      expectNewestKept(seenB, answers);
      offB();
    });
  });

  it('sends a batch of notifications in one statement, in order, each arriving once', async () => {
    const received: string[] = [];
    const raw = await direct.listen('report_chat_batch_test', (p) => received.push(p));
    const batch = ['{"a":1}', 'two', 'three, with "quotes" and é', 'two'];
    await sendNotifications(db.sql, 'report_chat_batch_test', batch);
    await sendNotifications(db.sql, 'report_chat_batch_test', ['alone']);
    await until('the notifications', () => received.length >= 4);
    await sleep(100);
    // PostgreSQL folds a payload repeated within one transaction: the second "two" is not delivered.
    expect(received).toEqual(['{"a":1}', 'two', 'three, with "quotes" and é', 'alone']);
    await raw.unlisten();
  });

  it("delivers versions in order: a local change waits while another instance's earlier change is unread", async () => {
    const b = await bus('b', sqlB);
    const { conversationId } = await seedReport(db.sql);
    const seen: BusEvent[] = [];
    const off = b.subscribe(conversationId, (e) => seen.push(e));
    // Another instance commits versions 1 and 2; its notification is late (never sent here).
    const turn = await reserve(db.sql, conversationId, 'instance-a');
    // This instance then starts that answer (version 3) and publishes it: 1 and 2 must come first.
    const started = await startAnswer(sqlB, { conversationId, seq: turn.assistantMessage.seq, owner: 'instance-b', leaseMs: 60_000, model: 'm' });
    b.publish({ type: 'message', conversationId, message: started! });
    await until('version 3', () => versionsOf(seen).includes(3));
    // The read gives each message as it is now: the question (1), then the answer as of its latest change (3).
    const first = seen[0];
    expect(first?.type === 'message' && [first.message.id, first.message.changedVersion]).toEqual([turn.userMessage.id, 1]);
    const v = versionsOf(seen);
    expect(v[1]).toBe(3);
    for (let i = 1; i < v.length; i++) expect(v[i]!).toBeGreaterThanOrEqual(v[i - 1]!);
    off();
  });

  it("finds a change whose notification was never sent (its sender died) by checking the subscribed conversations' versions", async () => {
    const b = await bus('b', sqlB, { resyncMs: 200 });
    const { conversationId } = await seedReport(db.sql);
    const seen: MessageRow[] = [];
    const off = b.subscribe(conversationId, (e) => e.type === 'message' && seen.push(e.message));
    const turn = await reserve(db.sql, conversationId, 'dead-instance');
    const got = await until('the unannounced turn', () => seen.length >= 2 && seen, 30_000);
    expect(got.map((m) => m.id)).toEqual([turn.userMessage.id, turn.assistantMessage.id]);
    off();
  });

  it('comes back after its listening connection is terminated, and re-reads what it missed', async () => {
    const a = await bus('a', db.sql);
    const b = await bus('b-reconnect', sqlB, { resyncMs: 3_600_000, reconnectBackoffMs: { min: 3_000, max: 3_000 } });
    const { conversationId } = await seedReport(db.sql);
    const seen: MessageRow[] = [];
    const off = b.subscribe(conversationId, (e) => e.type === 'message' && seen.push(e.message));
    const first = await reserve(db.sql, conversationId);
    a.publish({ type: 'message', conversationId, message: first.userMessage });
    a.publish({ type: 'message', conversationId, message: first.assistantMessage });
    await until('the first turn on B', () => seen.length >= 2);

    const killed = await db.admin<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'report-chat listen b-reconnect-%'`;
    expect(killed.length).toBe(1);
    await db.admin`SELECT pg_terminate_backend(${killed[0]!.pid})`;
    await until('B to notice', () => !b.listening);
    const second = await reserve(db.sql, conversationId);
    a.publish({ type: 'message', conversationId, message: second.userMessage });
    a.publish({ type: 'message', conversationId, message: second.assistantMessage });
    await sleep(300);
    expect(b.listening).toBe(false); // the notifications above went nowhere
    expect(seen.map((m) => m.id)).not.toContain(second.userMessage.id);

    await until('B to listen again', () => b.listening, 15_000);
    await until('the missed turn on B', () => seen.some((m) => m.id === second.assistantMessage.id));
    expect(seen.map((m) => m.changedVersion)).toEqual([1, 2, 3, 4]);
    off();
  });
});
