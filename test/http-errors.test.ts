import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { connect } from '../src/store/db.js';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.js';
import { runMigrations } from '../src/store/migrate.js';
import { startFakeOpenAI } from './fakes/fake-openai-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
let token: string;
let reportId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db, { MAX_MESSAGE_CHARS: '100', MAX_MESSAGES_PER_CONVERSATION: '4' });
  ({ token } = await t.createUser());
  reportId = await t.createReport(token);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = errorSchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  // Never a stack trace, SQL or a file path.
  expect(body.error.message).not.toMatch(/\bat \w+ \(|SELECT|INSERT|\/work\/|node_modules|\.ts:\d+/);
  return body;
}

const countMessages = async () => (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages`)[0]!.n;

describe('every error of the table that these routes produce', () => {
  it('400 invalid_request: malformed JSON, missing or empty field, wrong type, bad UUID, NUL, lone surrogate, unknown format', async () => {
    const before = await countMessages();
    const url = `/api/reports/${reportId}/messages`;
    const post = (body: string) => t.request(url, { method: 'POST', token, body, headers: { 'content-type': 'application/json' } });
    await expectError(await post('{"content": '), 400, 'invalid_request');
    await expectError(await post('{}'), 400, 'invalid_request');
    await expectError(await post('{"content": "   "}'), 400, 'invalid_request');
    await expectError(await post('{"content": 42}'), 400, 'invalid_request');
    await expectError(await post('{"content": "hi", "id": "not-a-uuid"}'), 400, 'invalid_request');
    await expectError(await post(JSON.stringify({ content: 'a\u0000b' })), 400, 'invalid_request');
    await expectError(await post('{"content": "a\\ud800b"}'), 400, 'invalid_request');
    await expectError(await post('{"content": "hi", "extra": true}'), 400, 'invalid_request');
    await expectError(await post('[]'), 400, 'invalid_request');
    await expectError(await t.request('/api/reports/not-a-uuid/messages', { token }), 400, 'invalid_request');
    await expectError(await t.request(`/api/reports/${reportId}/export?format=docx`, { token }), 400, 'invalid_request');
    await expectError(await t.request(`${url}?limit=500`, { token }), 400, 'invalid_request');
    await expectError(await t.request(url, { method: 'POST', token, json: { content: 'x' }, headers: { 'if-match': 'seven' } }), 400, 'invalid_request');
    expect(await countMessages()).toBe(before);
  });

  it('401 unauthorized without or with wrong credentials; the admin token only creates users', async () => {
    await expectError(await t.request('/api/reports'), 401, 'unauthorized');
    await expectError(await t.request('/api/reports', { token: `rc_${'a'.repeat(43)}` }), 401, 'unauthorized');
    await expectError(await t.request('/api/reports', { headers: { authorization: 'Basic abc' } }), 401, 'unauthorized');
    await expectError(await t.request('/api/reports', { token: ADMIN_TOKEN }), 401, 'unauthorized');
    await expectError(await t.request('/api/users', { method: 'POST', token, json: { email: 'x@example.com' } }), 401, 'unauthorized');
  });

  it('404 not_found for a missing report and for a report of another user, with the same body', async () => {
    const other = await t.createUser();
    const missing = await expectError(await t.request(`/api/reports/${randomUUID()}/messages`, { token: other.token }), 404, 'not_found');
    const foreign = await expectError(await t.request(`/api/reports/${reportId}/messages`, { token: other.token }), 404, 'not_found');
    expect(foreign).toEqual(missing);
    for (const [method, path] of [
      ['GET', ''],
      ['PATCH', ''],
      ['POST', '/messages'],
      ['GET', '/events'],
      ['GET', '/export'],
      ['DELETE', '/messages'],
      ['POST', `/messages/${randomUUID()}/stop`],
    ] as const) {
      const res = await t.request(`/api/reports/${reportId}${path}`, {
        method,
        token: other.token,
        json: method === 'PATCH' ? { title: 'x' } : method === 'POST' ? { content: 'x' } : undefined,
        headers: { 'if-match': '"0"' },
      });
      expect((await expectError(res, 404, 'not_found'))).toEqual(missing);
    }
    await expectError(await t.request('/api/nothing-here', { token }), 404, 'not_found');
    await expectError(await t.request('/api/reports', { method: 'PUT', token }), 404, 'not_found');
    await expectError(await t.request(`/api/reports/${reportId}/messages/${randomUUID()}/stop`, { method: 'POST', token }), 404, 'not_found');
  });

  it('413 payload_too_large: a message over MAX_MESSAGE_CHARS, a body over 64 KiB, a report over 2 MiB', async () => {
    const before = await countMessages();
    await expectError(await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'x'.repeat(101) } }), 413, 'payload_too_large');
    await expectError(await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'x'.repeat(70_000) } }), 413, 'payload_too_large');
    await expectError(await t.request('/api/reports', { method: 'POST', token, json: { title: 't', content: 'x'.repeat(2 * 1024 * 1024 + 1) } }), 413, 'payload_too_large');
    expect(await countMessages()).toBe(before);
  });

  it('415 unsupported_media_type for a body that is not JSON', async () => {
    const res = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, body: 'content=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await expectError(res, 415, 'unsupported_media_type');
  });

  it('409 conversation_full at MAX_MESSAGES_PER_CONVERSATION, and nothing more is stored', async () => {
    const full = await t.createReport(token);
    for (const content of ['a', 'b']) {
      const ok = await t.request(`/api/reports/${full}/messages`, { method: 'POST', token, json: { content }, headers: { accept: 'application/json' } });
      expect(ok.status).toBe(201);
    }
    await expectError(await t.request(`/api/reports/${full}/messages`, { method: 'POST', token, json: { content: 'c' } }), 409, 'conversation_full');
    const page = (await (await t.request(`/api/reports/${full}/messages`, { token })).json()) as { messages: unknown[] };
    expect(page.messages).toHaveLength(4);
  });

  it('409 while an answer is in progress refuses to clear', async () => {
    const fake = await startFakeOpenAI({ behavior: { chunks: Array.from({ length: 30 }, () => 'x '), chunkDelayMs: 30 } });
    const slow = await createTestApp(db, { LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'm' });
    try {
      const rid = await slow.createReport(token);
      const sending = slow.request(`/api/reports/${rid}/messages`, { method: 'POST', token, json: { content: 'q' }, headers: { accept: 'application/json' } });
      await new Promise((r) => setTimeout(r, 200));
      // The current version while it streams: the question (1) and the answer, created streaming (2).
      await expectError(await slow.request(`/api/reports/${rid}/messages`, { method: 'DELETE', token, headers: { 'if-match': '"2"' } }), 409, 'conversation_busy');
      expect((await sending).status).toBe(201);
    } finally {
      await slow.close();
      await fake.close();
    }
  });
});

describe('the database stopped before a send', () => {
  it('answers 503 unavailable, stores nothing and calls no model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-chat-down-'));
    chmodSync(dir, 0o755);
    const fake = await startFakeOpenAI();
    const pg = await startEmbeddedPostgres(join(dir, 'data'));
    const sql = connect(pg.url, { max: 4 });
    let app: TestApp | undefined;
    try {
      await runMigrations(sql);
      app = await createTestApp({ url: pg.url, directUrl: pg.url, pooled: false, sql, admin: sql, connect: () => sql, drop: async () => {} }, {
        LLM_PROVIDER: 'openai-compatible',
        LLM_BASE_URL: fake.baseUrl,
        LLM_MODEL: 'm',
      });
      const { token: tk } = await app.createUser();
      const rid = await app.createReport(tk);
      await pg.stop();
      const res = await app.request(`/api/reports/${rid}/messages`, { method: 'POST', token: tk, json: { id: randomUUID(), content: 'hello?' } });
      const body = await expectError(res, 503, 'unavailable');
      expect(body.error.message).toMatch(/nothing was stored/);
      const ready = await app.request('/readyz');
      expect(ready.status).toBe(503);
      expect(fake.requests).toHaveLength(0);

      // Restarted on the same data directory: the send left no trace.
      const again = await startEmbeddedPostgres(join(dir, 'data'));
      const check = connect(again.url, { max: 1 });
      const [row] = await check<{ n: number }[]>`SELECT count(*)::int AS n FROM messages`;
      expect(row?.n).toBe(0);
      await check.end();
      await again.stop();
    } finally {
      await app?.close();
      await sql.end({ timeout: 1 }).catch(() => {});
      await pg.stop().catch(() => {});
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hardening', () => {
  it('sends the security headers on every response, errors included', async () => {
    for (const res of [await t.request('/healthz'), await t.request('/api/nowhere'), await t.request('/api/reports', { token })]) {
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-request-id')).toMatch(/^[\w.:-]+$/);
    }
  });

  it('keeps a sane X-Request-Id and replaces a hostile one', async () => {
    expect((await t.request('/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    expect((await t.request('/healthz', { headers: { 'x-request-id': '<script>' } })).headers.get('x-request-id')).not.toBe('<script>');
  });
});
