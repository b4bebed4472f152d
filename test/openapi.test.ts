import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { servedRoutes } from './support/served-routes.js';
import { ADMIN_TOKEN, createTestApp, readSse, type TestApp } from './support/test-app.js';

// The OpenAPI document is generated from the routes' declarations, is valid OpenAPI 3.1 (the official validator),
// lists exactly the routes the app serves, and describes what the server really answers (ajv, against the
// document's own schemas).

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof METHODS)[number];

interface Document {
  openapi: string;
  paths: Record<string, Partial<Record<Method, { operationId: string; summary: string; responses: Record<string, { content?: Record<string, Json> }> }>>>;
  components: { schemas: Record<string, Json> };
}

let db: TestDatabase;
let t: TestApp;
let token: string;
let doc: Document;
let ajv: Ajv2020;

const DOC_ID = 'https://report-chat.invalid/openapi.json';

/**
 * A copy of the document whose component objects refuse properties they do not declare: the published shapes stay
 * open to additions for clients, but what the server sends must be covered by them.
 */
function closedComponents(document: Document): Document {
  const copy = structuredClone(document);
  const close = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(close);
    if (!isObject(node)) return;
    if (node.type === 'object' && isObject(node.properties) && node.additionalProperties === undefined) node.unevaluatedProperties = false;
    Object.values(node).forEach(close);
  };
  close(copy.components.schemas);
  return copy;
}

function createValidator(document: Document): Ajv2020 {
  const validator = new Ajv2020({ strict: false, allErrors: true });
  validator.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  validator.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
  validator.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  validator.addSchema({ ...closedComponents(document), $id: DOC_ID });
  return validator;
}

const pointer = (...segments: string[]) => segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

/** Problems with `body` against the schema the document declares for this answer; [] when it conforms. */
function problems(body: unknown, method: Method, path: string, status: number, type: string): string[] {
  const ref = `${DOC_ID}#/${pointer('paths', path, method, 'responses', String(status), 'content', type, 'schema')}`;
  const validate = ajv.compile({ $ref: ref });
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
  ({ token } = await t.createUser());
  doc = (await (await t.request('/api/openapi.json')).json()) as Document;
  ajv = createValidator(doc);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

/**
 * Asserts `res` is an answer the document declares for this operation (status and media type) and, for JSON, that
 * its body conforms to the document's schema for it.
 */
async function expectDocumented(res: Response, method: Method, path: string): Promise<unknown> {
  const op = doc.paths[path]?.[method];
  expect(op, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
  const declared = op!.responses[String(res.status)];
  expect(declared, `${method.toUpperCase()} ${path} declares ${res.status}`).toBeDefined();
  if (!declared!.content) {
    expect(await res.text()).toBe('');
    return undefined;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  expect(declared!.content[type], `${method.toUpperCase()} ${path} ${res.status} declares ${type}`).toBeDefined();
  if (type !== 'application/json') return res;
  const body: unknown = await res.json();
  expect(problems(body, method, path, res.status, type), `${method.toUpperCase()} ${path} ${res.status}`).toEqual([]);
  return body;
}

describe('the OpenAPI document', () => {
  it('is served at /api/openapi.json without credentials, generated from the app', async () => {
    const res = await t.request('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('validates against the official OpenAPI 3.1 schema', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Parameters<typeof validator.validate>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('publishes each named shape with the properties and required fields zod gives the schema the routes use', () => {
    const named = z.globalRegistry._idmap;
    for (const [name, published] of Object.entries(doc.components.schemas)) {
      const schema = named.get(name);
      expect(schema, `${name} is a shape of src/api/schemas.ts`).toBeDefined();
      const io = name.endsWith('Body') ? 'input' : 'output';
      // An empty registry: the schema converted on its own, not as a reference to its named self.
      const direct = z.toJSONSchema(schema!, { target: 'draft-2020-12', io, unrepresentable: 'any', metadata: z.registry() });
      expect(Object.keys(isObject(published.properties) ? published.properties : {}).sort(), name).toEqual(Object.keys(direct.properties ?? {}).sort());
      expect([...((published.required as string[] | undefined) ?? [])].sort(), name).toEqual([...(direct.required ?? [])].sort());
    }
  });

  it('documents exactly the routes the app serves', () => {
    const served = servedRoutes(t.app);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    expect([...documented].sort()).toEqual([...served].sort());
    // Spot checks that the comparison sees what it should.
    expect(served.has('GET /api/reports/{reportId}/messages')).toBe(true);
    expect(served.has('GET /api/openapi.json')).toBe(true);
  });
});

describe('real answers match the document', () => {
  it('reports, a JSON turn, the messages page, its 304, stop, export', async () => {
    const report = (await expectDocumented(
      await t.request('/api/reports', { method: 'POST', token, json: { title: 'Pool incident', content: '# Pool\n\nThe pool was exhausted.' } }),
      'post',
      '/api/reports',
    )) as { id: string };
    const base = `/api/reports/${report.id}`;
    await expectDocumented(await t.request(base, { token }), 'get', '/api/reports/{reportId}');
    await expectDocumented(await t.request('/api/reports', { token }), 'get', '/api/reports');

    const id = randomUUID();
    const sent = await t.request(`${base}/messages`, { method: 'POST', token, json: { id, content: 'What happened?' }, headers: { accept: 'application/json' } });
    expect(sent.status).toBe(201);
    const turn = (await expectDocumented(sent, 'post', '/api/reports/{reportId}/messages')) as { assistantMessage: { id: string } };

    const pageRes = await t.request(`${base}/messages?limit=10`, { token });
    const etag = pageRes.headers.get('etag');
    const page = (await expectDocumented(pageRes, 'get', '/api/reports/{reportId}/messages')) as { messages: unknown[] };
    expect(page.messages).toHaveLength(2);
    const notModified = await t.request(`${base}/messages`, { token, headers: { 'if-none-match': etag! } });
    expect(notModified.status).toBe(304);
    await expectDocumented(notModified, 'get', '/api/reports/{reportId}/messages');

    await expectDocumented(
      await t.request(`${base}/messages/${turn.assistantMessage.id}/stop`, { method: 'POST', token }),
      'post',
      '/api/reports/{reportId}/messages/{messageId}/stop',
    );
    await expectDocumented(await t.request(`${base}/export?format=json`, { token }), 'get', '/api/reports/{reportId}/export');
    const markdown = await t.request(`${base}/export`, { token });
    expect(markdown.status).toBe(200);
    await expectDocumented(markdown, 'get', '/api/reports/{reportId}/export');
  });

  it('a streamed turn and the events stream are declared text/event-stream', async () => {
    const reportId = await t.createReport(token);
    const streamed = await t.request(`/api/reports/${reportId}/messages`, { method: 'POST', token, json: { id: randomUUID(), content: 'Root cause?' } });
    expect(streamed.status).toBe(200);
    await expectDocumented(streamed, 'post', '/api/reports/{reportId}/messages');
    expect((await readSse(streamed).all()).at(-1)).toBe('[DONE]');

    const events = await t.request(`/api/reports/${reportId}/events`, { token });
    expect(events.status).toBe(200);
    await expectDocumented(events, 'get', '/api/reports/{reportId}/events');
    await events.body?.cancel();
  });

  it('conversations: list, create and its replay, fork, read, rename, delete, and the routes of one conversation', async () => {
    const reportId = await t.createReport(token);
    const list = '/api/reports/{reportId}/conversations';
    const one = '/api/conversations/{conversationId}';
    const body = { id: randomUUID(), title: 'Side question' };
    const first = await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: body });
    expect(first.status).toBe(201);
    const created = (await expectDocumented(first, 'post', list)) as { id: string };
    const replay = await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: body });
    expect(replay.status).toBe(200);
    await expectDocumented(replay, 'post', list);
    const base = `/api/conversations/${created.id}`;

    const sent = await t.request(`${base}/messages`, { method: 'POST', token, json: { content: 'What happened?' }, headers: { accept: 'application/json' } });
    expect(sent.status).toBe(201);
    const turn = (await expectDocumented(sent, 'post', `${one}/messages`)) as { assistantMessage: { id: string } };
    const streamed = await t.request(`${base}/messages`, { method: 'POST', token, json: { content: 'And then?' } });
    await expectDocumented(streamed, 'post', `${one}/messages`);
    expect((await readSse(streamed).all()).at(-1)).toBe('[DONE]');
    await expectDocumented(await t.request(`${base}/messages`, { token }), 'get', `${one}/messages`);
    await expectDocumented(await t.request(`${base}/messages/${turn.assistantMessage.id}/stop`, { method: 'POST', token }), 'post', `${one}/messages/{messageId}/stop`);
    await expectDocumented(await t.request(`${base}/export?format=json`, { token }), 'get', `${one}/export`);
    await expectDocumented(await t.request(`${base}/export`, { token }), 'get', `${one}/export`);
    const events = await t.request(`${base}/events`, { token });
    await expectDocumented(events, 'get', `${one}/events`);
    await events.body?.cancel();

    const forking = await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { forkFrom: { conversationId: created.id, seq: 2 } } });
    expect(forking.status).toBe(201);
    const forked = (await expectDocumented(forking, 'post', list)) as { forkedFrom: unknown };
    expect(forked.forkedFrom).toEqual({ conversationId: created.id, seq: 2 });
    await expectDocumented(await t.request(`/api/reports/${reportId}/conversations`, { token }), 'get', list);
    await expectDocumented(await t.request(base, { token }), 'get', one);
    const renamed = (await expectDocumented(await t.request(base, { method: 'PATCH', token, json: { visibility: 'private' } }), 'patch', one)) as { version: number };
    const cleared = await t.request(`${base}/messages`, { method: 'DELETE', token, headers: { 'if-match': `"${renamed.version}"` } });
    expect(cleared.status).toBe(204);
    await expectDocumented(cleared, 'delete', `${one}/messages`);

    const errorCases: Array<[Response, Method, string, string]> = [
      [await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { ...body, title: 'Other' } }), 'post', list, 'idempotency_conflict'],
      [await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { forkFrom: { conversationId: created.id, seq: 1 } } }), 'post', list, 'invalid_request'],
      [await t.request(`/api/reports/${reportId}/conversations`, { method: 'POST', token, json: { forkFrom: { conversationId: randomUUID(), seq: 0 } } }), 'post', list, 'not_found'],
      [await t.request(base, { method: 'DELETE', token }), 'delete', one, 'precondition_required'],
      [await t.request(base, { method: 'DELETE', token, headers: { 'if-match': '"0"' } }), 'delete', one, 'precondition_failed'],
      [await t.request(`/api/conversations/${randomUUID()}/messages`, { token }), 'get', `${one}/messages`, 'not_found'],
    ];
    for (const [res, method, path, code] of errorCases) {
      expect(((await expectDocumented(res, method, path)) as { error: { code: string } }).error.code).toBe(code);
    }
    const version = ((await (await t.request(base, { token })).json()) as { version: number }).version;
    const deleted = await t.request(base, { method: 'DELETE', token, headers: { 'if-match': `"${version}"` } });
    expect(deleted.status).toBe(204);
    await expectDocumented(deleted, 'delete', one);
  });

  it('accounts, members and health', async () => {
    const created = (await expectDocumented(
      await t.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email: `m-${randomUUID()}@example.com`, name: 'Mia' } }),
      'post',
      '/api/users',
    )) as { user: { id: string } };
    await expectDocumented(await t.request('/api/me', { token }), 'get', '/api/me');
    await expectDocumented(await t.request('/api/tokens', { method: 'POST', token, json: { name: 'ci' } }), 'post', '/api/tokens');
    const reportId = await t.createReport(token);
    await expectDocumented(
      await t.request(`/api/reports/${reportId}/members/${created.user.id}`, { method: 'PUT', token, json: { role: 'viewer' } }),
      'put',
      '/api/reports/{reportId}/members/{userId}',
    );
    await expectDocumented(await t.request('/healthz'), 'get', '/healthz');
    await expectDocumented(await t.request('/readyz'), 'get', '/readyz');
  });

  it('errors carry a code the document lists for that status', async () => {
    const cases: Array<[Response, Method, string, string]> = [
      [await t.request(`/api/reports/${randomUUID()}`, { token }), 'get', '/api/reports/{reportId}', 'not_found'],
      [await t.request('/api/reports/not-a-uuid', { token }), 'get', '/api/reports/{reportId}', 'invalid_request'],
      [await t.request('/api/me'), 'get', '/api/me', 'unauthorized'],
      [await t.request('/api/reports', { method: 'POST', token, body: 'title=x', headers: { 'content-type': 'text/plain' } }), 'post', '/api/reports', 'unsupported_media_type'],
    ];
    for (const [res, method, path, code] of cases) {
      const body = (await expectDocumented(res, method, path)) as { error: { code: string } };
      expect(body.error.code).toBe(code);
    }
  });

  it('a body that breaks its schema does not pass: a missing field, a field the document does not name, a code of another status', async () => {
    const reportId = await t.createReport(token);
    const page = (await (await t.request(`/api/reports/${reportId}/messages`, { token })).json()) as Json;
    const path = '/api/reports/{reportId}/messages';
    expect(problems(page, 'get', path, 200, 'application/json')).toEqual([]);
    expect(problems({ ...page, version: undefined }, 'get', path, 200, 'application/json').join()).toMatch(/must have required property 'version'/);
    expect(problems({ ...page, cursor: 1 }, 'get', path, 200, 'application/json').join()).toMatch(/must NOT have unevaluated properties/);
    const notFound = { error: { code: 'not_found', message: 'No such report.' } };
    expect(problems(notFound, 'get', '/api/reports/{reportId}', 404, 'application/json')).toEqual([]);
    expect(problems(notFound, 'get', '/api/reports/{reportId}', 400, 'application/json').join()).toMatch(/must be equal to one of the allowed values/);
  });
});

describe('/api/docs', () => {
  it('is the interactive reference of the document, its script served by this server, its policy script-src self', async () => {
    const res = await t.request('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    // 'self' and the hash of the page's one inline script (its start call): nothing from another origin, no 'unsafe-inline'.
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    expect(csp).toMatch(/default-src 'self'/);
    const html = await res.text();
    expect(html).toContain('<script src="/api/docs/scalar.js"></script>');
    expect(html).toContain('"url": "/api/openapi.json"');
    expect(html).not.toMatch(/https?:\/\/|<link|@import/i);

    const script = await t.request('/api/docs/scalar.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
