import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../src/store/db.js';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let a: TestApp;
let b: TestApp;
const limits = { RATE_LIMIT_PER_HOUR: '30', RATE_LIMIT_PER_DAY: '150' };

beforeAll(async () => {
  db = await createTestDatabase();
  // Two instances: separate connection pools, processes' worth of state, one database.
  a = await createTestApp(db, limits);
  b = await createTestApp({ ...db, sql: connect(db.url, { max: 5 }) }, limits);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await b?.ctx.sql.end({ timeout: 5 });
  await db?.drop();
});

const send = (app: TestApp, token: string, reportId: string, id = randomUUID(), content = 'a question') =>
  app.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id, content }, headers: { accept: 'application/json' } });

describe('turn limits hold across instances', () => {
  it('the 31st turn in an hour is refused on either instance; replays still answer; nothing refused is stored', async () => {
    const user = await a.createUser();
    const reportA = await a.createReport(user.token);
    const reportB = await b.createReport(user.token);
    const firstId = randomUUID();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const app = i % 2 === 0 ? a : b;
      const res = await send(app, user.token, i % 2 === 0 ? reportA : reportB, i === 0 ? firstId : randomUUID());
      statuses.push(res.status);
      if (i === 29) {
        expect(res.headers.get('x-ratelimit-limit-hour')).toBe('30');
        expect(res.headers.get('x-ratelimit-remaining-hour')).toBe('0');
        expect(res.headers.get('x-ratelimit-remaining-day')).toBe('120');
        expect(Number(res.headers.get('x-ratelimit-reset-hour'))).toBeGreaterThan(Date.now() / 1000);
      }
    }
    expect(statuses).toEqual(Array(30).fill(201));

    for (const [app, rid] of [
      [a, reportA],
      [b, reportB],
    ] as const) {
      const refused = await send(app, user.token, rid);
      expect(refused.status).toBe(429);
      expect(errorSchema.parse(await refused.json()).error.code).toBe('rate_limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(refused.headers.get('x-ratelimit-remaining-hour')).toBe('0');
    }

    const replay = await send(a, user.token, reportA, firstId);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    const [row] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.report_id IN (${reportA}, ${reportB}) AND m.role = 'user'`;
    expect(row?.n).toBe(30);

    // Another user is not affected.
    const other = await b.createUser();
    expect((await send(b, other.token, await b.createReport(other.token))).status).toBe(201);
  });

  it('concurrent sends at the limit: exactly the allowed number get through', async () => {
    const user = await a.createUser();
    const reportId = await a.createReport(user.token);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 ? a : b, user.token, reportId)));
    const counts = results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    expect(counts).toEqual({ 201: 30, 429: 10 });
  });
});

describe('old windows', () => {
  it('are deleted by the sweeper an instance starts with; current ones stay', async () => {
    const old = `test:old:${randomUUID()}`;
    const current = `test:current:${randomUUID()}`;
    await db.sql`
      INSERT INTO rate_limit_windows (key, window_start, count)
      VALUES (${old}, now() - interval '3 days', 5), (${current}, now() - interval '1 hour', 5)`;
    const c = await createTestApp({ ...db, sql: connect(db.url, { max: 2 }) }, limits);
    try {
      const deadline = Date.now() + 10_000;
      let keys: string[] = [];
      while (Date.now() < deadline) {
        keys = (await db.sql<{ key: string }[]>`SELECT key FROM rate_limit_windows WHERE key IN (${old}, ${current})`).map((r) => r.key);
        if (!keys.includes(old)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(keys).toEqual([current]);
    } finally {
      await c.close();
      await c.ctx.sql.end({ timeout: 5 });
    }
  });
});
