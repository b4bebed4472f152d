import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/test-app.js';

let db: TestDatabase;
let t: TestApp;
let token: string;
let reportId: string;
/** Real conversations for `$MAIN` and `$FORK` in paths and bodies: the report's main one and a fork of it. */
const real = { $MAIN: '', $FORK: '' };

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db, { MAX_MESSAGE_CHARS: '200' });
  ({ token } = await t.createUser());
  reportId = await t.createReport(token);
  const turn = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { content: 'first' }, headers: { accept: 'application/json' } });
  real.$MAIN = ((await turn.json()) as { userMessage: { conversationId: string } }).userMessage.conversationId;
  const fork = await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { forkFrom: { conversationId: real.$MAIN, seq: 2 } } });
  expect(fork.status).toBe(201);
  real.$FORK = ((await fork.json()) as { id: string }).id;
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const hostileStrings = fc.oneof(
  fc.constantFrom(
    "'; DROP TABLE messages; --",
    '" OR 1=1 --',
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '../../../../etc/passwd',
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '\u202e\u0000',
    '${process.exit(1)}',
    '{{constructor.constructor("return process")()}}',
    '__proto__',
    'null',
    '',
    ' ',
    'x'.repeat(70_000),
  ),
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
);

const jsonValue = fc.oneof(
  hostileStrings,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileStrings, { maxLength: 3 }),
  fc.dictionary(hostileStrings, hostileStrings, { maxKeys: 3 }),
);

const rawBody = fc.oneof(
  // well-formed JSON of the right shape with hostile values
  fc.record({ content: jsonValue, id: fc.oneof(jsonValue, fc.uuid()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ title: jsonValue, content: jsonValue, status: jsonValue }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ email: jsonValue, password: jsonValue, name: jsonValue, role: jsonValue }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        id: fc.oneof(jsonValue, fc.uuid()),
        title: jsonValue,
        visibility: fc.oneof(jsonValue, fc.constantFrom('shared', 'private')),
        forkFrom: fc.oneof(
          jsonValue,
          fc.record(
            { conversationId: fc.oneof(jsonValue, fc.uuid(), fc.constantFrom('$MAIN', '$FORK')), seq: fc.oneof(jsonValue, fc.integer({ min: -2, max: 5 })) },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  // anything JSON, and things that are not JSON at all
  jsonValue.map((v) => JSON.stringify(v) ?? 'undefined'),
  hostileStrings,
  fc.integer({ min: 1, max: 50_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1, max: 50_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.constant('{"content": "x"'),
  fc.constant('x'.repeat(80_000)),
);

const encode = (s: string) => encodeURIComponent(s.isWellFormed() ? s : s.replace(/[\ud800-\udfff]/g, '\ufffd')).slice(0, 200);
const pathPart = fc.oneof(fc.uuid(), hostileStrings.map(encode), fc.constantFrom('', '..', '%ZZ', '%00', '%E0%A4%A', '%2e%2e%2f'));

const request = fc.record({
  route: fc.constantFrom(
    ['POST', '/api/reports'],
    ['PATCH', '/api/reports/:report'],
    ['POST', '/api/reports/:report/messages'],
    ['GET', '/api/reports/:report/messages?limit=:x&before=:x'],
    ['GET', '/api/reports/:report/export?format=:x'],
    ['POST', '/api/reports/:report/messages/:x/stop'],
    ['DELETE', '/api/reports/:report/messages'],
    ['PUT', '/api/reports/:report/members/:x'],
    ['POST', '/api/tokens'],
    ['POST', '/api/users'],
    ['POST', '/api/auth/login'],
    ['GET', '/api/reports/:x'],
    ['GET', '/api/reports/:report/conversations'],
    ['POST', '/api/reports/:report/conversations'],
    ['GET', '/api/conversations/:conv'],
    ['PATCH', '/api/conversations/:conv'],
    ['DELETE', '/api/conversations/:conv'],
    ['POST', '/api/conversations/:conv/messages'],
    ['GET', '/api/conversations/:conv/messages?limit=:x&after=:x'],
    ['DELETE', '/api/conversations/:conv/messages'],
    ['POST', '/api/conversations/:conv/messages/:x/stop'],
    ['GET', '/api/conversations/:conv/export?format=:x'],
    ['GET', '/api/conversations/:conv/events?after=:x'],
  ),
  useRealReport: fc.boolean(),
  conversation: fc.constantFrom('$MAIN', '$FORK', undefined),
  x: pathPart,
  body: rawBody,
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', ''),
  ifMatch: fc.option(fc.oneof(fc.constant('"0"'), hostileStrings.map((s) => s.slice(0, 100))), { nil: undefined }),
  idempotencyKey: fc.option(fc.oneof(fc.uuid(), hostileStrings.map((s) => s.slice(0, 100))), { nil: undefined }),
});

async function counts() {
  const [row] = await db.sql<{ m: number; r: number; u: number; t: number; c: number }[]>`
    SELECT (SELECT count(*) FROM messages)::int AS m, (SELECT count(*) FROM reports)::int AS r,
           (SELECT count(*) FROM users)::int AS u, (SELECT count(*) FROM api_tokens)::int AS t,
           (SELECT count(*) FROM conversations)::int AS c`;
  return row!;
}

const withRealIds = (text: string) => text.replaceAll('$MAIN', real.$MAIN).replaceAll('$FORK', real.$FORK);

const headerSafe = (s: string) => /^[\x20-\x7e]*$/.test(s);

describe('hostile input on every route', () => {
  it('is answered 4xx in the error format (never 5xx), stores nothing when refused, and the server keeps answering', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const [method, template] = r.route as [string, string];
        const path = template
          .replace(':report', r.useRealReport ? reportId : r.x)
          .replace(':conv', withRealIds(r.conversation ?? r.x))
          .replaceAll(':x', r.x);
        const headers: Record<string, string> = { authorization: `Bearer ${template === '/api/users' ? ADMIN_TOKEN : token}`, accept: 'application/json' };
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.ifMatch !== undefined && headerSafe(r.ifMatch)) headers['if-match'] = r.ifMatch;
        if (r.idempotencyKey !== undefined && headerSafe(r.idempotencyKey)) headers['idempotency-key'] = r.idempotencyKey;
        const before = await counts();
        const res = await t.request(path, { method, headers, body: method === 'GET' ? undefined : withRealIds(r.body) });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          const text = await res.text();
          const body = errorSchema.parse(JSON.parse(text));
          expect(body.error.message).not.toMatch(/node_modules|\/work\/|\.ts:\d+|SELECT |INSERT |at async/);
          expect(await counts()).toEqual(before);
        } else if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
          await res.body?.cancel(); // an events stream never ends on its own
        } else {
          await res.arrayBuffer();
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300), interruptAfterTimeLimit: 60_000 },
    );
    expect((await t.request("/healthz")).status).toBe(200);
    expect((await t.request(`/api/reports/${reportId}/messages`, { token })).status).toBe(200);
  });
});
