import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters-long';
const HOUR = 3_600;
const now = () => Math.floor(Date.now() / 1000);

/** A JWT signed with SECRET; `iat: null` leaves the claim out. Times in seconds since the epoch. */
function sign(claims: Record<string, unknown>, times: { iat?: number | null; exp?: number } = {}) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  if (times.iat !== null) jwt.setIssuedAt(times.iat ?? now());
  jwt.setExpirationTime(times.exp ?? now() + 300);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

async function me(t: TestApp, token: string): Promise<{ status: number; user?: { id: string; email: string | null } }> {
  const res = await t.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) return { status: res.status };
  return { status: 200, user: ((await res.json()) as { user: { id: string; email: string | null } }).user };
}

let db: TestDatabase;
/** No issuer or audience configured, the default maximum lifetime. */
let open: TestApp;
/** An issuer, an audience and a ten-minute maximum lifetime. */
let strict: TestApp;
const ISSUER = 'https://auth.example.com/';
const AUDIENCE = 'report-chat';

beforeAll(async () => {
  db = await createTestDatabase();
  open = await createTestApp(db, { AUTH_JWT_SECRET: SECRET });
  strict = await createTestApp(db, { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, AUTH_JWT_MAX_AGE_S: '600' });
});
afterAll(async () => {
  await open?.close();
  await strict?.close();
  await db?.drop();
});

describe('JWT identities are (issuer, subject), mapped to users of our own', () => {
  it("a JWT whose sub is a local user's id is a new user, who sees none of that user's reports", async () => {
    const local = await open.createUser();
    const reportId = await open.createReport(local.token);
    for (const iss of [undefined, 'https://other.example.com']) {
      const token = await sign({ sub: local.id, ...(iss ? { iss } : {}) });
      const seen = await me(open, token);
      expect(seen.status).toBe(200);
      expect(seen.user?.id).not.toBe(local.id);
      const res = await open.request(`/api/reports/${reportId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(404);
    }
  });

  it('the same sub from two issuers is two users; each stays the same user', async () => {
    const sub = randomUUID();
    const a = await me(open, await sign({ sub, iss: 'https://a.example.com' }));
    const b = await me(open, await sign({ sub, iss: 'https://b.example.com' }));
    const none = await me(open, await sign({ sub }));
    expect(new Set([a.user?.id, b.user?.id, none.user?.id]).size).toBe(3);
    expect((await me(open, await sign({ sub, iss: 'https://a.example.com' }))).user?.id).toBe(a.user?.id);
    expect((await me(open, await sign({ sub }))).user?.id).toBe(none.user?.id);
  });

  it('a first sight of one identity from many requests at once makes one user', async () => {
    const sub = randomUUID();
    const token = await sign({ sub, iss: ISSUER });
    const seen = await Promise.all(Array.from({ length: 8 }, () => me(open, token)));
    expect(seen.map((s) => s.status)).toEqual(Array(8).fill(200));
    expect(new Set(seen.map((s) => s.user?.id)).size).toBe(1);
    const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM external_identities WHERE subject = ${sub}`;
    expect(row?.n).toBe(1);
  });
});

describe('two JWT subjects seen for the first time at once with one email', () => {
  it('all succeed; exactly one user has the email, the others none', async () => {
    const email = `shared-${randomUUID()}@example.com`;
    const tokens = await Promise.all(Array.from({ length: 8 }, () => sign({ sub: randomUUID(), email })));
    const seen = await Promise.all(tokens.map((token) => me(open, token)));
    expect(seen.map((s) => s.status)).toEqual(Array(8).fill(200));
    expect(new Set(seen.map((s) => s.user?.id)).size).toBe(8);
    const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE lower(email) = lower(${email})`;
    expect(row?.n).toBe(1);
    expect(seen.filter((s) => s.user?.email === email)).toHaveLength(1);
  });
});

describe('AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE', () => {
  it('accepts the configured issuer and audience, and refuses a wrong or missing one', async () => {
    const sub = randomUUID();
    expect((await me(strict, await sign({ sub, iss: ISSUER, aud: AUDIENCE }))).status).toBe(200);
    expect((await me(strict, await sign({ sub, iss: ISSUER, aud: ['other', AUDIENCE] }))).status).toBe(200);
    for (const claims of [
      { sub, iss: 'https://evil.example.com/', aud: AUDIENCE },
      { sub, aud: AUDIENCE },
      { sub, iss: ISSUER, aud: 'another-app' },
      { sub, iss: ISSUER },
    ]) {
      const seen = await me(strict, await sign(claims));
      expect([claims, seen.status]).toEqual([claims, 401]);
    }
  });
});

describe('AUTH_JWT_MAX_AGE_S', () => {
  it('refuses a token made to live longer than the default 24 hours', async () => {
    const sub = randomUUID();
    const t = now();
    expect((await me(open, await sign({ sub }, { iat: t, exp: t + 23 * HOUR }))).status).toBe(200);
    for (const times of [
      { iat: t, exp: t + 100 * 365 * 24 * HOUR }, // a century
      { iat: t, exp: t + 25 * HOUR },
      { iat: null, exp: t + 48 * HOUR }, // no iat: measured from now
      { iat: t + 50 * 365 * 24 * HOUR, exp: t + 50 * 365 * 24 * HOUR + HOUR }, // "issued" in the future
    ]) {
      const seen = await me(open, await sign({ sub }, times));
      expect([times, seen.status]).toEqual([times, 401]);
    }
  });

  it('takes its maximum from AUTH_JWT_MAX_AGE_S', async () => {
    const claims = { sub: randomUUID(), iss: ISSUER, aud: AUDIENCE };
    const t = now();
    expect((await me(strict, await sign(claims, { iat: t, exp: t + 300 }))).status).toBe(200);
    expect((await me(strict, await sign(claims, { iat: t, exp: t + HOUR }))).status).toBe(401);
    expect((await me(strict, await sign(claims, { iat: null, exp: t + HOUR }))).status).toBe(401);
  });
});

describe('users a JWT created before identities were recorded (migration 0003)', () => {
  const MIGRATIONS = fileURLToPath(new URL('../src/store/migrations', import.meta.url));
  let old: TestDatabase;
  let app: TestApp;
  let dir: string;

  /** Applies the migrations before 0003, as a database of the previous release has them. */
  async function migrateBefore0003(sqlDb: TestDatabase) {
    dir = await mkdtemp(join(tmpdir(), 'rc-migrations-'));
    await mkdir(join(dir, 'meta'));
    const journal = JSON.parse(await readFile(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number; tag: string }> };
    journal.entries = journal.entries.filter((e) => e.idx < 3);
    await writeFile(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
    for (const e of journal.entries) await copyFile(join(MIGRATIONS, `${e.tag}.sql`), join(dir, `${e.tag}.sql`));
    await migrate(drizzle(sqlDb.sql), { migrationsFolder: dir });
  }

  const legacyNoEmail = randomUUID();
  const legacyWithToken = randomUUID();
  let local: { id: string };
  let passwordUser: { id: string };
  let legacyReport: string;

  beforeAll(async () => {
    old = await createTestDatabase({ migrate: false });
    await migrateBefore0003(old);
    const sql = old.sql;
    // What the previous release stored: JWT users with id = sub (one later made an API token of its own) ...
    await sql`INSERT INTO users (id, email, name) VALUES (${legacyNoEmail}, NULL, 'Legacy')`;
    await sql`INSERT INTO users (id, email, name, created_at) VALUES (${legacyWithToken}, ${`legacy-${legacyWithToken}@example.com`}, NULL, now() - interval '1 day')`;
    await sql`INSERT INTO api_tokens (user_id, name, token_hash) VALUES (${legacyWithToken}, 'mine', ${Buffer.from(randomUUID())})`;
    // ... and local users, each created with its first token in one transaction (createUserWithToken).
    [local, passwordUser] = await Promise.all(
      [null, 'scrypt$not-a-real-hash'].map((hash) =>
        sql.begin(async (tx) => {
          const [user] = await tx<{ id: string }[]>`
            INSERT INTO users (email, password_hash) VALUES (${`local-${randomUUID()}@example.com`}, ${hash}) RETURNING id`;
          await tx`INSERT INTO api_tokens (user_id, name, token_hash) VALUES (${user!.id}, 'initial', ${Buffer.from(randomUUID())})`;
          return user!;
        }),
      ),
    ) as [{ id: string }, { id: string }];
    const [report] = await sql<{ id: string }[]>`
      INSERT INTO reports (owner_id, title, content) VALUES (${legacyNoEmail}, 'Kept', '# Kept') RETURNING id`;
    legacyReport = report!.id;
    await sql`INSERT INTO conversations (report_id) VALUES (${legacyReport})`;
    await runMigrations(sql);
    app = await createTestApp(old, { AUTH_JWT_SECRET: SECRET });
  });
  afterAll(async () => {
    await app?.close();
    await old?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records the JWT-created users, and no local user', async () => {
    const rows = await old.sql<{ userId: string; issuer: string | null; subject: string }[]>`
      SELECT user_id, issuer, subject FROM external_identities ORDER BY subject`;
    expect(rows).toEqual(
      [legacyNoEmail, legacyWithToken].sort().map((id) => ({ userId: id, issuer: null, subject: id })),
    );
  });

  it('a JWT-created user keeps their data, taken over by the first issuer that names them', async () => {
    const token = await sign({ sub: legacyNoEmail, iss: 'https://a.example.com' });
    expect((await me(app, token)).user?.id).toBe(legacyNoEmail);
    const res = await app.request(`/api/reports/${legacyReport}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    // Taken over: the same subject from another issuer is someone else.
    expect((await me(app, await sign({ sub: legacyNoEmail, iss: 'https://b.example.com' }))).user?.id).not.toBe(legacyNoEmail);
    expect((await me(app, await sign({ sub: legacyWithToken }))).user?.id).toBe(legacyWithToken);
  });

  it('a JWT naming a local user is never that user', async () => {
    for (const id of [local.id, passwordUser.id]) {
      const seen = await me(app, await sign({ sub: id }));
      expect(seen.status).toBe(200);
      expect(seen.user?.id).not.toBe(id);
    }
  });
});
