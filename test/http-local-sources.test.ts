import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageSchema, messagesPageSchema, reportSchema, type sourceSchema } from '../src/api/schemas.js';
import type { z } from 'zod';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, readSse, SAMPLE_REPORT, type TestApp } from './support/test-app.js';
import { sendThroughAiSdk } from './support/ui-message.js';

/**
 * End to end with the built-in local model, whose sources are the passages it quotes: what a client is sent, what
 * is stored, and what every reader gets all agree, and every quote is the slice of the report revision it names,
 * also after the report changed.
 */

type Source = z.infer<typeof sourceSchema>;

let db: TestDatabase;
let t: TestApp;
let token: string;
let reportId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
  ({ token } = await t.createUser());
  reportId = await t.createReport(token);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function revisionText(revision: number): Promise<string> {
  const res = await t.request(`/api/reports/${reportId}?revision=${revision}`, { token });
  expect(res.status).toBe(200);
  return reportSchema.parse(await res.json()).content;
}

async function messages() {
  return messagesPageSchema.parse(await (await t.request(`/api/reports/${reportId}/messages`, { token })).json()).messages;
}

function expectSlices(content: string, sources: Source[]) {
  expect(sources.length).toBeGreaterThan(0);
  for (const s of sources) expect(content.slice(s.start, s.end)).toBe(s.quote);
}

describe('the local model answers with sources', () => {
  it("the AI SDK's client receives them as source-document parts; they are stored and read back alike", async () => {
    const id = randomUUID();
    const { message, errors } = await sendThroughAiSdk(t, token, reportId, { id, content: 'Why was the connection pool exhausted?' });
    expect(errors).toEqual([]);
    const parts = message.parts.filter((p) => p.type === 'source-document');
    expect(parts.length).toBeGreaterThan(0);
    const text = message.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');

    const [, answer] = await messages();
    expect(answer).toMatchObject({ role: 'assistant', status: 'complete', content: text, reportRevision: 1 });
    expect(answer!.context).toMatchObject({ reportChars: SAMPLE_REPORT.length });
    expect(parts).toEqual(
      answer!.sources.map((s) => ({
        type: 'source-document',
        sourceId: `${answer!.id}:${s.n}`,
        mediaType: 'text/markdown',
        title: s.heading,
        filename: undefined,
        providerMetadata: { reportChat: { n: s.n, start: s.start, end: s.end, quote: s.quote } },
      })),
    );
    expectSlices(await revisionText(1), answer!.sources);
    for (const s of answer!.sources) expect(text).toContain(`[${s.n}]`);
  });

  it('in the raw stream each source follows the delta holding its marker, and data-saved carries the same sources', async () => {
    const res = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'What do the recommendations say?' } });
    const chunks = (await readSse(res).all()) as Array<Record<string, unknown>>;
    let text = '';
    const seen: Array<Record<string, unknown>> = [];
    for (const c of chunks) {
      if (c.type === 'text-delta') text += c.delta as string;
      if (c.type === 'source-document') {
        const meta = (c.providerMetadata as { reportChat: { n: number } }).reportChat;
        expect(text).toContain(`[${meta.n}]`);
        seen.push(c);
      }
      if (c.type === 'text-end') break;
    }
    const saved = messageSchema.parse((chunks.find((c) => c.type === 'data-saved') as { data: { message: unknown } }).data.message);
    expect(saved.content).toBe(text);
    expect(seen.map((c) => (c.providerMetadata as { reportChat: unknown }).reportChat)).toEqual(
      saved.sources.map(({ heading: _heading, ...rest }) => rest),
    );
    expectSlices(await revisionText(1), saved.sources);
  });

  it('after the content changes, new answers name the new revision and earlier ones still slice their own', async () => {
    const changed = `# Preface\n\nA new opening paragraph that shifts every offset.\n\n${SAMPLE_REPORT}`;
    const patched = await t.request(`/api/reports/${reportId}`, { method: 'PATCH', token, json: { content: changed } });
    expect(reportSchema.parse(await patched.json()).revision).toBe(2);
    const res = await t.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: { id: randomUUID(), content: 'Why was the connection pool exhausted?' },
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(201);
    const all = await messages();
    const answers = all.filter((m) => m.role === 'assistant');
    expect(answers.map((m) => m.reportRevision)).toEqual([1, 1, 2]);
    const first = await revisionText(1);
    const second = await revisionText(2);
    expect(first).toBe(SAMPLE_REPORT);
    expect(second).toBe(changed);
    expectSlices(first, answers[0]!.sources);
    expectSlices(first, answers[1]!.sources);
    expectSlices(second, answers[2]!.sources);
    // The same passage, cited before and after the change, sits at other offsets in the other revision.
    expect(answers[2]!.sources[0]!.start).not.toBe(answers[0]!.sources[0]!.start);
  });
});

describe('an answer stopped after its first source', () => {
  let slow: TestApp;
  beforeAll(async () => {
    slow = await createTestApp(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '40' });
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('keeps the sources already sent with its partial text', async () => {
    const res = await slow.request(`/api/reports/${reportId}/messages`, {
      method: 'POST',
      token,
      json: { id: randomUUID(), content: 'Why was the connection pool exhausted, and what do the recommendations say?' },
    });
    const stream = readSse(res);
    let answerId = '';
    const sent: unknown[] = [];
    for (let i = 0; i < 500 && sent.length === 0; i++) {
      const ev = await stream.next();
      if (!ev || ev.data === '[DONE]') break;
      const chunk = JSON.parse(ev.data) as Record<string, unknown>;
      if (chunk.type === 'start') answerId = chunk.messageId as string;
      if (chunk.type === 'source-document') sent.push((chunk.providerMetadata as { reportChat: unknown }).reportChat);
    }
    expect(sent.length).toBe(1);
    const stop = await slow.request(`/api/reports/${reportId}/messages/${answerId}/stop`, { method: 'POST', token });
    expect(stop.status).toBe(200);
    const rest = (await stream.all()) as Array<Record<string, unknown>>;
    const saved = messageSchema.parse((rest.find((c) => c.type === 'data-saved') as { data: { message: unknown } }).data.message);
    expect(saved.status).toBe('stopped');
    const stored = (await messages()).find((m) => m.id === answerId)!;
    expect(stored).toMatchObject({ status: 'stopped', reportRevision: 2, content: saved.content });
    expect(stored.sources.length).toBeGreaterThanOrEqual(1);
    expect(stored.sources.map(({ heading: _heading, ...rest }) => rest)[0]).toEqual(sent[0]);
    expect(stored.sources).toEqual(saved.sources);
    expectSlices(await revisionText(2), stored.sources);
  });
});
