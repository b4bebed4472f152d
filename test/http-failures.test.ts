import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesPageSchema } from '../src/api/schemas.js';
import { startFakeAnthropic } from './fakes/fake-anthropic-server.js';
import type { FakeProviderServer } from './fakes/fake-behavior.js';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, readSse, type TestApp } from './support/test-app.js';

type StreamEvent = { type: string; [k: string]: unknown };

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const PROVIDERS: Array<[string, () => Promise<FakeProviderServer>, (fake: FakeProviderServer) => Record<string, string>]> = [
  ['anthropic', () => startFakeAnthropic(), (f) => ({ LLM_PROVIDER: 'anthropic', LLM_BASE_URL: f.baseUrl, LLM_API_KEY: 'test-key' })],
  ['openai-compatible', () => startFakeOpenAI(), (f) => ({ LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: f.baseUrl, LLM_MODEL: 'fake-model' })],
];

describe.each(PROVIDERS)('with the %s provider against a fake server', (_name, startFake, envFor) => {
  let fake: FakeProviderServer;
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp(db, envFor(fake));
    ({ token } = await t.createUser());
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const post = (reportId: string, content: string, id = randomUUID()) =>
    t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id, content } });

  it('streams the provider chunks as deltas, stores them, and sends the report and question to the model', async () => {
    fake.setBehavior({ chunks: ['Pool ', 'exhaustion ', 'was the cause.'] });
    const reportId = await t.createReport(token);
    const before = fake.requests.length;
    const events = (await readSse(await post(reportId, 'Why did it fail?')).all()) as StreamEvent[];
    expect(events.filter((e) => e.type === 'text-delta').map((e) => e.delta)).toEqual(['Pool ', 'exhaustion ', 'was the cause.']);
    const saved = events.find((e) => e.type === 'data-saved')!.data as { saved: boolean; message: { content: string; status: string } };
    expect(saved).toMatchObject({ saved: true, message: { content: 'Pool exhaustion was the cause.', status: 'complete' } });
    expect(fake.requests.length).toBe(before + 1);
    const sent = JSON.stringify(fake.requests.at(-1)!.body);
    expect(sent).toContain('payment provider'); // the report is in the context
    expect(sent).toContain('Why did it fail?');
  });

  it('a model failing mid-answer: error event, answer failed with its partial text, saved: true', async () => {
    fake.setBehavior({ chunks: ['First part. ', 'Second part. ', 'Never sent.'], failAfterChunks: 2 });
    const reportId = await t.createReport(token);
    const events = (await readSse(await post(reportId, 'Tell me more')).all()) as StreamEvent[];
    const types = events.map((e) => (typeof e === 'string' ? e : e.type));
    expect(types.slice(-5)).toEqual(['text-end', 'error', 'data-saved', 'finish', '[DONE]']);
    const error = events.find((e) => e.type === 'error')!;
    expect(error.errorText).toEqual(expect.any(String));
    expect(String(error.errorText)).not.toMatch(/127\.0\.0\.1|http:|test-key/);
    const saved = events.find((e) => e.type === 'data-saved')!.data as { saved: boolean; message: { content: string; status: string; error: string } };
    expect(saved.saved).toBe(true);
    expect(saved.message).toMatchObject({ status: 'failed', content: 'First part. Second part. ' });
    expect(saved.message.error).toBe(error.errorText);
    const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    expect(page.messages[1]).toMatchObject({ status: 'failed', content: 'First part. Second part. ' });
  });

  it('an HTTP error before the stream: the answer is failed with no text, and the next turn works', async () => {
    fake.setBehavior({ httpStatus: 500 });
    const reportId = await t.createReport(token);
    const res = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'q' }, headers: { accept: 'application/json' } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { saved: boolean; assistantMessage: { status: string; content: string; error: string } };
    expect(body).toMatchObject({ saved: true, assistantMessage: { status: 'failed', content: '' } });
    expect(body.assistantMessage.error).toMatch(/HTTP 500/);
    fake.setBehavior({});
    const ok = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'again' }, headers: { accept: 'application/json' } });
    expect(((await ok.json()) as { assistantMessage: { status: string } }).assistantMessage.status).toBe('complete');
  });

  it('a client that disconnects mid-answer does not stop it: it completes, is stored, and other tabs see it', async () => {
    fake.setBehavior({ chunks: Array.from({ length: 12 }, (_, i) => `c${i} `), chunkDelayMs: 30 });
    const reportId = await t.createReport(token);
    const events = readSse(await t.request(`/api/reports/${reportId}/events`, { token }));
    const res = await post(reportId, 'Long answer please');
    const stream = readSse(res);
    for (let i = 0; i < 5; i++) await stream.next(); // start, data-turn, text-start, two deltas
    await stream.stop();

    let completed: { status: string; content: string } | undefined;
    for (let i = 0; i < 200 && !completed; i++) {
      const ev = await events.next();
      if (ev?.event === 'message') {
        const m = JSON.parse(ev.data) as { role: string; status: string; content: string };
        if (m.role === 'assistant' && m.status === 'complete') completed = m;
      }
    }
    await events.stop();
    const full = Array.from({ length: 12 }, (_, i) => `c${i} `).join('');
    expect(completed).toMatchObject({ status: 'complete', content: full });
    const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
    expect(page.messages[1]).toMatchObject({ status: 'complete', content: full });
  });

  it('stop keeps the partial text as stopped; stopping a finished answer returns it unchanged', async () => {
    fake.setBehavior({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 40 });
    const reportId = await t.createReport(token);
    const res = await post(reportId, 'Go on');
    const stream = readSse(res);
    const start = (await stream.next())!;
    const answerId = (JSON.parse(start.data) as { messageId: string }).messageId;
    await stream.next();
    await stream.next();
    await stream.next(); // first delta
    const stop = await t.request(`/api/reports/${reportId}/messages/${answerId}/stop`, { method: 'POST', token });
    expect(stop.status).toBe(200);
    const stopped = ((await stop.json()) as { message: { status: string; content: string } }).message;
    expect(stopped.status).toBe('stopped');
    expect(stopped.content.length).toBeGreaterThan(0);
    expect(stopped.content.length).toBeLessThan(Array.from({ length: 50 }, (_, i) => `w${i} `).join('').length);

    const rest = (await stream.all()) as StreamEvent[];
    const saved = rest.find((e) => e.type === 'data-saved')!.data as { message: { status: string; content: string } };
    expect(saved.message).toEqual(expect.objectContaining({ status: 'stopped', content: stopped.content }));

    const again = await t.request(`/api/reports/${reportId}/messages/${answerId}/stop`, { method: 'POST', token });
    expect(((await again.json()) as { message: unknown }).message).toEqual((await Promise.resolve({ ...stopped })));
  });
});

describe('a stop that reaches a queued answer', () => {
  it('ends it as stopped without calling the model, and the answer behind it still runs', async () => {
    const fake = await startFakeOpenAI({ behavior: { chunks: Array.from({ length: 20 }, (_, i) => `x${i} `), chunkDelayMs: 25 } });
    const t = await createTestApp(db, { LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake-model' });
    try {
      const { token } = await t.createUser();
      const reportId = await t.createReport(token);
      const first = readSse(await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'one' } }));
      const secondRes = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'two' } });
      const second = readSse(secondRes);
      const secondId = (JSON.parse((await second.next())!.data) as { messageId: string }).messageId;
      const third = readSse(await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'three' } }));
      await sleep(50);
      const stop = await t.request(`/api/reports/${reportId}/messages/${secondId}/stop`, { method: 'POST', token });
      expect(((await stop.json()) as { message: { status: string; content: string } }).message).toMatchObject({ status: 'stopped', content: '' });
      await Promise.all([first.all(), second.all(), third.all()]);
      const page = messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json());
      expect(page.messages.map((m) => [m.seq, m.status])).toEqual([
        [1, 'complete'],
        [2, 'complete'],
        [3, 'complete'],
        [4, 'stopped'],
        [5, 'complete'],
        [6, 'complete'],
      ]);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
