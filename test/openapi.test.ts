import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { componentZodSchemas, requestComponents, type ComponentName } from '../src/http/openapi/components.js';
import { buildOpenApiDocument } from '../src/http/openapi/document.js';
import type { OpenApiDocument } from '../src/http/openapi/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, createTestApp, readSse, type TestApp } from './support/test-app.js';

// The OpenAPI document is valid OpenAPI 3.1, lists exactly the routes the app serves, and describes what the
// server really answers. A route added without documenting it fails here.

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

let db: TestDatabase;
let t: TestApp;
let token: string;
const doc: OpenApiDocument = buildOpenApiDocument();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
  ({ token } = await t.createUser());
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------------------------
// A structural OpenAPI 3.1 check (what @seriousme/openapi-schema-validator would do, for the parts this API uses).

function pointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) || Array.isArray(node) ? (node as Json)[key] : undefined;
  }
  return node;
}

/** Keywords of JSON Schema 2020-12 (core, applicator, validation, format, metadata, unevaluated) and the OAS dialect. */
const SCHEMA_KEYWORDS = new Set([
  '$schema', '$id', '$ref', '$anchor', '$dynamicRef', '$dynamicAnchor', '$defs', '$comment', '$vocabulary',
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'prefixItems', 'items', 'contains',
  'properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties',
  'type', 'enum', 'const', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength',
  'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxContains', 'minContains', 'maxProperties',
  'minProperties', 'required', 'dependentRequired', 'format', 'contentEncoding', 'contentMediaType', 'contentSchema',
  'title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples',
  'discriminator', 'xml', 'externalDocs', 'example',
]);
const JSON_TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
const SUBSCHEMA = ['not', 'if', 'then', 'else', 'items', 'contains', 'additionalProperties', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'];
const NUMBERS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];

/** Problems with `schema` as a JSON Schema 2020-12 object, the shape z.toJSONSchema emits; [] when it is valid. */
function schemaProblems(schema: unknown, at: string, problems: string[] = []): string[] {
  if (typeof schema === 'boolean') return problems;
  if (!isObject(schema)) return [...problems, `${at}: a schema must be an object or a boolean`];
  for (const key of Object.keys(schema)) {
    if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-')) problems.push(`${at}: unknown keyword "${key}"`);
  }
  if ('$id' in schema || '$schema' in schema) problems.push(`${at}: an embedded schema carries its own $id/$schema`);
  if ('$ref' in schema && typeof schema.$ref !== 'string') problems.push(`${at}: $ref must be a string`);
  if ('type' in schema) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.length || types.some((x) => typeof x !== 'string' || !JSON_TYPES.has(x)) || new Set(types).size !== types.length) {
      problems.push(`${at}: bad type ${JSON.stringify(schema.type)}`);
    }
  }
  if ('required' in schema) {
    const required = schema.required;
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string') || new Set(required).size !== required.length) {
      problems.push(`${at}: required must be an array of unique strings`);
    } else if (isObject(schema.properties)) {
      for (const r of required) if (!(r in schema.properties)) problems.push(`${at}: required "${r}" is not a property`);
    }
  }
  if ('enum' in schema && (!Array.isArray(schema.enum) || schema.enum.length === 0)) problems.push(`${at}: enum must be a non-empty array`);
  for (const key of COUNTS) {
    if (key in schema && !(Number.isInteger(schema[key]) && (schema[key] as number) >= 0)) problems.push(`${at}: ${key} must be a non-negative integer`);
  }
  for (const key of NUMBERS) if (key in schema && !Number.isFinite(schema[key])) problems.push(`${at}: ${key} must be a number`);
  for (const [lo, hi] of [['minLength', 'maxLength'], ['minimum', 'maximum'], ['minItems', 'maxItems'], ['minProperties', 'maxProperties']] as const) {
    if (typeof schema[lo] === 'number' && typeof schema[hi] === 'number' && (schema[lo] as number) > (schema[hi] as number)) problems.push(`${at}: ${lo} > ${hi}`);
  }
  if ('pattern' in schema) {
    try {
      new RegExp(schema.pattern as string, 'u'); // ECMA-262, as JSON Schema says
    } catch {
      problems.push(`${at}: pattern does not compile: ${String(schema.pattern)}`);
    }
  }
  for (const key of ['format', 'description', 'title'] as const) if (key in schema && typeof schema[key] !== 'string') problems.push(`${at}: ${key} must be a string`);
  for (const key of SUBSCHEMA) if (key in schema) schemaProblems(schema[key], `${at}.${key}`, problems);
  for (const key of SUBSCHEMA_LISTS) {
    if (!(key in schema)) continue;
    const list = schema[key];
    if (!Array.isArray(list) || list.length === 0) problems.push(`${at}: ${key} must be a non-empty array`);
    else list.forEach((s, i) => schemaProblems(s, `${at}.${key}[${i}]`, problems));
  }
  for (const key of SUBSCHEMA_MAPS) {
    if (!(key in schema)) continue;
    const map = schema[key];
    if (!isObject(map)) problems.push(`${at}: ${key} must be an object`);
    else for (const [name, s] of Object.entries(map)) schemaProblems(s, `${at}.${key}.${name}`, problems);
  }
  return problems;
}

/** Every `$ref` anywhere in `node`, with where it is. */
function refsIn(node: unknown, at = '#', out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(node)) node.forEach((v, i) => refsIn(v, `${at}/${i}`, out));
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push([at, value]);
      // Examples are data, not part of the description: a "$ref" inside one is not a reference.
      else if (key !== 'example' && key !== 'examples') refsIn(value, `${at}/${key}`, out);
    }
  }
  return out;
}

/** Problems with `input` as an OpenAPI 3.1 document; [] when it is valid. */
function openApiProblems(input: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(input)) return ['the document is not an object'];
  const root = input;
  const deref = (value: unknown): unknown => (isObject(value) && typeof value.$ref === 'string' ? pointer(root, value.$ref) : value);

  if (typeof root.openapi !== 'string' || !/^3\.1\.\d+$/.test(root.openapi)) problems.push(`openapi must be 3.1.x, is ${String(root.openapi)}`);
  const info = root.info;
  if (!isObject(info) || typeof info.title !== 'string' || !info.title || typeof info.version !== 'string' || !info.version) {
    problems.push('info needs a title and a version');
  }
  if (!isObject(root.paths)) return [...problems, 'paths must be an object'];

  for (const [ref, target] of refsIn(root).map(([at, ref]) => [ref, `${at}`] as const)) {
    if (pointer(root, ref) === undefined) problems.push(`${target}: $ref ${ref} does not resolve`);
  }

  const components = isObject(root.components) ? root.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  for (const [name, scheme] of Object.entries(schemes)) {
    if (!isObject(scheme)) problems.push(`securityScheme ${name}: not an object`);
    else if (scheme.type === 'http' ? typeof scheme.scheme !== 'string' : scheme.type === 'apiKey' ? typeof scheme.name !== 'string' || !['query', 'header', 'cookie'].includes(scheme.in as string) : true) {
      problems.push(`securityScheme ${name}: incomplete or unknown type`);
    }
  }
  const checkSecurity = (security: unknown, at: string) => {
    if (!Array.isArray(security)) return problems.push(`${at}: security must be an array`);
    for (const requirement of security) {
      if (!isObject(requirement)) problems.push(`${at}: a security requirement must be an object`);
      else for (const name of Object.keys(requirement)) if (!(name in schemes)) problems.push(`${at}: unknown security scheme ${name}`);
    }
  };
  if ('security' in root) checkSecurity(root.security, 'security');
  for (const [name, schema] of Object.entries(isObject(components.schemas) ? components.schemas : {})) schemaProblems(schema, `components.schemas.${name}`, problems);

  const tags = new Set(Array.isArray(root.tags) ? root.tags.map((tag) => (isObject(tag) ? tag.name : undefined)) : []);
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(root.paths)) {
    if (!path.startsWith('/')) problems.push(`${path}: a path must start with /`);
    if (!isObject(item)) {
      problems.push(`${path}: not a path item`);
      continue;
    }
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const key of Object.keys(item)) {
      if (!(METHODS as readonly string[]).includes(key) && !['summary', 'description', 'parameters', 'servers', '$ref'].includes(key)) problems.push(`${path}: unknown field ${key}`);
    }
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const at = `${method.toUpperCase()} ${path}`;
      if (!isObject(op)) {
        problems.push(`${at}: not an operation`);
        continue;
      }
      if (typeof op.operationId !== 'string' || operationIds.has(op.operationId)) problems.push(`${at}: operationId missing or not unique`);
      operationIds.add(String(op.operationId));
      for (const tag of Array.isArray(op.tags) ? op.tags : []) if (!tags.has(tag)) problems.push(`${at}: tag ${String(tag)} is not declared`);
      if ('security' in op) checkSecurity(op.security, at);

      const declaredPath: string[] = [];
      const seen = new Set<string>();
      for (const raw of Array.isArray(op.parameters) ? op.parameters : []) {
        const p = deref(raw);
        if (!isObject(p) || typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in as string)) {
          problems.push(`${at}: a parameter needs a name and a valid "in"`);
          continue;
        }
        if (seen.has(`${p.in}:${p.name}`)) problems.push(`${at}: parameter ${p.name} is declared twice`);
        seen.add(`${p.in}:${p.name}`);
        if (p.in === 'path') {
          declaredPath.push(p.name);
          if (p.required !== true) problems.push(`${at}: path parameter ${p.name} must be required`);
        }
        if (!('schema' in p) && !('content' in p)) problems.push(`${at}: parameter ${p.name} has no schema`);
        else if ('schema' in p) schemaProblems(p.schema, `${at} parameter ${p.name}`, problems);
      }
      if ([...declaredPath].sort().join() !== [...templated].sort().join()) problems.push(`${at}: path parameters ${declaredPath.join()} do not match the template`);

      if ('requestBody' in op) {
        const body = deref(op.requestBody);
        if (!isObject(body) || !isObject(body.content) || !Object.keys(body.content).length) problems.push(`${at}: requestBody needs content`);
        else for (const [type, media] of Object.entries(body.content)) schemaProblems(isObject(media) ? media.schema : undefined, `${at} request ${type}`, problems);
      }

      if (!isObject(op.responses) || Object.keys(op.responses).length === 0) {
        problems.push(`${at}: an operation needs responses`);
        continue;
      }
      for (const [status, raw] of Object.entries(op.responses)) {
        if (!/^([1-5](\d\d|XX)|default)$/.test(status)) problems.push(`${at}: bad status ${status}`);
        const response = deref(raw);
        if (!isObject(response) || typeof response.description !== 'string') {
          problems.push(`${at} ${status}: a response needs a description`);
          continue;
        }
        for (const [type, media] of Object.entries(isObject(response.content) ? response.content : {})) {
          if (!isObject(media)) problems.push(`${at} ${status} ${type}: not a media type object`);
          else if ('schema' in media) schemaProblems(media.schema, `${at} ${status} ${type}`, problems);
        }
        for (const [name, rawHeader] of Object.entries(isObject(response.headers) ? response.headers : {})) {
          const header = deref(rawHeader);
          if (!isObject(header) || !('schema' in header)) problems.push(`${at} ${status}: header ${name} has no schema`);
          else schemaProblems(header.schema, `${at} ${status} header ${name}`, problems);
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Checking a real response against what the document declares for it.

/** The schema objects `schema` stands for: itself, what its `$ref` points at, and its `allOf` members. */
function flatten(schema: unknown): Json[] {
  if (!isObject(schema)) return [];
  const out = [schema];
  if (typeof schema.$ref === 'string') out.push(...flatten(pointer(doc, schema.$ref)));
  if (Array.isArray(schema.allOf)) for (const member of schema.allOf) out.push(...flatten(member));
  return out;
}

function typeMatches(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'null': return value === null;
    case 'array': return Array.isArray(value);
    case 'object': return isObject(value);
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number';
    default: return typeof value === type;
  }
}

/**
 * Problems with `value` against a schema of the document. Stricter than JSON Schema in one way, on purpose: a
 * property the document does not declare is a problem, since the published shape must cover what is sent.
 */
function conformance(value: unknown, schema: unknown, at: string, problems: string[] = []): string[] {
  const parts = flatten(schema);
  for (const s of parts) {
    if (s.type !== undefined && ![s.type].flat().some((type) => typeMatches(value, type))) problems.push(`${at}: is not ${JSON.stringify(s.type)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => isDeepStrictEqual(e, value))) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
    if ('const' in s && !isDeepStrictEqual(s.const, value)) problems.push(`${at}: is not ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.anyOf) && !s.anyOf.some((branch) => conformance(value, branch, at).length === 0)) problems.push(`${at}: matches no anyOf branch`);
    if (typeof value === 'string') {
      if (typeof s.minLength === 'number' && value.length < s.minLength) problems.push(`${at}: shorter than ${s.minLength}`);
      if (typeof s.maxLength === 'number' && value.length > s.maxLength) problems.push(`${at}: longer than ${s.maxLength}`);
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) problems.push(`${at}: does not match ${s.pattern}`);
    }
    if (typeof value === 'number') {
      if (typeof s.minimum === 'number' && value < s.minimum) problems.push(`${at}: below ${s.minimum}`);
      if (typeof s.maximum === 'number' && value > s.maximum) problems.push(`${at}: above ${s.maximum}`);
    }
    if (isObject(value)) for (const key of Array.isArray(s.required) ? s.required : []) if (!(key in value)) problems.push(`${at}.${String(key)}: missing (required)`);
    if (Array.isArray(value) && s.items !== undefined) value.forEach((item, i) => conformance(item, s.items, `${at}[${i}]`, problems));
  }
  if (isObject(value)) {
    const properties = new Map<string, unknown[]>();
    for (const s of parts) if (isObject(s.properties)) for (const [key, p] of Object.entries(s.properties)) properties.set(key, [...(properties.get(key) ?? []), p]);
    const declaresProperties = parts.some((s) => isObject(s.properties));
    for (const [key, v] of Object.entries(value)) {
      const schemas = properties.get(key);
      if (schemas) conformance(v, { allOf: schemas }, `${at}.${key}`, problems);
      else if (declaresProperties) problems.push(`${at}.${key}: sent but not in the document`);
    }
  }
  return problems;
}

const requiredOf = (schema: unknown): string[] => [...new Set(flatten(schema).flatMap((s) => (Array.isArray(s.required) ? (s.required as string[]) : [])))].sort();

/**
 * Asserts `res` is an answer the document declares for this operation (status and media type) and, for JSON, that
 * its body passes the zod schema the document was generated from and the document's own schema for it.
 */
async function expectDocumented(res: Response, method: (typeof METHODS)[number], path: string): Promise<unknown> {
  const op = doc.paths[path]?.[method as 'get'];
  expect(op, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
  const declared = op!.responses[String(res.status)];
  expect(declared, `${method.toUpperCase()} ${path} declares ${res.status}`).toBeDefined();
  if (!declared!.content) {
    expect(await res.text()).toBe('');
    return undefined;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const media = declared!.content[type];
  expect(media, `${method.toUpperCase()} ${path} ${res.status} declares ${type}`).toBeDefined();
  if (type !== 'application/json') return res;

  const body: unknown = await res.json();
  const schema = media!.schema;
  const ref = [schema, ...(Array.isArray(schema.allOf) ? schema.allOf : [])].map((s) => (s as Json).$ref).find((r): r is string => typeof r === 'string');
  expect(ref, 'a JSON response is a component schema').toBeDefined();
  const name = ref!.slice(ref!.lastIndexOf('/') + 1) as ComponentName;
  const zodSchema = componentZodSchemas[name];
  const parsed = zodSchema.safeParse(body);
  expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  // The document's schema requires what zod's own conversion requires, and the body passes it.
  const fromZod = z.toJSONSchema(zodSchema, { target: 'draft-2020-12', io: 'output' });
  expect(requiredOf(schema)).toEqual([...(fromZod.required ?? [])].sort());
  expect(conformance(body, schema, name)).toEqual([]);
  return body;
}

// ---------------------------------------------------------------------------------------------------------------

describe('the OpenAPI document', () => {
  it('is served at /api/openapi.json without credentials', async () => {
    const res = await t.request('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(JSON.parse(JSON.stringify(doc)))).toEqual([]);
  });

  it('validates against the official OpenAPI 3.1 schema', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(doc)) as Parameters<typeof validator.validate>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the structural check catches a broken document', () => {
    const broken = JSON.parse(JSON.stringify(doc)) as Json & { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };
    broken.openapi = '3.0.3';
    broken.paths['/healthz']!.get!.responses = {};
    (broken.paths['/api/me']!.get!.responses as Json)['200'] = { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } };
    broken.components.schemas.Message!.required = ['id', 'nope'];
    broken.components.schemas.Report!.type = 'thing';
    const problems = openApiProblems(broken).join('\n');
    expect(problems).toMatch(/openapi must be 3\.1\.x/);
    expect(problems).toMatch(/GET \/healthz: an operation needs responses/);
    expect(problems).toMatch(/\$ref #\/components\/schemas\/Nope does not resolve/);
    expect(problems).toMatch(/required "nope" is not a property/);
    expect(problems).toMatch(/components\.schemas\.Report: bad type/);
  });

  it('publishes each component as z.toJSONSchema converts the zod schema the routes validate with', () => {
    for (const [name, zodSchema] of Object.entries(componentZodSchemas)) {
      const io = name in requestComponents ? 'input' : 'output';
      const direct = z.toJSONSchema(zodSchema, { target: 'draft-2020-12', io });
      const published = doc.components.schemas[name];
      expect(published, name).toBeDefined();
      expect(Object.keys(published!.properties ?? {}).sort(), name).toEqual(Object.keys(direct.properties ?? {}).sort());
      expect([...(published!.required ?? [])].sort(), name).toEqual([...(direct.required ?? [])].sort());
      expect(schemaProblems(published, name)).toEqual([]);
    }
  });

  it('documents exactly the routes the app serves', () => {
    // Hono lists middleware as method ALL (or on wildcard paths), and a route with a middleware twice.
    const served = new Set(
      t.app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => (item as Json)[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`)),
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
    const cases: Array<[Response, (typeof METHODS)[number], string, string]> = [
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
});

describe('/api/docs', () => {
  it('is a self-contained HTML page with every operation of the document', async () => {
    const res = await t.request('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(html).toContain(`<code class="path">${path}</code>`);
      for (const op of Object.values(item)) {
        expect(html).toContain(`id="op-${op.operationId}"`);
        expect(html).toContain(op.summary);
      }
    }
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name}"`);
    // Nothing loaded from anywhere: no scripts, no stylesheets or fonts, no images.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|\ssrc=/i);
  });
});
