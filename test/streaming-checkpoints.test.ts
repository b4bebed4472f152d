import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/chat/accounts.js';
import { Checkpointer } from '../src/chat/checkpointer.js';
import type { ChatContext } from '../src/chat/context.js';
import { LiveTurn } from '../src/chat/live-turn.js';
import { createChatContext } from '../src/chat/create-context.js';
import { startSweeper } from '../src/chat/sweeper.js';
import { loadConfig } from '../src/config/config.js';
import { createApp } from '../src/http/app.js';
import { messageSchema } from '../src/api/schemas.js';
import { createLogger } from '../src/log/logger.js';
import { connect, type Sql } from '../src/store/db.js';
import { checkpointAnswer, checkpointAnswers } from '../src/store/checkpoints.js';
import { reserveTurn, sweepExpiredLeases } from '../src/store/turns.js';
import { startFakeOpenAI, type FakeProviderServer } from './fakes/fake-openai-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport, turnInput } from './support/fixtures.js';
import { ADMIN_TOKEN, collectUntil, readSse, requestVia } from './support/test-app.js';

/**
 * What a checkpoint of a streaming answer writes (migration 0007): the text that arrived since the previous one, as
 * a new piece, never the text saved before; and what survives an instance that dies mid-answer: the text up to its
 * last checkpoint, seen by another instance while the answer is in flight and kept when the sweeper ends it.
 *
 * Two instances on one database in one process, each with its own pool and bus, as in multi-instance.test.ts; "killing"
 * one ends its pool and its listening connection at once, so it saves nothing more, as a killed process would. The
 * lease is 1.5 s, so a checkpoint comes every 0.5 s.
 */
interface Instance {
  ctx: ChatContext;
  sql: Sql;
  request: ReturnType<typeof requestVia>;
}

let db: TestDatabase;
let fake: FakeProviderServer;
let token: string;
const instances: Instance[] = [];
const stopSweepers: (() => void)[] = [];
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const LEASE_MS = 1_500;
// 60 chunks 50 ms apart: three seconds of streaming, six checkpoints.
const CHUNKS = Array.from({ length: 60 }, (_, i) => `word${String(i).padStart(2, '0')} `);

function startInstance(name: string, leaseMs = LEASE_MS): Instance {
  const config = loadConfig({
    DATABASE_URL: db.url,
    ADMIN_TOKEN,
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
    TURN_LEASE_MS: String(leaseMs),
    LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: fake.baseUrl,
    LLM_MODEL: 'fake-model',
  });
  const sql = connect(db.url, { max: 6, applicationName: `report-chat-test-${name}` });
  const ctx = createChatContext({ config, sql, log, instanceId: `${name}-${randomUUID().slice(0, 8)}`, databaseUrl: db.url });
  const { app } = createApp({ ctx, adminTokenHash: hashToken(ADMIN_TOKEN) });
  const instance = { ctx, sql, request: requestVia(app) };
  instances.push(instance);
  return instance;
}

/** As a killed process: no statement of its own reaches the database from now on, and it hears nothing. */
async function kill(instance: Instance): Promise<void> {
  await Promise.all([instance.sql.end({ timeout: 0 }), instance.ctx.bus.close?.()]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOpenAI({ behavior: { chunks: CHUNKS, chunkDelayMs: 50 } });
  const first = startInstance('setup');
  const res = await first.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email: `u-${randomUUID()}@example.com` } });
  token = ((await res.json()) as { token: string }).token;
});
afterAll(async () => {
  for (const stop of stopSweepers) stop();
  await fake?.close(); // ends the hung model streams of killed instances, whose engines then give up
  for (const i of instances) {
    await i.ctx.engine.shutdown().catch(() => {});
    await i.ctx.bus.close?.().catch(() => {});
    await i.sql.end({ timeout: 1 }).catch(() => {});
  }
  await db?.drop();
});

async function createReport(on: Instance): Promise<{ reportId: string; conversationId: string }> {
  const res = await on.request('/api/reports', { method: 'POST', token, json: { title: 'A report', content: '# Findings\n\nThe cache was cold.' } });
  expect(res.status).toBe(201);
  const reportId = ((await res.json()) as { id: string }).id;
  const [conv] = await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId}`;
  return { reportId, conversationId: conv!.id };
}

/** The answer's message row as stored, not as read through the app. */
async function storedRow(answerId: string) {
  const [row] = await db.sql<{ status: string; content: string; conversationId: string; seq: number }[]>`
    SELECT status, content, conversation_id, seq FROM messages WHERE id = ${answerId}`;
  return row!;
}

/** The pieces its checkpoints saved, with their row versions, from both generations' tables (migrations 0013, 0014). */
async function storedPieces(row: { conversationId: string; seq: number }) {
  return db.sql<{ textOffset: number; text: string; xmin: string; ctid: string }[]>`
    SELECT text_offset, text, xmin::text, tableoid::regclass::text || ctid::text AS ctid FROM (
      SELECT *, xmin, ctid, tableoid FROM answer_pieces_0 UNION ALL SELECT *, xmin, ctid, tableoid FROM answer_pieces_1
    ) p
    WHERE piece_key = (SELECT piece_key FROM messages WHERE conversation_id = ${row.conversationId} AND seq = ${row.seq})
    ORDER BY text_offset, source_offset`;
}

async function answerVia(on: Instance, reportId: string) {
  const res = await on.request(`/api/reports/${reportId}/messages?limit=10`, { token });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { messages: unknown[] };
  return messageSchema.parse(body.messages.at(-1));
}

describe('checkpoints of a streaming answer', () => {
  it('write only what arrived since the last one: the message row never holds the text, earlier pieces are never rewritten', async () => {
    fake.setBehavior({ chunks: CHUNKS, chunkDelayMs: 50 });
    const a = startInstance('a');
    const { reportId } = await createReport(a);
    const sent = readSse(await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Explain' } }));
    let answerId: string | undefined;
    while (!answerId) {
      const ev = await sent.next();
      const start = JSON.parse(ev!.data) as { type: string; data?: { assistantMessage?: { id: string } } };
      answerId = start.data?.assistantMessage?.id;
    }
    const done = sent.all();
    // From the first checkpoint on, as the app shows it.
    for (let i = 0; i < 100 && (await answerVia(a, reportId)).content === ''; i++) await sleep(50);

    // Every piece ever seen, by its offset: the row version (xmin, ctid) and text it had when first seen.
    const seen = new Map<number, { xmin: string; ctid: string; text: string }>();
    for (let i = 0; i < 400; i++) {
      const row = await storedRow(answerId);
      if (row.status !== 'streaming') break;
      // The text so far lives in the pieces only: the message row, rewritten to renew its lease, carries none of it.
      expect(row.content, 'text in the message row').toBe('');
      const pieces = await storedPieces(row);
      for (const p of pieces) {
        const first = seen.get(p.textOffset);
        if (first) expect({ xmin: p.xmin, ctid: p.ctid, text: p.text }, `piece at ${p.textOffset}`).toEqual(first);
        else seen.set(p.textOffset, { xmin: p.xmin, ctid: p.ctid, text: p.text });
      }
      // Each piece starts where the one before it ends: together they are the text so far, each part stored once.
      let end = 0;
      for (const p of pieces) {
        expect(p.textOffset).toBe(end);
        end += p.text.length;
      }
      await sleep(50);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);

    await done;
    const final = await storedRow(answerId);
    // The finished answer is one row with the whole text, as before, and read as that text once: its pieces are not
    // deleted (their generation's table is truncated later, migration 0013), and no reader reads them any more.
    expect(final).toMatchObject({ status: 'complete', content: CHUNKS.join('') });
    expect((await storedPieces(final)).length).toBeGreaterThanOrEqual(seen.size);
    expect(await answerVia(a, reportId)).toMatchObject({ status: 'complete', content: CHUNKS.join('') });
  });

  it('an instance killed mid-answer leaves the text of its last checkpoint: another instance serves it in flight, the sweeper keeps it', async () => {
    // The model streams 40 chunks, then hangs: the answer stays in flight until its owner's lease runs out.
    fake.setBehavior({ chunks: CHUNKS, chunkDelayMs: 50, hangAfterChunks: 40 });
    const a = startInstance('a2');
    const b = startInstance('b2');
    const { reportId } = await createReport(b);
    const sent = readSse(await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Explain' } }));
    let answerId: string | undefined;
    while (!answerId) {
      const start = JSON.parse((await sent.next())!.data) as { data?: { assistantMessage?: { id: string } } };
      answerId = start.data?.assistantMessage?.id;
    }
    // Kill A mid-stream: text kept arriving for the first two seconds, checkpoints every half second.
    await sleep(1_500);
    const live = a.ctx.engine.liveTurn(answerId)!;
    const earlier = live.text; // what A had a checkpoint interval and more before it died
    await sleep(1_000);
    const atDeath = live.text;
    await kill(a);
    expect(atDeath.length).toBeGreaterThan(earlier.length);
    await sleep(100); // a statement A sent just before is answered by now, whether it committed or not

    // In flight, from B: a page of messages and an events stream's catch-up both show the saved text, which is up to
    // the last checkpoint: at least what A had a checkpoint interval before it died, nothing it never had.
    const viaGet = await answerVia(b, reportId);
    expect(viaGet).toMatchObject({ id: answerId, status: 'streaming' });
    const saved = viaGet.content;
    expect(saved.startsWith(earlier)).toBe(true);
    expect(atDeath.startsWith(saved)).toBe(true);
    const events = readSse(await b.request(`/api/reports/${reportId}/events`, { token, headers: { 'last-event-id': '0' } }));
    const caughtUp = await collectUntil(events, (evs) => evs.some((e) => e.event === 'message' && e.data.includes(answerId!)));
    await events.stop();
    const resumed = messageSchema.parse(JSON.parse(caughtUp.find((e) => e.event === 'message' && e.data.includes(answerId!))!.data));
    expect(resumed).toMatchObject({ status: 'streaming', content: saved });
    // It was saved as pieces, never in the message row.
    const row = await storedRow(answerId);
    expect(row).toMatchObject({ status: 'streaming', content: '' });
    expect((await storedPieces(row)).map((p) => p.text).join('')).toBe(saved);

    // The lease runs out; B's sweeper ends the answer with that text, in its row, read once (the pieces stay behind).
    stopSweepers.push(startSweeper(b.ctx, 200));
    let after = viaGet;
    for (let i = 0; i < 100 && after.status === 'streaming'; i++) {
      await sleep(100);
      after = await answerVia(b, reportId);
    }
    expect(after).toMatchObject({ status: 'interrupted', content: saved });
    expect(await storedRow(answerId)).toMatchObject({ status: 'interrupted', content: saved });
    expect((await storedPieces(row)).map((p) => p.text).join('')).toBe(saved);
    await sent.stop();
  });

  it('renew the lease only once a third of it has run: in between, the message row is neither rewritten nor locked, and a checkpoint with nothing new keeps it alive', async () => {
    const { conversationId } = await seedReport(db.sql);
    const leaseMs = 3_000;
    const r = await reserveTurn(db.sql, turnInput(conversationId, { leaseOwner: 'owner-r', leaseMs }));
    const ref = { conversationId, seq: r.assistantMessage.seq, owner: 'owner-r', leaseMs, reportRevision: 1 };
    const version = async () => {
      // xmax as well: a row lock (FOR NO KEY UPDATE, or a foreign key's FOR KEY SHARE) writes its locker there.
      const [row] = await db.sql<{ xmin: string; xmax: string; ctid: string; leaseExpiresAt: Date; reportRevision: number | null }[]>`
        SELECT xmin::text, xmax::text, ctid::text, lease_expires_at, report_revision FROM messages
        WHERE conversation_id = ${conversationId} AND seq = ${ref.seq}`;
      return row!;
    };
    // The first checkpoint brings the report revision, so it writes the row (and renews the lease with it).
    const created = await version();
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 0, sources: 0 }, text: 'one ' })).toBe(true);
    const renewed = await version();
    expect(renewed.reportRevision).toBe(1);
    expect(renewed.xmin).not.toBe(created.xmin);

    // With most of the lease left, checkpoints add their pieces (and one adds nothing) without a new version of the
    // row, nor a lock on it: same xmin, xmax and ctid, same expiry. The earlier pieces are not rewritten either.
    expect(renewed.xmax).toBe('0');
    const [first] = await storedPieces({ conversationId, seq: ref.seq });
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 4, sources: 0 }, text: 'two ' })).toBe(true);
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 8, sources: 0 }, text: '' })).toBe(true);
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 8, sources: 0 }, text: 'three' })).toBe(true);
    // Its acknowledgement lost, the next one starts from the same place with more: it replaces the piece, and the
    // shorter attempt arriving late does not shorten it again.
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 8, sources: 0 }, text: 'three four' })).toBe(true);
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 8, sources: 0 }, text: 'three' })).toBe(true);
    expect(await version()).toEqual(renewed);
    const pieces = await storedPieces({ conversationId, seq: ref.seq });
    expect(pieces.map((p) => p.text)).toEqual(['one ', 'two ', 'three four']);
    expect(pieces[0]).toEqual(first);

    // A third of the lease later a checkpoint renews it, with nothing new to save.
    await sleep(leaseMs / 3 + 100);
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 18, sources: 0 }, text: '' })).toBe(true);
    const later = await version();
    expect(later.xmin).not.toBe(renewed.xmin);
    expect(later.leaseExpiresAt.getTime()).toBeGreaterThan(renewed.leaseExpiresAt.getTime() + leaseMs / 3);
    // Never swept meanwhile, and the owner still holds it.
    expect((await sweepExpiredLeases(db.sql)).some((m) => m.conversationId === conversationId)).toBe(false);
    expect(await checkpointAnswer(db.sql, { ...ref, from: { chars: 18, sources: 0 }, text: '.' })).toBe(true);
  });

  it('save every answer of an instance in one transaction: one statement, one xmin for the pieces of a tick; an answer lost to another owner is reported and saves nothing, the others save', async () => {
    const owner = `owner-${randomUUID().slice(0, 8)}`;
    const leaseMs = 60_000;
    const refs: { conversationId: string; seq: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const { conversationId } = await seedReport(db.sql);
      const r = await reserveTurn(db.sql, turnInput(conversationId, { leaseOwner: owner, leaseMs }));
      refs.push({ conversationId, seq: r.assistantMessage.seq });
    }
    const tick = (texts: string[], from: number) =>
      checkpointAnswers(db.sql, {
        owner,
        leaseMs,
        answers: refs.map((ref, i) => ({ ...ref, from: { chars: from, sources: 0 }, text: texts[i]!, reportRevision: 1 })),
      });
    const piecesOf = async () => Promise.all(refs.map((ref) => storedPieces(ref)));

    expect(await tick(['a1 ', 'b1 ', 'c1 '], 0)).toEqual([true, true, true]);
    const firstTick = await piecesOf();
    expect(firstTick.map((ps) => ps.map((p) => p.text))).toEqual([['a1 '], ['b1 '], ['c1 ']]);
    expect(new Set(firstTick.map((ps) => ps[0]!.xmin)).size).toBe(1);

    // The second answer is taken over (as after its lease expired): the batch says so, and saves it nothing.
    await db.sql`UPDATE messages SET lease_owner = 'another-owner' WHERE conversation_id = ${refs[1]!.conversationId} AND seq = ${refs[1]!.seq}`;
    expect(await tick(['a2', 'b2', 'c2'], 3)).toEqual([true, false, true]);
    const secondTick = await piecesOf();
    expect(secondTick.map((ps) => ps.map((p) => p.text))).toEqual([['a1 ', 'a2'], ['b1 '], ['c1 ', 'c2']]);
    // One transaction for the tick, not the first one's; the first tick's pieces are not rewritten.
    expect(secondTick[0]![1]!.xmin).toBe(secondTick[2]![1]!.xmin);
    expect(secondTick[0]![1]!.xmin).not.toBe(firstTick[0]![0]!.xmin);
    expect(secondTick.map((ps) => ps[0])).toEqual(firstTick.map((ps) => ps[0]));
  });

  it("an answer's release waits for the checkpoint batch in flight that holds it, so its finish never overlaps its own checkpoint", async () => {
    const owner = `owner-${randomUUID().slice(0, 8)}`;
    const leaseMs = 60_000;
    const { conversationId, reportId } = await seedReport(db.sql);
    const r = await reserveTurn(db.sql, turnInput(conversationId, { leaseOwner: owner, leaseMs }));
    const ref = { conversationId, seq: r.assistantMessage.seq };
    const live = new LiveTurn(conversationId, reportId, r.assistantMessage.id);
    live.emit({ type: 'delta', text: 'saved by the batch in flight' });
    const sql = connect(db.url, { max: 2, applicationName: 'report-chat-test-checkpointer' });
    const checkpointer = new Checkpointer({ sql, owner, leaseMs, intervalMs: 50, log });
    // Another session holds both generations' tables: the first batch is sent, and waits on the lock.
    const blocker = connect(db.url, { max: 1 });
    let unlock!: () => void;
    const locked = new Promise<void>((resolve) => {
      void blocker.begin(async (tx) => {
        await tx`LOCK TABLE answer_pieces_0, answer_pieces_1 IN ACCESS EXCLUSIVE MODE`;
        resolve();
        await new Promise<void>((r) => (unlock = r));
      });
    });
    try {
      await locked;
      const release = checkpointer.add({ ...ref, live, reportRevision: 1, onLost: () => {} });
      const waiting = async () =>
        (await db.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = 'report-chat-test-checkpointer' AND wait_event_type = 'Lock' AND query LIKE '%checkpoint_answers%'`)[0]!.n;
      for (let i = 0; i < 100 && (await waiting()) === 0; i++) await sleep(20);
      expect(await waiting()).toBe(1);

      let released = false;
      const releasing = release().then(() => (released = true));
      await sleep(300);
      expect(released).toBe(false); // the batch that holds the answer is still in flight
      unlock();
      await releasing;
      // By the time the release resolves, the batch's pieces are committed: a finish from here on comes after them.
      expect((await storedPieces(ref)).map((p) => p.text)).toEqual(['saved by the batch in flight']);
    } finally {
      unlock?.();
      await blocker.end({ timeout: 1 });
      await sql.end({ timeout: 1 });
    }
  });

  it('an answer whose lease is lost mid-stream is aborted, and the other answers of its instance go on and are saved', async () => {
    fake.setBehavior({ chunks: CHUNKS, chunkDelayMs: 50 });
    const a = startInstance('batch');
    const reports = [await createReport(a), await createReport(a), await createReport(a)];
    const streams = await Promise.all(
      reports.map(async ({ reportId }) =>
        readSse(await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Explain' } })),
      ),
    );
    // Once every answer has text saved, the second is taken over by another owner.
    await sleep(1_200);
    const lost = reports[1]!.conversationId;
    await db.sql`UPDATE messages SET lease_owner = 'another-owner' WHERE conversation_id = ${lost} AND status = 'streaming'`;
    type Ev = { type?: string; data?: { saved?: boolean; message?: { id: string; status: string; content: string } } };
    const ends = (await Promise.all(streams.map((s) => s.all()))).map((evs) => (evs as Ev[]).find((e) => e.type === 'data-saved')!.data!);
    expect(ends.map((e) => e.saved)).toEqual([true, false, true]);
    // Aborted: it stopped well before the model's last chunk, and nothing it generated after was stored as its own.
    expect(ends[1]!.message!.content.length).toBeLessThan(CHUNKS.join('').length);
    for (const i of [0, 2]) expect(await storedRow(ends[i]!.message!.id)).toMatchObject({ status: 'complete', content: CHUNKS.join('') });
    const counted = Object.fromEntries((await a.ctx.metrics.checkpoints.get()).values.map((v) => [v.labels.result, v.value]));
    expect(counted['lease-lost']).toBe(1);
    // Three answers at once, saved by one statement per tick: fewer statements than answer checkpoints.
    const statements = (await a.ctx.metrics.checkpointStatements.get()).values.find((v) => v.labels.result === 'ok')?.value ?? 0;
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(counted.saved!);
  });

  it('an answer streaming for several leases, with a sweeper running on another instance, is never swept while its owner lives', async () => {
    // 2.5 leases of streaming; the owner checkpoints every third of its lease, another instance sweeps every 100 ms.
    const leaseMs = 2_000;
    const chunks = Array.from({ length: 100 }, (_, i) => `w${String(i).padStart(3, '0')} `);
    fake.setBehavior({ chunks, chunkDelayMs: 50 });
    const owner = startInstance('long-owner', leaseMs);
    const sweeping = startInstance('long-sweeper', leaseMs);
    stopSweepers.push(startSweeper(sweeping.ctx, 100));
    const { reportId } = await createReport(owner);
    const started = performance.now();
    const events = await readSse(
      await owner.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Explain at length' } }),
    ).all();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(2 * leaseMs);
    const saved = (events as { type?: string; data?: { saved?: boolean; message?: { id: string } } }[]).find((e) => e.type === 'data-saved');
    expect(saved?.data?.saved).toBe(true);
    const row = await storedRow(saved!.data!.message!.id);
    expect(row).toMatchObject({ status: 'complete', content: chunks.join('') });
    // Its owner checkpointed all along (GET /metrics counts them), and never found its lease lost.
    const counted = Object.fromEntries((await owner.ctx.metrics.checkpoints.get()).values.map((v) => [v.labels.result, v.value]));
    expect(counted.saved).toBeGreaterThanOrEqual(6);
    expect(counted['lease-lost'] ?? 0).toBe(0);
  });
});
