import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_TTL_MS } from '../src/chat/credential-cache.js';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { endsWithin } from './support/stream-end.js';
import { ADMIN_TOKEN, readSse } from './support/test-app.js';
import { startTwoInstances, type Instance } from './support/two-instances.js';

/**
 * An events stream lasts as long as the credential that opened it. Two instances on one database, each with its
 * PostgreSQL event bus, and a periodic access check of an hour: a stream that ends within seconds was ended by an
 * event (or, for a JWT, by its expiry), unless a test runs the check itself. So does any request's credential, though
 * each instance remembers who a token or a session cookie belongs to for a few seconds (src/chat/credential-cache.ts).
 */
const SECRET = 'a-test-secret-that-is-at-least-32-characters-long';
const ORIGIN = 'http://127.0.0.1';

let db: TestDatabase;
let instances: Awaited<ReturnType<typeof startTwoInstances>>;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  db = await createTestDatabase();
  instances = await startTwoInstances(db, { AUTH_JWT_SECRET: SECRET });
  ({ a, b } = instances);
});
afterAll(async () => {
  await instances?.stop();
  await db?.drop();
});

type Stream = ReturnType<typeof readSse>;

/** A user with a password, their first API token and a report of their own. */
async function person() {
  const email = `p-${randomUUID()}@example.com`;
  const password = 'a long enough password';
  const res = await a.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email, password } });
  expect(res.status).toBe(201);
  const { user, token } = (await res.json()) as { user: { id: string }; token: string };
  const created = await a.request('/api/reports', { method: 'POST', token, json: { title: 'R', content: '# R\n\nThe cache was cold.' } });
  expect(created.status).toBe(201);
  return { id: user.id, email, password, token, reportId: ((await created.json()) as { id: string }).id };
}

async function login(email: string, password: string): Promise<string> {
  const res = await a.request('/api/auth/login', { method: 'POST', json: { email, password }, headers: { origin: ORIGIN } });
  expect(res.status).toBe(204);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

async function newToken(token: string): Promise<{ id: string; token: string }> {
  const res = await a.request('/api/tokens', { method: 'POST', token, json: { name: 'extra' } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

async function openEvents(on: Instance, reportId: string, headers: Record<string, string>): Promise<Stream> {
  const res = await on.request(`/api/reports/${reportId}/events`, { headers });
  expect(res.status).toBe(200);
  return readSse(res);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Sends a question to the report and checks that each stream delivers it: they are still open and live. */
async function stillLive(token: string, reportId: string, streams: Stream[]) {
  const content = `still there? ${randomUUID()}`;
  const sent = await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content }, headers: { accept: 'application/json' } });
  expect(sent.status).toBe(201);
  for (const stream of streams) {
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      const event = await stream.next(5_000);
      if (!event) break;
      seen = event.event === 'message' && event.data.includes(content);
    }
    expect(seen).toBe(true);
  }
}

async function refused(on: Instance, reportId: string, headers: Record<string, string>) {
  const res = await on.request(`/api/reports/${reportId}/events`, { headers });
  expect(res.status).toBe(401);
  expect(errorSchema.parse(await res.json()).error.code).toBe('unauthorized');
}

describe('an events stream ends when its credential ends', () => {
  it('a revoked API token: its streams end at once on every instance; other tokens keep theirs', async () => {
    const p = await person();
    const revoked = await newToken(p.token);
    const kept = await newToken(p.token);
    const gone = [await openEvents(b, p.reportId, bearer(revoked.token)), await openEvents(a, p.reportId, bearer(revoked.token))];
    const staying = [await openEvents(b, p.reportId, bearer(kept.token)), await openEvents(a, p.reportId, bearer(p.token))];
    const openOnB = b.streams.open;

    expect((await a.request(`/api/tokens/${revoked.id}`, { method: 'DELETE', token: p.token })).status).toBe(204);
    for (const stream of gone) expect(await endsWithin(stream, 3_000)).toBe(true);
    await refused(b, p.reportId, bearer(revoked.token));
    expect(b.streams.open).toBe(openOnB - 1);
    await stillLive(p.token, p.reportId, staying);
    await Promise.all(staying.map((s) => s.stop()));
  });

  it("a signed-out session: its streams end at once on every instance; the user's other session keeps theirs", async () => {
    const p = await person();
    const signedOut = await login(p.email, p.password);
    const other = await login(p.email, p.password);
    const gone = [await openEvents(b, p.reportId, { cookie: signedOut }), await openEvents(a, p.reportId, { cookie: signedOut })];
    const staying = [await openEvents(b, p.reportId, { cookie: other }), await openEvents(b, p.reportId, bearer(p.token))];

    expect((await a.request('/api/auth/logout', { method: 'POST', headers: { cookie: signedOut, origin: ORIGIN } })).status).toBe(204);
    for (const stream of gone) expect(await endsWithin(stream, 3_000)).toBe(true);
    await refused(b, p.reportId, { cookie: signedOut });
    await stillLive(p.token, p.reportId, staying);
    await Promise.all(staying.map((s) => s.stop()));
  });

  it('an expired session, and a token deleted behind the app’s back: ended by the next access check', async () => {
    const p = await person();
    const cookie = await login(p.email, p.password);
    const deleted = await newToken(p.token);
    const gone = [await openEvents(b, p.reportId, { cookie }), await openEvents(b, p.reportId, bearer(deleted.token))];
    const staying = [await openEvents(b, p.reportId, bearer(p.token))];

    // No event announces either: only the periodic check can notice.
    await db.sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ${p.id}`;
    await db.sql`DELETE FROM api_tokens WHERE id = ${deleted.id}`;
    for (const stream of gone) expect(await endsWithin(stream, 300)).toBe(false);
    await b.ctx.access.checkNow();
    for (const stream of gone) expect(await endsWithin(stream, 3_000)).toBe(true);
    await refused(b, p.reportId, { cookie });
    await stillLive(p.token, p.reportId, staying);
    await Promise.all(staying.map((s) => s.stop()));
  });

  it('an expired JWT: its stream ends at its `exp`; a JWT that lives on keeps its own', async () => {
    const sub = randomUUID();
    const jwt = (seconds: number) =>
      new SignJWT({ sub })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
        .sign(new TextEncoder().encode(SECRET));
    const long = await jwt(300);
    const created = await b.request('/api/reports', { method: 'POST', headers: bearer(long), json: { title: 'J', content: '# J\n\ntext' } });
    expect(created.status).toBe(201);
    const reportId = ((await created.json()) as { id: string }).id;
    const short = await jwt(3);
    const gone = await openEvents(b, reportId, bearer(short));
    const staying = [await openEvents(b, reportId, bearer(long))];

    expect(await endsWithin(gone, 6_000)).toBe(true);
    await refused(b, reportId, bearer(short));
    await stillLive(long, reportId, staying);
    await Promise.all(staying.map((s) => s.stop()));
  });
});

const me = (on: Instance, headers: Record<string, string>) => on.request('/api/me', { headers }).then((r) => r.status);

/** Milliseconds until `on` refuses the credential (polled every 20 ms), or undefined if it still accepts it after `withinMs`. */
async function refusedAfter(on: Instance, headers: Record<string, string>, withinMs: number): Promise<number | undefined> {
  const started = Date.now();
  for (let i = 0; i < 1_000 && Date.now() - started <= withinMs; i++) {
    const status = await me(on, headers);
    if (status === 401) return Date.now() - started;
    expect(status).toBe(200);
    await sleep(20);
  }
  return undefined;
}

// The other instance hears of an ended credential through NOTIFY (batched for 25 ms): well under the remembering time.
const BY_EVENT_MS = 2_000;

describe('credentials remembered by an instance', () => {
  it('a revoked token is refused at once where it was revoked and, by the bus, on the other instance that had just used it', async () => {
    expect(BY_EVENT_MS).toBeLessThan(CREDENTIAL_TTL_MS);
    const p = await person();
    const revoked = await newToken(p.token);
    expect([await me(a, bearer(revoked.token)), await me(b, bearer(revoked.token))]).toEqual([200, 200]);

    expect((await a.request(`/api/tokens/${revoked.id}`, { method: 'DELETE', token: p.token })).status).toBe(204);
    expect(await me(a, bearer(revoked.token))).toBe(401);
    expect(await refusedAfter(b, bearer(revoked.token), BY_EVENT_MS)).toBeDefined();
    // The user's other token still works on both.
    expect([await me(a, bearer(p.token)), await me(b, bearer(p.token))]).toEqual([200, 200]);
  });

  it('a signed-out session, a session replaced by signing in again and a disabled user are refused on the other instance by the bus', async () => {
    const p = await person();
    const cookie = { cookie: await login(p.email, p.password) };
    expect(await me(b, cookie)).toBe(200);
    expect((await a.request('/api/auth/logout', { method: 'POST', headers: { ...cookie, origin: ORIGIN } })).status).toBe(204);
    expect(await refusedAfter(b, cookie, BY_EVENT_MS)).toBeDefined();

    // Signing in again with a session cookie replaces that session: the old cookie ends like a signed-out one.
    const replaced = { cookie: await login(p.email, p.password) };
    expect(await me(b, replaced)).toBe(200);
    const again = await a.request('/api/auth/login', {
      method: 'POST',
      json: { email: p.email, password: p.password },
      headers: { ...replaced, origin: ORIGIN },
    });
    expect(again.status).toBe(204);
    expect(await refusedAfter(b, replaced, BY_EVENT_MS)).toBeDefined();

    expect(await me(b, bearer(p.token))).toBe(200);
    const disabled = await a.request(`/api/users/${p.id}/disable`, { method: 'POST', token: ADMIN_TOKEN });
    expect(disabled.status).toBe(200);
    expect(await refusedAfter(b, bearer(p.token), BY_EVENT_MS)).toBeDefined();
  });

  it('a token deleted in the database behind the app’s back, which no event announces, is refused within the remembering time', async () => {
    const p = await person();
    const deleted = await newToken(p.token);
    expect(await me(b, bearer(deleted.token))).toBe(200);
    await db.sql`DELETE FROM api_tokens WHERE id = ${deleted.id}`;
    expect(await refusedAfter(b, bearer(deleted.token), CREDENTIAL_TTL_MS + 1_000)).toBeDefined();
  });
});
