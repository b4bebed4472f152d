import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const createToken = (token: string, name: string) => t.request('/api/tokens', { method: 'POST', token, json: { name } });
const tokensOf = async (userId: string) =>
  (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM api_tokens WHERE user_id = ${userId}`)[0]?.n;

describe('API tokens per user', () => {
  it('stops at 50 with 409 token_limit, and a revoked token makes room again', async () => {
    const user = await t.createUser(); // holds its first token
    for (let i = 1; i < 50; i++) expect((await createToken(user.token, `t${i}`)).status).toBe(201);
    const refused = await createToken(user.token, 'one too many');
    expect(refused.status).toBe(409);
    const body = errorSchema.parse(await refused.json());
    expect(body.error.code).toBe('token_limit');
    expect(await tokensOf(user.id)).toBe(50);

    // Another user is not affected.
    const other = await t.createUser();
    expect((await createToken(other.token, 'mine')).status).toBe(201);

    const [spare] = await db.sql<{ id: string }[]>`SELECT id FROM api_tokens WHERE user_id = ${user.id} AND name = 't1'`;
    expect((await t.request(`/api/tokens/${spare!.id}`, { method: 'DELETE', token: user.token })).status).toBe(204);
    expect((await createToken(user.token, 'after a revoke')).status).toBe(201);
  });

  it('holds under concurrent creations: from 48, six at once make exactly 50', async () => {
    const user = await t.createUser();
    for (let i = 1; i < 48; i++) expect((await createToken(user.token, `t${i}`)).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => createToken(user.token, `race ${i}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 409, 409, 409, 409]);
    expect(await tokensOf(user.id)).toBe(50);
  });
});
