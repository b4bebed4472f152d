import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageSchema } from '../src/api/schemas.js';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import type { FakeProviderServer } from './fakes/fake-behavior.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { collectUntil, createTestApp, readSse, type SseEvent, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let fake: FakeProviderServer;
let t: TestApp;
let token: string;
const CHUNKS = Array.from({ length: 10 }, (_, i) => `part${i} `);
const LONG = Array.from({ length: 200 }, (_, i) => `s${i} `);

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeOpenAI({ behavior: { chunks: CHUNKS, chunkDelayMs: 30 } });
  t = await createTestApp(db, { LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake-model' });
  ({ token } = await t.createUser());
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
  await db?.drop();
});

const isFinalAnswer = (e: SseEvent) => e.event === 'message' && /"role":"assistant"/.test(e.data) && /"status":"complete"/.test(e.data);

describe('GET …/events', () => {
  it("a second subscriber sees another client's turn: message events for each change and every delta in order", async () => {
    const reportId = await t.createReport(token);
    const subscriber = readSse(await t.request(`/api/reports/${reportId}/events`, { token }));
    const res = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Explain' } });
    const sender = readSse(res).all();
    const events = await collectUntil(subscriber, (evs) => evs.some(isFinalAnswer));
    await subscriber.stop();
    await sender;

    const messages = events.filter((e) => e.event === 'message').map((e) => ({ id: Number(e.id), m: messageSchema.parse(JSON.parse(e.data)) }));
    // Nothing was ahead of the answer, so it was created streaming (no queued event; docs/api-notes.md).
    expect(messages.map(({ id, m }) => [id, m.seq, m.status])).toEqual([
      [1, 1, 'complete'],
      [2, 2, 'streaming'],
      [3, 2, 'complete'],
    ]);
    const deltas = events.filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data) as { id: string; offset: number; text: string });
    expect(deltas.map((d) => d.text)).toEqual(CHUNKS);
    let offset = 0;
    for (const d of deltas) {
      expect(d.offset).toBe(offset);
      expect(d.id).toBe(messages[2]!.m.id);
      offset += d.text.length;
    }
    expect(messages[2]!.m.content).toBe(CHUNKS.join(''));
  });

  it('reconnecting with Last-Event-ID gets exactly what changed since, including a streaming answer with its text so far', async () => {
    const reportId = await t.createReport(token);
    await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'first' }, headers: { accept: 'application/json' } });
    // version is now 3 (question, answer created streaming, final answer); a slow second turn is mid-answer when we reconnect.
    fake.setBehavior({ chunks: LONG, chunkDelayMs: 20 });
    const sender = readSse(await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'second' } }));
    for (let i = 0; i < 40; i++) await sender.next(); // well past the first checkpoint (1 s)... at least some deltas
    await new Promise((r) => setTimeout(r, 1_200));

    const resumed = readSse(await t.request(`/api/reports/${reportId}/events`, { token, headers: { 'last-event-id': '3' } }));
    const first = await collectUntil(resumed, (evs) => evs.filter((e) => e.event === 'message').length >= 2);
    const replayed = first.filter((e) => e.event === 'message').map((e) => ({ id: Number(e.id), m: messageSchema.parse(JSON.parse(e.data)) }));
    // One event per message changed after version 3, with its latest state, in version order: the question
    // (created at 4) and the answer (created streaming at 5; checkpoints are not versioned changes).
    expect(replayed.map(({ id, m }) => [id, m.seq, m.role, m.status])).toEqual([
      [4, 3, 'user', 'complete'],
      [5, 4, 'assistant', 'streaming'],
    ]);
    const streaming = replayed[1]!.m;
    expect(streaming.content.length).toBeGreaterThan(0); // its text so far (the last checkpoint)
    expect(LONG.join('').startsWith(streaming.content)).toBe(true);
    // Generated here, so it came with its live text: the next delta continues exactly where that text ends.
    const nextDelta = (await collectUntil(resumed, (evs) => evs.some((e) => e.event === 'delta'))).find((e) => e.event === 'delta')!;
    expect((JSON.parse(nextDelta.data) as { offset: number }).offset).toBe(streaming.content.length);
    const rest = await collectUntil(resumed, (evs) => evs.some(isFinalAnswer));
    await resumed.stop();
    await sender.all();
    const final = messageSchema.parse(JSON.parse(rest.find(isFinalAnswer)!.data));
    expect(final.content).toBe(LONG.join(''));
    fake.setBehavior({ chunks: CHUNKS, chunkDelayMs: 30 });
  });

  it('after a clear, a resume first says the conversation was cleared', async () => {
    const reportId = await t.createReport(token);
    await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'x' }, headers: { accept: 'application/json' } });
    expect((await t.request(`/api/reports/${reportId}/messages`, { method: 'DELETE', token, headers: { 'if-match': '"3"' } })).status).toBe(204);
    const resumed = readSse(await t.request(`/api/reports/${reportId}/events?after=2`, { token }));
    const ev = await resumed.next();
    await resumed.stop();
    expect(ev).toMatchObject({ event: 'cleared', id: '4' });
  });

  it('closing an events stream releases its subscription', async () => {
    const reportId = await t.createReport(token);
    const before = t.ctx.bus.size();
    const s = readSse(await t.request(`/api/reports/${reportId}/events`, { token }));
    await new Promise((r) => setTimeout(r, 50));
    expect(t.ctx.bus.size()).toBe(before + 1);
    await s.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(t.ctx.bus.size()).toBe(before);
  });
});
