import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { createAdminLink } from '../src/chat/admin.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { endsWithin } from './support/stream-end.js';
import { ADMIN_TOKEN, readSse } from './support/test-app.js';
import { startTwoInstances, type Instance } from './support/two-instances.js';

/**
 * What the account, sharing and administration pages call: members by email, API tokens with their last use, a
 * password change that signs out the other sessions, the admin page's sign-in, invites, and disabling a user. Two
 * instances on one database with the PostgreSQL event bus and an access check of an hour: a stream that ends within
 * seconds on the other instance was ended by an event.
 */
const ORIGIN = 'http://127.0.0.1';
const PASSWORD = 'a long enough password';

let db: TestDatabase;
let instances: Awaited<ReturnType<typeof startTwoInstances>>;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  db = await createTestDatabase();
  instances = await startTwoInstances(db);
  ({ a, b } = instances);
});
afterAll(async () => {
  await instances?.stop();
  await db?.drop();
});

async function person(password: string | null = PASSWORD) {
  const email = `P-${randomUUID()}@Example.com`;
  const res = await a.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email, name: 'Pat', ...(password ? { password } : {}) } });
  expect(res.status).toBe(201);
  const { user, token } = (await res.json()) as { user: { id: string }; token: string };
  return { id: user.id, email, token };
}

async function login(email: string, password = PASSWORD): Promise<string> {
  const res = await a.request('/api/auth/login', { method: 'POST', json: { email, password }, headers: { origin: ORIGIN } });
  expect(res.status).toBe(204);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const codeOf = async (res: Response) => errorSchema.parse(await res.json()).error.code;

async function report(token: string) {
  const res = await a.request('/api/reports', { method: 'POST', token, json: { title: 'R', content: '# R\n\nThe cache was cold.' } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function events(on: Instance, reportId: string, headers: Record<string, string>) {
  const res = await on.request(`/api/reports/${reportId}/events`, { headers });
  expect(res.status).toBe(200);
  return readSse(res);
}

describe('sharing by email', () => {
  it('adds a member by email in any case, says why it cannot, and shows members to the owner only', async () => {
    const owner = await person();
    const colleague = await person();
    const reportId = await report(owner.token);
    const add = (token: string, json: unknown) => a.request(`/api/reports/${reportId}/members`, { method: 'POST', token, json });

    const added = await add(owner.token, { email: colleague.email.toUpperCase(), role: 'editor' });
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ userId: colleague.id, email: colleague.email, name: 'Pat', role: 'editor' });

    const again = await add(owner.token, { email: colleague.email, role: 'viewer' });
    expect(again.status).toBe(409);
    expect(await codeOf(again)).toBe('already_member');
    const unknown = await add(owner.token, { email: 'nobody@example.com', role: 'viewer' });
    expect(unknown.status).toBe(404);
    expect(errorSchema.parse(await unknown.json()).error.message).toMatch(/No user has the email nobody@example\.com/);
    const self = await add(owner.token, { email: owner.email, role: 'viewer' });
    expect(self.status).toBe(400);
    const byEditor = await add(colleague.token, { email: (await person()).email, role: 'viewer' });
    expect(byEditor.status).toBe(403);

    const third = await person();
    expect((await add(owner.token, { email: third.email, role: 'viewer' })).status).toBe(201);
    const asOwner = (await (await a.request(`/api/reports/${reportId}/members`, { token: owner.token })).json()) as { members: { userId: string }[]; role: string; owner: { id: string } };
    expect(asOwner.role).toBe('owner');
    expect(asOwner.owner.id).toBe(owner.id);
    expect(asOwner.members.map((m) => m.userId).sort()).toEqual([colleague.id, third.id].sort());
    const asViewer = (await (await a.request(`/api/reports/${reportId}/members`, { token: third.token })).json()) as typeof asOwner;
    expect(asViewer.role).toBe('viewer');
    expect(asViewer.owner.id).toBe(owner.id);
    expect(asViewer.members).toEqual([{ userId: third.id, email: third.email, name: 'Pat', role: 'viewer' }]);
    const stranger = await person();
    expect((await a.request(`/api/reports/${reportId}/members`, { token: stranger.token })).status).toBe(404);
  });
});

describe('API tokens', () => {
  it('lists tokens with their last use, written at most once a minute, never the token itself', async () => {
    const user = await person();
    const created = await a.request('/api/tokens', { method: 'POST', token: user.token, json: { name: 'ci' } });
    const { id, token } = (await created.json()) as { id: string; token: string };
    const list = async () => ((await (await a.request('/api/tokens', { token: user.token })).json()) as { tokens: { id: string; name: string | null; lastUsedAt: string | null }[] }).tokens;
    const before = (await list()).find((t) => t.id === id)!;
    expect(before).toMatchObject({ name: 'ci', lastUsedAt: null });
    expect(JSON.stringify(await list())).not.toContain(token);

    expect((await a.request('/api/me', { token })).status).toBe(200);
    let first: string | null = null;
    for (let i = 0; i < 50 && !first; i++) {
      first = (await list()).find((t) => t.id === id)!.lastUsedAt;
      if (!first) await new Promise((r) => setTimeout(r, 20));
    }
    expect(first).not.toBeNull();
    // A second use within the minute writes nothing: the row still holds the first use's time.
    const [row] = await db.sql<{ xmin: string }[]>`SELECT xmin::text FROM api_tokens WHERE id = ${id}`;
    expect((await a.request('/api/me', { token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    const [after] = await db.sql<{ xmin: string }[]>`SELECT xmin::text FROM api_tokens WHERE id = ${id}`;
    expect(after!.xmin).toBe(row!.xmin);
    expect((await list()).find((t) => t.id === id)!.lastUsedAt).toBe(first);

    expect((await a.request(`/api/tokens/${id}`, { method: 'DELETE', token: user.token })).status).toBe(204);
    expect((await a.request('/api/me', { token })).status).toBe(401);
    expect((await list()).some((t) => t.id === id)).toBe(false);
  });
});

describe('changing the password', () => {
  it('needs the current one, signs out every other session (their streams end on every instance) and keeps this one', async () => {
    const user = await person();
    const reportId = await report(user.token);
    const mine = await login(user.email);
    const other = await login(user.email);
    const otherStream = await events(b, reportId, { cookie: other });
    const change = (json: unknown) => a.request('/api/me/password', { method: 'POST', json, headers: { cookie: mine, origin: ORIGIN } });

    expect(await codeOf(await change({ newPassword: 'the new password' }))).toBe('invalid_request');
    const wrong = await change({ currentPassword: 'not it at all', newPassword: 'the new password' });
    expect(wrong.status).toBe(403);
    expect((await a.request('/api/me', { headers: { cookie: other } })).status).toBe(200);

    expect((await change({ currentPassword: PASSWORD, newPassword: 'the new password' })).status).toBe(204);
    expect(await endsWithin(otherStream, 3_000)).toBe(true);
    expect((await a.request('/api/me', { headers: { cookie: other } })).status).toBe(401);
    const me = await a.request('/api/me', { headers: { cookie: mine } });
    expect(await me.json()).toMatchObject({ signedInWith: 'session', hasPassword: true, user: { id: user.id } });
    expect((await a.request('/api/me', { token: user.token })).status).toBe(200);
    const old = await a.request('/api/auth/login', { method: 'POST', json: { email: user.email, password: PASSWORD }, headers: { origin: ORIGIN } });
    expect(old.status).toBe(401);
    await login(user.email, 'the new password');
  });

  it('lets a user without a password set a first one', async () => {
    const user = await person(null);
    expect(await (await a.request('/api/me', { token: user.token })).json()).toMatchObject({ signedInWith: 'token', hasPassword: false });
    expect((await a.request('/api/me/password', { method: 'POST', token: user.token, json: { newPassword: 'my first password' } })).status).toBe(204);
    await login(user.email, 'my first password');
  });
});

describe('administration', () => {
  const adminSignIn = (json: unknown) => a.request('/api/admin/session', { method: 'POST', json, headers: { origin: ORIGIN } });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

  it('signs in to the admin page with the admin token or a one-time link, and that session manages users only', async () => {
    expect((await adminSignIn({ token: 'not the admin token' })).status).toBe(401);
    const signedIn = await adminSignIn({ token: ADMIN_TOKEN });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('set-cookie')).toMatch(/^rc_admin=[A-Za-z0-9_-]{43};.*HttpOnly/i);
    const admin = cookieOf(signedIn);
    expect((await a.request('/api/admin/session', { headers: { cookie: admin } })).status).toBe(200);

    const users = await a.request('/api/users', { headers: { cookie: admin } });
    expect(users.status).toBe(200);
    // A change from another site's page is refused, as for a person's cookie.
    const forged = await a.request('/api/users', { method: 'POST', json: { email: `x-${randomUUID()}@example.com` }, headers: { cookie: admin, origin: 'https://evil.example' } });
    expect(await codeOf(forged)).toBe('csrf');
    // No report route accepts the administrator.
    expect((await a.request('/api/reports', { headers: { cookie: admin } })).status).toBe(401);
    expect((await a.request('/api/reports', { token: ADMIN_TOKEN })).status).toBe(401);

    const link = await createAdminLink(db.sql);
    const viaLink = await adminSignIn({ code: link.code });
    expect(viaLink.status).toBe(200);
    expect((await adminSignIn({ code: link.code })).status).toBe(401);

    const out = await a.request('/api/admin/session', { method: 'DELETE', headers: { cookie: admin, origin: ORIGIN } });
    expect(out.status).toBe(204);
    expect((await a.request('/api/users', { headers: { cookie: admin } })).status).toBe(401);
  });

  it('creates a user with an invite, with which they choose a password and are signed in, once', async () => {
    const email = `new-${randomUUID()}@example.com`;
    const created = await a.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email, name: 'New', invite: true } });
    expect(created.status).toBe(201);
    const { user, invite } = (await created.json()) as { user: { id: string }; invite: { code: string; expiresAt: string } };
    expect(Date.parse(invite.expiresAt)).toBeGreaterThan(Date.now() + 6 * 24 * 3_600_000);
    const listed = (await (await a.request('/api/users', { token: ADMIN_TOKEN })).json()) as { users: { id: string; hasPassword: boolean }[] };
    expect(listed.users.find((u) => u.id === user.id)).toMatchObject({ hasPassword: false });

    const accept = (code: string) => a.request('/api/auth/invite', { method: 'POST', json: { code, password: 'chosen password' }, headers: { origin: ORIGIN } });
    const accepted = await accept(invite.code);
    expect(accepted.status).toBe(204);
    const session = cookieOf(accepted);
    expect(await (await a.request('/api/me', { headers: { cookie: session } })).json()).toMatchObject({ user: { id: user.id }, hasPassword: true });
    expect((await accept(invite.code)).status).toBe(404);
    await login(email, 'chosen password');
  });

  it('disables a user: every credential stops, their open streams end on every instance, their messages stay; enabling lets them sign in', async () => {
    const owner = await person();
    const user = await person();
    const reportId = await report(owner.token);
    expect((await a.request(`/api/reports/${reportId}/members/${user.id}`, { method: 'PUT', token: owner.token, json: { role: 'editor' } })).status).toBe(200);
    const sent = await a.request(`/api/reports/${reportId}/messages`, { method: 'POST', token: user.token, json: { content: 'my question' }, headers: { accept: 'application/json' } });
    expect(sent.status).toBe(201);
    const session = await login(user.email);
    const byToken = await events(b, reportId, { authorization: `Bearer ${user.token}` });
    const bySession = await events(b, reportId, { cookie: session });

    const disabled = await a.request(`/api/users/${user.id}/disable`, { method: 'POST', token: ADMIN_TOKEN });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ id: user.id, disabled: true });
    expect(await endsWithin(byToken, 3_000)).toBe(true);
    expect(await endsWithin(bySession, 3_000)).toBe(true);
    expect((await a.request('/api/me', { token: user.token })).status).toBe(401);
    expect((await a.request('/api/me', { headers: { cookie: session } })).status).toBe(401);
    const refused = await a.request('/api/auth/login', { method: 'POST', json: { email: user.email, password: PASSWORD }, headers: { origin: ORIGIN } });
    expect(refused.status).toBe(401);
    expect(errorSchema.parse(await refused.json()).error.message).toMatch(/disabled/);
    const wrong = await a.request('/api/auth/login', { method: 'POST', json: { email: user.email, password: 'wrong password!' }, headers: { origin: ORIGIN } });
    expect(errorSchema.parse(await wrong.json()).error.message).not.toMatch(/disabled/);

    const history = (await (await a.request(`/api/reports/${reportId}/messages`, { token: owner.token })).json()) as { messages: { content: string }[] };
    expect(history.messages.map((m) => m.content)).toContain('my question');

    expect((await a.request(`/api/users/${user.id}/enable`, { method: 'POST', token: ADMIN_TOKEN })).status).toBe(200);
    await login(user.email);
    expect((await a.request(`/api/users/${randomUUID()}/disable`, { method: 'POST', token: ADMIN_TOKEN })).status).toBe(404);
  });
});
