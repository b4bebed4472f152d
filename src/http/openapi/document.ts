import { ERROR_STATUS, type ErrorCode } from '../../errors/app-error.js';
import { componentSchemas, schemaRef } from './components.js';
import {
  ERROR_MEANINGS,
  HEADER_NAMES,
  HEADERS,
  OPERATIONS,
  PARAMETERS,
  RATE_LIMIT_HEADERS,
  TAGS,
  type Access,
  type ContentSpec,
  type ErrorSpec,
  type HeaderName,
  type OperationSpec,
  type ResponseSpec,
} from './operations.js';
import type {
  HeaderObject,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  Reference,
  ResponseObject,
  SecurityRequirement,
} from './types.js';

const SECURITY: Record<Access, SecurityRequirement[]> = {
  public: [],
  user: [{ bearerAuth: [] }, { sessionCookie: [] }],
  admin: [{ adminToken: [] }],
  optionalSession: [{}, { sessionCookie: [] }],
  metrics: [{}, { metricsToken: [] }],
};

const JSON_BODY = 'application/json';

const DESCRIPTION = `Chat about reports with an AI model; a conversation never loses or duplicates a message.

**Conventions.** Bodies are JSON (\`application/json; charset=utf-8\`) unless an operation says otherwise. Field names are camelCase, times are ISO 8601 strings in UTC, ids are UUIDs. Unknown body fields are refused (400), so a typo never goes unnoticed. Text must not contain NUL characters or unpaired UTF-16 surrogates (400). Request bodies are limited to 64 KiB, reports to 2 MiB (413). Every response carries \`X-Request-Id\` (yours, when you send a sane one). When the server sets \`PUBLIC_URL\`, a request whose \`Host\` is not that URL's host is 400 \`invalid_request\` (all but \`/healthz\`, \`/readyz\` and \`/metrics\`).

**Errors.** Every error is \`{"error": {"code", "message"}}\`. The code comes from a closed set; each operation lists the codes it can answer with under their status. Unknown routes and methods are 404 \`not_found\`. Unexpected faults are 500 \`internal\` with no details; a database that cannot be reached is 503 \`unavailable\` with \`Retry-After\`.

**Versions.** A conversation has a \`version\` that grows with every change to any of its messages (creation, status change, final content). It is the conversation's ETag, \`"<version>"\`: use it with \`If-None-Match\` to poll cheaply, with \`If-Match\` to send only against the view you hold, and as \`Last-Event-ID\` to resume live updates.`;

function content(spec: ContentSpec): MediaTypeObject {
  return typeof spec === 'string' ? { schema: schemaRef(spec) } : { ...spec };
}

function headerRefs(names: readonly HeaderName[]): Record<string, Reference> {
  const out: Record<string, Reference> = {};
  for (const name of names) out[HEADER_NAMES[name] ?? name] = { $ref: `#/components/headers/${name}` };
  return out;
}

function response(spec: ResponseSpec): ResponseObject {
  const out: ResponseObject = { description: spec.description };
  if (spec.headers?.length) out.headers = headerRefs(spec.headers);
  if (spec.content) out.content = Object.fromEntries(Object.entries(spec.content).map(([type, c]) => [type, content(c)]));
  return out;
}

/** The error answers of one status: the Error schema with `code` narrowed to this operation's codes, one example each. */
function errorResponse(status: number, specs: ReadonlyArray<readonly [ErrorCode, string]>): ResponseObject {
  const codes = specs.map(([code]) => code);
  const lines = specs.map(([code, why]) => `- \`${code}\`: ${why}`);
  const out: ResponseObject = {
    description: lines.join('\n'),
    content: {
      [JSON_BODY]: {
        schema: {
          allOf: [schemaRef('Error'), { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } }],
        },
        examples: Object.fromEntries(specs.map(([code, why]) => [code, { summary: why, value: { error: { code, message: why.replace(/`/g, '') } } }])),
      },
    },
  };
  if (status === 429) out.headers = headerRefs(['RetryAfter', ...RATE_LIMIT_HEADERS]);
  if (status === 503) out.headers = headerRefs(['RetryAfter']);
  return out;
}

function errorResponses(errors: readonly ErrorSpec[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, Array<readonly [ErrorCode, string]>>();
  for (const spec of errors) {
    const [code, why] = typeof spec === 'string' ? [spec, ERROR_MEANINGS[spec]] : spec;
    const status = ERROR_STATUS[code];
    const list = byStatus.get(status) ?? [];
    if (list.some(([c]) => c === code)) throw new Error(`openapi: error code ${code} listed twice`);
    list.push([code, why]);
    byStatus.set(status, list);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, specs]) => [String(status), errorResponse(status, specs)]));
}

function operation(spec: OperationSpec): OperationObject {
  const responses: Record<string, ResponseObject> = {};
  for (const [status, r] of Object.entries(spec.responses)) responses[status] = response(r);
  for (const [status, r] of Object.entries(errorResponses(spec.errors))) {
    if (responses[status]) throw new Error(`openapi: ${spec.operationId} answers ${status} both as a success and an error`);
    responses[status] = r;
  }
  const out: OperationObject = {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    description: spec.description,
    security: SECURITY[spec.access],
    responses,
  };
  if (spec.parameters?.length) {
    out.parameters = spec.parameters.map((p): ParameterObject | Reference => (typeof p === 'string' ? { $ref: `#/components/parameters/${p}` } : p));
  }
  if (spec.body) {
    out.requestBody = { description: spec.body.description, required: true, content: { [JSON_BODY]: { schema: schemaRef(spec.body.schema) } } };
  }
  return out;
}

/** The OpenAPI 3.1 document of the whole HTTP API, built from the operations table and the routes' zod schemas. */
export function buildOpenApiDocument(): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();
  for (const spec of OPERATIONS) {
    const item = (paths[spec.path] ??= {});
    if (item[spec.method]) throw new Error(`openapi: ${spec.method.toUpperCase()} ${spec.path} is in the table twice`);
    if (operationIds.has(spec.operationId)) throw new Error(`openapi: operationId ${spec.operationId} is used twice`);
    operationIds.add(spec.operationId);
    item[spec.method] = operation(spec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'report-chat HTTP API',
      version: '1',
      summary: 'Chat about reports with an AI model.',
      description: DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: SECURITY.user,
    paths,
    components: {
      schemas: componentSchemas(),
      parameters: { ...PARAMETERS } as Record<string, ParameterObject>,
      headers: { ...HEADERS } as Record<string, HeaderObject>,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'API token or JWT',
          description:
            'An API token (`rc_` + 43 base64url characters, from `POST /api/users` or `POST /api/tokens`), or, when the server sets `AUTH_JWT_SECRET` or `AUTH_JWKS_URL`, a JWT (e.g. a Supabase access token): its issuer and `sub` name a person, mapped to a report-chat user of their own (created on first sight; never a user created here). `iss` and `aud` are checked when `AUTH_JWT_ISSUER` and `AUTH_JWT_AUDIENCE` are set; a token made to live longer than `AUTH_JWT_MAX_AGE_S` is refused.',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'rc_session',
          description:
            'The session cookie set by `POST /api/auth/login` (`HttpOnly; SameSite=Lax`). Unsafe methods (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry an `Origin` equal to the server\'s own (`PUBLIC_URL`\'s origin when it is set), else 403 `csrf`.',
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'metrics token',
          description: '`METRICS_TOKEN`, when the server sets it: then `/metrics` needs it and nothing else accepts it. Without it `/metrics` is open.',
        },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'admin token',
          description:
            'The admin token (`ADMIN_TOKEN`, or generated on first start and kept with mode 0600 in the data directory). It may only call `POST /api/users`.',
        },
      },
    },
  };
}

let cached: OpenApiDocument | undefined;

/** The document, built once per process (it depends on nothing but code). */
export function openApiDocument(): OpenApiDocument {
  return (cached ??= buildOpenApiDocument());
}
