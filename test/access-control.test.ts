import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { servedRoutes } from './support/served-routes.js';
import { ADMIN_TOKEN, createTestApp, readSse, type TestApp } from './support/test-app.js';

const JWT_SECRET = 'a-test-secret-that-is-at-least-32-characters-long';
const ORIGIN = 'http://127.0.0.1';

let db: TestDatabase;
let t: TestApp;
let owner: { id: string; token: string };
let editor: { id: string; token: string };
let viewer: { id: string; token: string };
let stranger: { id: string; token: string };
/** The user the membership routes of the matrix add and remove: never one of the callers. */
let target: { id: string; token: string };
/** A viewer of the report known by email: adding them again by email is 409 for the owner. */
const memberEmail = `member-${randomUUID()}@example.com`;
let reportId: string;
let answerId: string;
/** A shared conversation the owner started, and a private one of the editor's, each with one turn. */
let sharedId: string;
let sharedAnswerId: string;
let privateId: string;
let privateAnswerId: string;

async function createUserWithPassword(email: string, password: string) {
  const res = await t.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email, password } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { user: { id: string } }).user;
}

async function login(email: string, password: string): Promise<string> {
  const res = await t.request('/api/auth/login', { method: 'POST', json: { email, password }, headers: { origin: ORIGIN } });
  expect(res.status).toBe(204);
  const cookie = res.headers.get('set-cookie')!;
  expect(cookie).toMatch(/^rc_session=[A-Za-z0-9_-]{43};/);
  expect(cookie).toMatch(/HttpOnly/i);
  expect(cookie).toMatch(/SameSite=Lax/i);
  expect(cookie).toMatch(/Path=\//);
  return cookie.split(';')[0]!;
}

const jwt = (claims: Record<string, unknown>, secret = JWT_SECRET, expiresIn = '5m') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db, { AUTH_JWT_SECRET: JWT_SECRET });
  owner = await t.createUser();
  editor = await t.createUser();
  viewer = await t.createUser();
  stranger = await t.createUser();
  target = await t.createUser();
  reportId = await t.createReport(owner.token);
  const byEmail = await t.createUser(memberEmail);
  for (const [user, role] of [
    [editor, 'editor'],
    [viewer, 'viewer'],
    [byEmail, 'viewer'],
  ] as const) {
    const res = await t.request(`/api/reports/${reportId}/members/${user.id}`, { method: 'PUT', token: owner.token, json: { role } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: user.id, role });
  }
  const turn = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token: owner.token, json: { content: 'first question' }, headers: { accept: 'application/json' } });
  answerId = ((await turn.json()) as { assistantMessage: { id: string } }).assistantMessage.id;
  [sharedId, sharedAnswerId] = await conversationWithTurn(owner.token, 'shared');
  [privateId, privateAnswerId] = await conversationWithTurn(editor.token, 'private');
});

async function conversationWithTurn(token: string, visibility: 'shared' | 'private'): Promise<[string, string]> {
  const created = await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { visibility } });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const turn = await t.request(`/api/conversations/${id}/messages`, { method: 'POST', token, json: { content: 'a question' }, headers: { accept: 'application/json' } });
  expect(turn.status).toBe(201);
  return [id, ((await turn.json()) as { assistantMessage: { id: string } }).assistantMessage.id];
}
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

type Who = 'owner' | 'editor' | 'viewer' | 'stranger' | 'anonymous' | 'expiredSession' | 'revokedToken' | 'badJwt' | 'expiredJwt';

async function credentials(who: Who): Promise<Record<string, string>> {
  switch (who) {
    case 'owner':
    case 'editor':
    case 'viewer':
    case 'stranger':
      return { authorization: `Bearer ${{ owner, editor, viewer, stranger }[who].token}` };
    case 'anonymous':
      return {};
    case 'expiredSession': {
      const email = `expired-${randomUUID()}@example.com`;
      await createUserWithPassword(email, 'correct horse battery');
      const cookie = await login(email, 'correct horse battery');
      await db.sql`UPDATE sessions SET expires_at = now() - interval '1 second'`;
      return { cookie, origin: ORIGIN };
    }
    case 'revokedToken': {
      const user = await t.createUser();
      const created = await t.request('/api/tokens', { method: 'POST', token: user.token, json: { name: 'temp' } });
      const { id, token } = (await created.json()) as { id: string; token: string };
      expect((await t.request(`/api/tokens/${id}`, { method: 'DELETE', token: user.token })).status).toBe(204);
      return { authorization: `Bearer ${token}` };
    }
    case 'badJwt':
      return { authorization: `Bearer ${await jwt({ sub: owner.id }, 'another-secret-that-is-at-least-32-characters')}` };
    case 'expiredJwt':
      return { authorization: `Bearer ${await jwt({ sub: owner.id }, JWT_SECRET, '-1m')}` };
  }
}

// Every route of a report and of a conversation (`route`, as the OpenAPI document spells it), with what an allowed
// caller gets. Owner-only routes are 403 for members; `denied` names answers that differ from EXPECTED_DENIAL's.
interface MatrixRoute {
  name: string;
  route: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  headers?: Record<string, string>;
  ok: number;
  allowed: Who[];
  denied?: Partial<Record<Who, [number, string]>>;
}

const MEMBERS: Who[] = ['owner', 'editor', 'viewer'];
const CHATTERS: Who[] = ['owner', 'editor'];
const JSON_TURN = { accept: 'application/json' };
const STALE = { 'if-match': '"999999"' };
// A private conversation is the editor's alone: the report's owner and the viewer get what a stranger gets.
const PRIVATE: MatrixRoute['denied'] = { owner: [404, 'not_found'], viewer: [404, 'not_found'] };

/** The routes of one conversation, under `base` (a report's main one, or one by id), with its answer's id. */
function conversationRoutes(
  label: string,
  scope: '/api/reports/{reportId}' | '/api/conversations/{conversationId}',
  base: () => string,
  answer: () => string,
  managers: Who[],
  who: { members: Who[]; chatters: Who[]; denied?: MatrixRoute['denied'] },
): MatrixRoute[] {
  const routes: MatrixRoute[] = [
    { name: `${label} history`, route: `GET ${scope}/messages`, method: 'GET', path: () => `${base()}/messages`, ok: 200, allowed: who.members },
    { name: `${label} send`, route: `POST ${scope}/messages`, method: 'POST', path: () => `${base()}/messages`, body: () => ({ content: 'hello' }), headers: JSON_TURN, ok: 201, allowed: who.chatters },
    { name: `${label} stop`, route: `POST ${scope}/messages/{messageId}/stop`, method: 'POST', path: () => `${base()}/messages/${answer()}/stop`, ok: 200, allowed: who.chatters },
    { name: `${label} export`, route: `GET ${scope}/export`, method: 'GET', path: () => `${base()}/export?format=json`, ok: 200, allowed: who.members },
    { name: `${label} events`, route: `GET ${scope}/events`, method: 'GET', path: () => `${base()}/events`, ok: 200, allowed: who.members },
    { name: `${label} clear`, route: `DELETE ${scope}/messages`, method: 'DELETE', path: () => `${base()}/messages`, headers: STALE, ok: 412, allowed: managers },
  ];
  return routes.map((r) => ({ ...r, denied: who.denied }));
}

const ROUTES: MatrixRoute[] = [
  { name: 'read report', route: 'GET /api/reports/{reportId}', method: 'GET', path: () => `/api/reports/${reportId}`, ok: 200, allowed: MEMBERS },
  { name: 'patch report', route: 'PATCH /api/reports/{reportId}', method: 'PATCH', path: () => `/api/reports/${reportId}`, body: () => ({ title: 'Renamed' }), ok: 200, allowed: ['owner'] },
  { name: 'list members', route: 'GET /api/reports/{reportId}/members', method: 'GET', path: () => `/api/reports/${reportId}/members`, ok: 200, allowed: MEMBERS },
  { name: 'add member by email', route: 'POST /api/reports/{reportId}/members', method: 'POST', path: () => `/api/reports/${reportId}/members`, body: () => ({ email: memberEmail, role: 'editor' }), ok: 409, allowed: ['owner'] },
  { name: 'add member', route: 'PUT /api/reports/{reportId}/members/{userId}', method: 'PUT', path: () => `/api/reports/${reportId}/members/${target.id}`, body: () => ({ role: 'viewer' }), ok: 200, allowed: ['owner'] },
  { name: 'remove member', route: 'DELETE /api/reports/{reportId}/members/{userId}', method: 'DELETE', path: () => `/api/reports/${reportId}/members/${target.id}`, ok: 204, allowed: ['owner'] },
  ...conversationRoutes('main', '/api/reports/{reportId}', () => `/api/reports/${reportId}`, () => answerId, ['owner'], { members: MEMBERS, chatters: CHATTERS }),
  { name: 'list conversations', route: 'GET /api/reports/{reportId}/conversations', method: 'GET', path: () => `/api/reports/${reportId}/conversations`, ok: 200, allowed: MEMBERS },
  { name: 'start conversation', route: 'POST /api/reports/{reportId}/conversations', method: 'POST', path: () => `/api/reports/${reportId}/conversations`, body: () => ({}), ok: 201, allowed: CHATTERS },
  { name: 'fork shared', route: 'POST /api/reports/{reportId}/conversations', method: 'POST', path: () => `/api/reports/${reportId}/conversations`, body: () => ({ forkFrom: { conversationId: sharedId, seq: 2 } }), ok: 201, allowed: CHATTERS },
  // A viewer may fork nothing (403 before the source is looked at); the owner does not see the source.
  { name: 'fork private', route: 'POST /api/reports/{reportId}/conversations', method: 'POST', path: () => `/api/reports/${reportId}/conversations`, body: () => ({ forkFrom: { conversationId: privateId, seq: 2 } }), ok: 201, allowed: ['editor'], denied: { owner: [404, 'not_found'] } },
  // The owner started the shared conversation: the owner manages it, members read it, editors chat in it.
  { name: 'read shared', route: 'GET /api/conversations/{conversationId}', method: 'GET', path: () => `/api/conversations/${sharedId}`, ok: 200, allowed: MEMBERS },
  { name: 'patch shared', route: 'PATCH /api/conversations/{conversationId}', method: 'PATCH', path: () => `/api/conversations/${sharedId}`, body: () => ({ title: 'Renamed' }), ok: 200, allowed: ['owner'] },
  { name: 'delete shared', route: 'DELETE /api/conversations/{conversationId}', method: 'DELETE', path: () => `/api/conversations/${sharedId}`, headers: STALE, ok: 412, allowed: ['owner'] },
  ...conversationRoutes('shared', '/api/conversations/{conversationId}', () => `/api/conversations/${sharedId}`, () => sharedAnswerId, ['owner'], { members: MEMBERS, chatters: CHATTERS }),
  { name: 'read private', route: 'GET /api/conversations/{conversationId}', method: 'GET', path: () => `/api/conversations/${privateId}`, ok: 200, allowed: ['editor'], denied: PRIVATE },
  { name: 'patch private', route: 'PATCH /api/conversations/{conversationId}', method: 'PATCH', path: () => `/api/conversations/${privateId}`, body: () => ({ title: 'Mine' }), ok: 200, allowed: ['editor'], denied: PRIVATE },
  { name: 'delete private', route: 'DELETE /api/conversations/{conversationId}', method: 'DELETE', path: () => `/api/conversations/${privateId}`, headers: STALE, ok: 412, allowed: ['editor'], denied: PRIVATE },
  ...conversationRoutes('private', '/api/conversations/{conversationId}', () => `/api/conversations/${privateId}`, () => privateAnswerId, ['editor'], { members: ['editor'], chatters: ['editor'], denied: PRIVATE }),
];

const EXPECTED_DENIAL: Record<Who, [number, string] | undefined> = {
  owner: undefined,
  editor: [403, 'forbidden'],
  viewer: [403, 'forbidden'],
  stranger: [404, 'not_found'],
  anonymous: [401, 'unauthorized'],
  expiredSession: [401, 'unauthorized'],
  revokedToken: [401, 'unauthorized'],
  badJwt: [401, 'unauthorized'],
  expiredJwt: [401, 'unauthorized'],
};

describe('the access matrix', () => {
  const callers: Who[] = ['owner', 'editor', 'viewer', 'stranger', 'anonymous', 'expiredSession', 'revokedToken', 'badJwt', 'expiredJwt'];
  for (const route of ROUTES) {
    it.each(callers)(`${route.name} as %s`, async (who) => {
      const headers = { ...(route.headers ?? {}), ...(await credentials(who)) };
      const body = route.body?.();
      const res = await t.request(route.path(), { method: route.method, json: body, headers });
      if (route.allowed.includes(who)) {
        expect(res.status).toBe(route.ok);
        await res.body?.cancel(); // an events stream stays open otherwise
        return;
      }
      const [status, code] = route.denied?.[who] ?? EXPECTED_DENIAL[who]!;
      expect(res.status).toBe(status);
      expect(errorSchema.parse(await res.json()).error.code).toBe(code);
    });
  }

  it('covers every route of a report and of a conversation', () => {
    const scoped = [...servedRoutes(t.app)].filter((r) => r.includes('{reportId}') || r.includes('{conversationId}'));
    expect(scoped.length).toBeGreaterThan(20);
    expect(scoped.filter((r) => !ROUTES.some((m) => m.route === r))).toEqual([]);
    // Each row's path is an instance of the route it names.
    for (const m of ROUTES) {
      const pattern = new RegExp(`^${m.route.split(' ')[1]!.replace(/\{[A-Za-z]+\}/g, '[^/]+')}(\\?.*)?$`);
      expect(m.path(), m.name).toMatch(pattern);
      expect(m.route.split(' ')[0], m.name).toBe(m.method);
    }
  });

  it('a report you cannot see answers exactly like one that does not exist', async () => {
    const bodyOf = async (id: string) => {
      const res = await t.request(`/api/reports/${id}/messages`, { token: stranger.token });
      return [res.status, await res.json()];
    };
    expect(await bodyOf(reportId)).toEqual(await bodyOf(randomUUID()));
  });

  it('lists each caller their own role', async () => {
    for (const [user, role] of [
      [owner, 'owner'],
      [editor, 'editor'],
      [viewer, 'viewer'],
    ] as const) {
      const list = (await (await t.request('/api/reports', { token: user.token })).json()) as { reports: Array<{ id: string; role: string }> };
      expect(list.reports.find((r) => r.id === reportId)?.role).toBe(role);
    }
    const none = (await (await t.request('/api/reports', { token: stranger.token })).json()) as { reports: unknown[] };
    expect(none.reports).toEqual([]);
  });
});

describe('live updates and membership', () => {
  it("a viewer's events stream works; removing them closes it", async () => {
    const member = await t.createUser();
    await t.request(`/api/reports/${reportId}/members/${member.id}`, { method: 'PUT', token: owner.token, json: { role: 'viewer' } });
    const res = await t.request(`/api/reports/${reportId}/events`, { token: member.token });
    expect(res.status).toBe(200);
    const stream = readSse(res);
    await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token: editor.token, json: { content: 'from the editor' }, headers: { accept: 'application/json' } });
    const first = await stream.next();
    expect(first?.event).toBe('message');
    expect((await t.request(`/api/reports/${reportId}/members/${member.id}`, { method: 'DELETE', token: owner.token })).status).toBe(204);
    // Drain until the server closes the stream: next() resolves undefined at the end, well before its timeout.
    let ended = false;
    for (let i = 0; i < 1000 && !ended; i++) ended = (await stream.next(5_000)) === undefined;
    expect(ended).toBe(true);
    expect((await t.request(`/api/reports/${reportId}/events`, { token: member.token })).status).toBe(404);
  });
});

describe('the periodic access check of open events streams', () => {
  it('closes the streams of a member removed without any event, and only theirs; one check covers every stream', async () => {
    const removed = await t.createUser();
    const kept = await t.createUser();
    for (const u of [removed, kept]) {
      await t.request(`/api/reports/${reportId}/members/${u.id}`, { method: 'PUT', token: owner.token, json: { role: 'viewer' } });
    }
    const open = async (token: string) => {
      const res = await t.request(`/api/reports/${reportId}/events`, { token });
      expect(res.status).toBe(200);
      return readSse(res);
    };
    const gone = [await open(removed.token), await open(removed.token)];
    const staying = [await open(kept.token), await open(owner.token)];
    // Behind the app's back: no `revoked` event is published, only the periodic check can notice.
    await db.sql`DELETE FROM report_members WHERE report_id = ${reportId} AND user_id = ${removed.id}`;
    await t.ctx.access.checkNow();

    for (const stream of gone) {
      let ended = false;
      for (let i = 0; i < 1000 && !ended; i++) ended = (await stream.next(5_000)) === undefined;
      expect(ended).toBe(true);
    }
    await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token: editor.token, json: { content: 'still there?' }, headers: { accept: 'application/json' } });
    for (const stream of staying) expect((await stream.next(5_000))?.event).toBe('message');
    // The kept streams are still watched: the next check keeps them open, and the removed user's are forgotten.
    await t.ctx.access.checkNow();
    await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token: editor.token, json: { content: 'and now?' }, headers: { accept: 'application/json' } });
    for (const stream of staying) {
      let seen: string | undefined;
      for (let i = 0; i < 50 && seen !== 'message'; i++) {
        const ev = await stream.next(5_000);
        if (ev?.data.includes('and now?')) seen = ev.event;
        if (!ev) break;
      }
      expect(seen).toBe('message');
    }
  });
});

describe('sign-in, sessions and CSRF', () => {
  it('signs in with a cookie; a wrong password and an unknown email get the same 401', async () => {
    const email = `person-${randomUUID()}@example.com`;
    const user = await createUserWithPassword(email, 'a long enough password');
    const cookie = await login(email, 'a long enough password');
    const me = await t.request('/api/me', { headers: { cookie } });
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe(user.id);

    const wrong = await t.request('/api/auth/login', { method: 'POST', json: { email, password: 'nope' } });
    const unknown = await t.request('/api/auth/login', { method: 'POST', json: { email: `nobody-${randomUUID()}@example.com`, password: 'nope' } });
    expect([wrong.status, await wrong.json()]).toEqual([unknown.status, await unknown.json()]);
    expect(wrong.status).toBe(401);

    expect((await t.request('/api/auth/logout', { method: 'POST', headers: { cookie, origin: ORIGIN } })).status).toBe(204);
    expect((await t.request('/api/me', { headers: { cookie } })).status).toBe(401);
  });

  it('rotates the session on sign-in: the cookie held before no longer works', async () => {
    const email = `rot-${randomUUID()}@example.com`;
    await createUserWithPassword(email, 'another long password');
    const first = await login(email, 'another long password');
    const res = await t.request('/api/auth/login', { method: 'POST', json: { email, password: 'another long password' }, headers: { cookie: first, origin: ORIGIN } });
    const second = res.headers.get('set-cookie')!.split(';')[0]!;
    expect(second).not.toBe(first);
    expect((await t.request('/api/me', { headers: { cookie: first } })).status).toBe(401);
    expect((await t.request('/api/me', { headers: { cookie: second } })).status).toBe(200);
  });

  it('a cookie POST from another Origin is refused with 403 csrf and stores nothing', async () => {
    const email = `csrf-${randomUUID()}@example.com`;
    const user = await createUserWithPassword(email, 'password for csrf');
    const cookie = await login(email, 'password for csrf');
    const rid = await t.createReport(user.id === owner.id ? owner.token : (await t.createUser()).token);
    // The victim's own report:
    const mine = await t.request('/api/reports', { method: 'POST', headers: { cookie, origin: ORIGIN }, json: { title: 'Mine', content: '# Mine\n\ntext' } });
    expect(mine.status).toBe(201);
    const myReport = ((await mine.json()) as { id: string }).id;
    for (const origin of ['https://evil.example', 'null', undefined]) {
      const headers: Record<string, string> = { cookie };
      if (origin) headers.origin = origin;
      const res = await t.request(`/api/reports/${myReport}/messages`, { method: 'POST', headers, json: { content: 'forged' } });
      expect(res.status).toBe(403);
      expect(errorSchema.parse(await res.json()).error.code).toBe('csrf');
    }
    const [row] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.report_id = ${myReport}`;
    expect(row?.n).toBe(0);
    // Safe methods with the cookie work from anywhere (they change nothing), and bearer tokens need no Origin.
    expect((await t.request(`/api/reports/${myReport}/messages`, { headers: { cookie } })).status).toBe(200);
    expect(rid).toBeTruthy();
  });
});

describe('JWT bearer credentials', () => {
  it('accepts a Supabase-style access token and creates the user on first sight', async () => {
    const sub = randomUUID();
    const token = await jwt({ sub, email: `supa-${sub}@example.com`, role: 'authenticated', aud: 'authenticated', user_metadata: { full_name: 'Supa User' } });
    const me = await t.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const user = ((await me.json()) as { user: { id: string } }).user;
    // A user id of our own, not the token's sub (test/jwt-identities.test.ts).
    expect(user).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: `supa-${sub}@example.com`, name: 'Supa User' });
    expect(user.id).not.toBe(sub);
    const created = await t.request('/api/reports', { method: 'POST', headers: { authorization: `Bearer ${token}` }, json: { title: 'From JWT', content: '# x\n\ny' } });
    expect(created.status).toBe(201);
  });

  it('takes any issuer-scoped sub (not only a UUID), and refuses an empty or overlong one', async () => {
    const me = (sub: string) => jwt({ sub }).then((token) => t.request('/api/me', { headers: { authorization: `Bearer ${token}` } }));
    expect((await me(`auth0|${randomUUID()}`)).status).toBe(200);
    expect((await me('')).status).toBe(401);
    expect((await me('x'.repeat(256))).status).toBe(401);
  });
});

describe('open events streams per user', () => {
  it('allows 20 at once and refuses the 21st with 429 until one closes', async () => {
    const user = await t.createUser();
    const rid = await t.createReport(user.token);
    const streams = [];
    for (let i = 0; i < 20; i++) {
      const res = await t.request(`/api/reports/${rid}/events`, { token: user.token });
      expect(res.status).toBe(200);
      streams.push(readSse(res));
    }
    const refused = await t.request(`/api/reports/${rid}/events`, { token: user.token });
    expect(refused.status).toBe(429);
    expect(errorSchema.parse(await refused.json()).error.code).toBe('rate_limited');
    await streams[0]!.stop();
    await new Promise((r) => setTimeout(r, 50));
    const again = await t.request(`/api/reports/${rid}/events`, { token: user.token });
    expect(again.status).toBe(200);
    streams.push(readSse(again));
    await Promise.all(streams.slice(1).map((s) => s.stop()));
  });
});
