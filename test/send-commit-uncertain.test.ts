import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { connect, type Sql } from '../src/store/db.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTcpRelay, type TcpRelay } from './support/tcp-relay.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/**
 * The one send whose outcome the server cannot know: the connection drops after the reserve's commit was sent,
 * and the database stays unreachable past the retries. The client must not be told 503 "nothing was stored".
 * The same holds for the creation of a conversation (a fork), which is idempotent by id as a send is.
 */

let db: TestDatabase;
let relay: TcpRelay;
let appSql: Sql;
let t: TestApp;
let token: string;
let reportId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  relay = await startTcpRelay(Number(new URL(db.url).port));
  const url = new URL(db.url);
  url.port = String(relay.port);
  appSql = connect(url.toString(), { max: 4, applicationName: 'report-chat-relay' });
  // A lease that outlasts the retries: the resend below finds the answer still leased to this instance.
  t = await createTestApp({ ...db, url: url.toString(), sql: appSql }, { TURN_LEASE_MS: '60000' });
  ({ token } = await t.createUser());
  reportId = await t.createReport(token);
});
afterAll(async () => {
  await t?.close();
  await appSql?.end({ timeout: 1 });
  await relay?.close();
  await db?.drop();
});

const storedWithId = async (id: string) =>
  (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE id = ${id}`)[0]!.n;

describe('a send whose commit cannot be confirmed', () => {
  it('is answered 500 "may have been saved", never 503; sent again with the same id it is a replay, and its answer is generated', async () => {
    const id = randomUUID();
    const send = () =>
      t.request(`/api/reports/${reportId}/messages`, {
        method: 'POST',
        token,
        json: { id, content: 'Which pool setting caused the outage?' },
        headers: { accept: 'application/json' },
      });

    // The reserve is one autocommitted call of reserve_turn (migration 0002): it commits as the server runs it.
    relay.commitMarker = 'reserve_turn(';
    relay.mode = 'cut-after-commit';
    const cuts = relay.cuts;
    const res = await send();
    expect(relay.cuts).toBe(cuts + 1);
    expect(res.status).toBe(500);
    const body = errorSchema.parse(await res.json());
    expect(body.error.code).toBe('internal');
    expect(body.error.message).toMatch(/may have been saved/);
    expect(await storedWithId(id)).toBe(1); // it was committed: a 503 here would have been a lie

    relay.mode = 'pass';
    const again = await send();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const replay = (await again.json()) as { userMessage: { id: string }; assistantMessage: { status: string } };
    expect(replay.userMessage.id).toBe(id);
    // Nobody generated that answer (the request that reserved it gave up); the resend finds it orphaned, leased to
    // this instance with no engine running it, and runs it.
    expect(replay.assistantMessage.status).toBe('complete');
    expect(await storedWithId(id)).toBe(1);
    const rows = await db.sql<{ seq: number; role: string }[]>`SELECT seq, role FROM messages ORDER BY seq`;
    expect(rows).toEqual([
      { seq: 1, role: 'user' },
      { seq: 2, role: 'assistant' },
    ]);
  }, 60_000);

  it('a fork whose commit cannot be confirmed is answered 500 "may have been created", never 503; sent again it is a replay', async () => {
    relay.mode = 'pass';
    const mainId = (await db.sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${reportId} AND is_main`)[0]!.id;
    const body = { id: randomUUID(), forkFrom: { conversationId: mainId, seq: 2 } };
    const create = () => t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: body });
    const stored = async () => (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM conversations WHERE id = ${body.id}`)[0]!.n;

    relay.commitMarker = 'create_conversation(';
    relay.mode = 'cut-after-commit';
    const cuts = relay.cuts;
    const res = await create();
    expect(relay.cuts).toBe(cuts + 1);
    const error = errorSchema.parse(await res.json()).error;
    expect([res.status, error.code]).toEqual([500, 'internal']);
    expect(error.message).toMatch(/may have been created/);
    expect(await stored()).toBe(1); // it was committed: a 503 here would have been a lie

    relay.mode = 'pass';
    const again = await create();
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(((await again.json()) as { id: string; messageCount: number })).toMatchObject({ id: body.id, messageCount: 2 });
    expect(await stored()).toBe(1);
  }, 60_000);

  it('a conversation deleted, or cleared, whose commit cannot be confirmed is answered 500 "may have been …", never 503', async () => {
    relay.mode = 'pass';
    const created = await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { id: randomUUID() } });
    const { id } = (await created.json()) as { id: string };
    const count = async (what: 'conversation' | 'main messages') =>
      what === 'conversation'
        ? (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM conversations WHERE id = ${id}`)[0]!.n
        : (await db.sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE c.report_id = ${reportId} AND c.is_main`)[0]!.n;
    // The relay hands the COMMIT to the server and cuts the client off at once: the server commits a moment later.
    const committed = async (what: 'conversation' | 'main messages') => {
      for (let i = 0; i < 50 && (await count(what)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      return (await count(what)) === 0;
    };
    expect(await count('main messages')).toBeGreaterThan(0);

    // Each is one transaction (sql.begin): it commits with its COMMIT, the one after its DELETE.
    relay.inTransaction = true;
    for (const [what, marker, request, words] of [
      [
        'main messages',
        'DELETE FROM messages',
        async () => {
          const { version } = (await (await t.request(`/api/reports/${reportId}/messages`, { token })).json()) as { version: number };
          relay.mode = 'cut-after-commit';
          return t.request(`/api/reports/${reportId}/messages`, { method: 'DELETE', token, headers: { 'if-match': `"${version}"` } });
        },
        /may have been cleared/,
      ],
      ['conversation', 'DELETE FROM conversations', () => t.request(`/api/conversations/${id}`, { method: 'DELETE', token, headers: { 'if-match': '"0"' } }), /may have been deleted/],
    ] as const) {
      relay.mode = what === 'conversation' ? 'cut-after-commit' : 'pass';
      relay.commitMarker = marker;
      const cuts = relay.cuts;
      const res = await request();
      const text = await res.text();
      expect([what, res.status, relay.cuts - cuts], `${what}: answered ${res.status} ${text}`).toEqual([what, 500, 1]);
      const error = errorSchema.parse(JSON.parse(text)).error;
      expect(error.code).toBe('internal');
      expect(error.message).toMatch(words);
      expect(await committed(what), `${what}: it was committed, so a 503 "nothing was stored" would have been a lie`).toBe(true);
      relay.mode = 'pass';
    }
    relay.inTransaction = false;
  }, 60_000);
});
