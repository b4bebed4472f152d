import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/test-app.js';

const PUBLIC_URL = 'https://chat.example.com';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

let db: TestDatabase;
let t: TestApp;
let open: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db, { PUBLIC_URL, METRICS_TOKEN });
  open = await createTestApp(db);
});
afterAll(async () => {
  await t?.close();
  await open?.close();
  await db?.drop();
});

/** A request as the proxy in front forwards it: plain http inside, the public name in Host. */
const request = (path: string, init: RequestInit & { host?: string } = {}) =>
  Promise.resolve(t.app.request(`http://${init.host ?? 'chat.example.com'}${path}`, init));

describe('PUBLIC_URL', () => {
  it('refuses a request for another host name with 400 invalid_request, naming neither', async () => {
    for (const host of ['evil.example', 'chat.example.com.evil.example', '127.0.0.1:3000', 'chat.example.com:8443']) {
      const res = await request('/api/reports', { host, headers: { authorization: `Bearer rc_${'a'.repeat(43)}` } });
      expect(res.status).toBe(400);
      const body = errorSchema.parse(await res.json());
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message).not.toContain('chat.example.com');
      expect(body.error.message).not.toContain(host);
    }
    // The public name, however it is written, gets through to authentication.
    for (const host of ['chat.example.com', 'CHAT.example.com', 'chat.example.com:443']) {
      expect((await request('/api/me', { host })).status).toBe(401);
    }
    // Probes and scrapers use the instance's own address.
    expect((await request('/healthz', { host: '10.0.0.7:3000' })).status).toBe(200);
    expect((await request('/readyz', { host: '10.0.0.7:3000' })).status).toBe(200);
  });

  it("is the origin cookie-authenticated requests must come from, and makes the cookie Secure", async () => {
    const email = `public-${randomUUID()}@example.com`;
    const created = await request('/api/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a public password' }),
    });
    expect(created.status).toBe(201);
    // Plain http between the proxy and the server, and no X-Forwarded-Proto: the origin is still PUBLIC_URL's.
    const login = await request('/api/auth/login', {
      method: 'POST',
      headers: { origin: PUBLIC_URL, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a public password' }),
    });
    expect(login.status).toBe(204);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/Secure/i);
    const cookie = setCookie.split(';')[0]!;

    const post = (origin: string) =>
      request('/api/reports', {
        method: 'POST',
        headers: { cookie, origin, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Mine', content: '# Mine\n\ntext' }),
      });
    expect((await post(PUBLIC_URL)).status).toBe(201);
    const forged = await post('http://chat.example.com');
    expect(forged.status).toBe(403);
    expect(errorSchema.parse(await forged.json()).error.code).toBe('csrf');
  });
});

describe('METRICS_TOKEN', () => {
  it('when set, /metrics needs it as a bearer token: 401 otherwise', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Bearer ${METRICS_TOKEN}x`, `Basic ${METRICS_TOKEN}`, ADMIN_TOKEN]) {
      const res = await request('/metrics', { host: '10.0.0.7:3000', headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(errorSchema.parse(await res.json()).error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    const res = await request('/metrics', { host: '10.0.0.7:3000', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^report_chat_open_event_streams \d+$/m);
  });

  it('when unset, /metrics stays open', async () => {
    expect((await open.request('/metrics')).status).toBe(200);
  });
});
