import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportChatClient, createReportChat, type ReportChatHandler } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { SAMPLE_REPORT } from './support/test-app.js';

const ADMIN = 'embedding-admin-token-0123456789';
let db: TestDatabase;
let chat: ReportChatHandler;

beforeAll(async () => {
  db = await createTestDatabase();
  chat = await createReportChat({
    basePath: '/chat',
    env: { DATABASE_URL: db.url, ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'silent', LOCAL_MODEL_CHUNK_DELAY_MS: '0', RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_PER_DAY: '0' },
  });
});
afterAll(async () => {
  await chat?.close();
  await db?.drop();
});

/** The host app's own fetch: plain Request objects, the way a Next.js route handler hands them over. */
const hostFetch: typeof fetch = async (input, init) => chat.fetch(new Request(input, init));

describe('report-chat embedded as a fetch handler under /chat', () => {
  it('serves the API under the prefix through plain Request objects', async () => {
    const created = await chat.fetch(
      new Request('http://host.example/chat/api/users', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: `embed-${randomUUID()}@example.com` }),
      }),
    );
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };

    const client = new ReportChatClient({ baseUrl: 'http://host.example/chat', token, fetch: hostFetch });
    const report = await client.createReport({ title: 'Incident', content: SAMPLE_REPORT });
    expect(report.role).toBe('owner');

    // Streamed through the typed client: the joined deltas equal the saved answer.
    const events = [];
    for await (const ev of client.stream(report.id, 'What was the root cause?')) events.push(ev);
    const text = events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : [])).join('');
    const saved = events.find((e) => e.type === 'data-saved');
    expect(saved?.type === 'data-saved' && saved.data.saved).toBe(true);
    expect(saved?.type === 'data-saved' && saved.data.message.content).toBe(text);
    expect(text).toContain('payment provider');

    const page = await client.history(report.id);
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2]);
    const turn = await client.ask(report.id, 'And the recommendations?', { id: randomUUID() });
    expect(turn).toMatchObject({ saved: true, replayed: false });

    const outside = await chat.fetch(new Request('http://host.example/other/api/reports'));
    expect(outside.status).toBe(404);
    const missing = await client.getReport(randomUUID()).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('delivers live events to a client following the conversation', async () => {
    const created = await chat.fetch(
      new Request('http://host.example/chat/api/users', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: `embed-${randomUUID()}@example.com` }),
      }),
    );
    const { token } = (await created.json()) as { token: string };
    const client = new ReportChatClient({ baseUrl: 'http://host.example/chat', token, fetch: hostFetch });
    const report = await client.createReport({ title: 'Incident', content: SAMPLE_REPORT });
    const controller = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const ev of client.events(report.id, { after: 0, signal: controller.signal })) {
        if (ev.type === 'message') seen.push(`${ev.message.seq}:${ev.message.status}`);
        if (seen.includes('2:complete')) break;
      }
    })();
    await client.ask(report.id, 'Summary?');
    await following;
    controller.abort();
    expect(seen).toContain('1:complete');
    expect(seen.at(-1)).toBe('2:complete');
  });
});
