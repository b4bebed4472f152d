import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env.js';

// The parts of the OpenAPI document that belong to no one route: what the API is, its conventions, its tags and
// its security schemes. Every operation is declared beside its handler (src/http/routes/*, createRoute).

export const TAGS = {
  Accounts: 'Users, sign-in sessions, and API tokens.',
  Reports: 'Reports are Markdown documents people chat about. Roles: `owner` (its creator), `editor` (may chat), `viewer` (may read the report and its conversation).',
  Members: 'Who else may see a report, and whether they may chat.',
  Conversation: 'Each report has one conversation. Messages are ordered by `seq`; a turn is a user message `n` and its answer `n+1`.',
  Service: 'Health, readiness, metrics, and this documentation.',
} as const;

export type Tag = keyof typeof TAGS;

const DESCRIPTION = `Chat about reports with an AI model; a conversation never loses or duplicates a message.

**Conventions.** Bodies are JSON (\`application/json; charset=utf-8\`) unless an operation says otherwise. Field names are camelCase, times are ISO 8601 strings in UTC, ids are UUIDs. Unknown body fields are refused (400), so a typo never goes unnoticed. Text must not contain NUL characters or unpaired UTF-16 surrogates (400). Request bodies are limited to 64 KiB, reports to 2 MiB (413). Every response carries \`X-Request-Id\` (yours, when you send a sane one). When the server sets \`PUBLIC_URL\`, a request whose \`Host\` is not that URL's host is 400 \`invalid_request\` (all but \`/healthz\`, \`/readyz\` and \`/metrics\`).

**Errors.** Every error is \`{"error": {"code", "message"}}\`. The code comes from a closed set; each operation lists the codes it can answer with under their status. Unknown routes and methods are 404 \`not_found\`. Unexpected faults are 500 \`internal\` with no details; a database that cannot be reached is 503 \`unavailable\` with \`Retry-After\`.

**Versions.** A conversation has a \`version\` that grows with every change to any of its messages (creation, status change, final content). It is the conversation's ETag, \`"<version>"\`: use it with \`If-None-Match\` to poll cheaply, with \`If-Match\` to send only against the view you hold, and as \`Last-Event-ID\` to resume live updates.`;

const SECURITY_SCHEMES = {
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
      "The session cookie set by `POST /api/auth/login` (`HttpOnly; SameSite=Lax`). Unsafe methods (POST, PUT, PATCH, DELETE) authenticated by the cookie must carry an `Origin` equal to the server's own (`PUBLIC_URL`'s origin when it is set), else 403 `csrf`.",
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
      'The admin token (`ADMIN_TOKEN`, or generated on first start and kept with mode 0600 in the data directory). It may only call the administration routes (users), never a report route.',
  },
  adminSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'rc_admin',
    description:
      "The admin page's session cookie, set by `POST /api/admin/session` (`HttpOnly; SameSite=Strict; Path=/api`, 8 hours). Accepted wherever the admin token is; unsafe methods must carry the server's own `Origin`.",
  },
} as const;

/**
 * Registers what the document needs beyond the routes: the security schemes. (The Error schema the error answers
 * refer to is a component because /readyz answers with it.)
 */
export function registerDocumentParts(app: OpenAPIHono<AppEnv>): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
}

// `summary` and the license's SPDX `identifier` are OpenAPI 3.1 fields the generator's (3.0) types do not list.
const INFO = {
  title: 'report-chat HTTP API',
  version: '1',
  summary: 'Chat about reports with an AI model.',
  description: DESCRIPTION,
  license: { name: 'MIT', identifier: 'MIT' },
};

/** The OpenAPI 3.1 document of the whole HTTP API, generated from the routes the app declares. */
export function generateDocument(app: OpenAPIHono<AppEnv>) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: INFO,
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
  });
}
