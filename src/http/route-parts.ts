import type { RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { errorSchema } from '../api/schemas.js';
import { ERROR_STATUS, type ErrorCode } from '../errors/app-error.js';
import { VERSION_TAG } from './request.js';

// The pieces route declarations share (createRoute in src/http/routes/*): parameters, headers, who may call, and
// the error answers, grouped by status the way the error handler sends them.

type Responses = RouteConfig['responses'];

/** A path parameter that must be a UUID; ids are compared lower-cased. */
export const idParam = (description: string) =>
  z
    .uuid({ error: 'must be a UUID' })
    .meta({ param: { description } })
    .transform((id) => id.toLowerCase());

export const reportIdParam = idParam("The report's id.");

export const reportParams = z.object({ reportId: reportIdParam });

export const IF_MATCH_DESCRIPTION =
  'Send only if the conversation is still at this version (`"<version>"`, compare-and-append): 412 `precondition_failed` when it changed. A replay ignores it; a malformed value is 400.';

/** `If-Match: "<version>"` (optionally weak) as the version. */
export const ifMatchHeader = (description = IF_MATCH_DESCRIPTION) =>
  z
    .string()
    .trim()
    .regex(VERSION_TAG, 'must be a version in quotes, like "12"')
    .transform((v) => Number(VERSION_TAG.exec(v)![1]))
    .optional()
    .meta({ param: { description }, example: '"12"' });

/**
 * Who may call: `user` is an API token, a JWT, or the session cookie; `admin` the admin token or the admin page's session; `optionalSession`
 * uses the session cookie when there is one; `metrics` needs the metrics token when the server has one.
 */
type Security = Array<Record<string, string[]>>;

export const SECURITY: Record<'public' | 'user' | 'admin' | 'optionalSession' | 'metrics', Security> = {
  public: [],
  user: [{ bearerAuth: [] }, { sessionCookie: [] }],
  admin: [{ adminToken: [] }, { adminSession: [] }],
  optionalSession: [{}, { sessionCookie: [] }],
  metrics: [{}, { metricsToken: [] }],
};

/** What each code means in general (API.md "Errors", docs/api-notes.md); a pair in `errors()` narrows it. */
const ERROR_MEANINGS: Record<ErrorCode, string> = {
  invalid_request: 'Malformed JSON, a missing or empty field, a wrong type, an unknown field, a bad UUID, or a NUL character.',
  unauthorized: 'No credentials, or credentials that are not valid.',
  forbidden: 'The report is visible to you, but your role does not allow this action.',
  csrf: "A cookie-authenticated unsafe request whose `Origin` is not this server's.",
  not_found: 'No such resource, or it exists but is not visible to you (the same answer for both).',
  report_not_ready: 'Chat on a report whose status is not `complete`.',
  conversation_full: 'The conversation holds `MAX_MESSAGES_PER_CONVERSATION` messages.',
  conversation_busy: 'An answer is still queued or streaming.',
  token_limit: 'You hold the most API tokens a user may have (50); revoke one first.',
  already_member: 'The user already has a role on the report; change it with `PUT …/members/{userId}`.',
  conversation_limit: 'You have created `MAX_CONVERSATIONS_PER_REPORT` conversations of this report; delete one first.',
  precondition_failed: '`If-Match` does not match the current version.',
  payload_too_large: 'A body over 64 KiB, a report over 2 MiB, or a message over `MAX_MESSAGE_CHARS`.',
  unsupported_media_type: 'A body that is not JSON (send `Content-Type: application/json`).',
  idempotency_conflict: 'The message id (idempotency key) already exists with different content.',
  precondition_required: 'A destructive request without `If-Match`.',
  rate_limited: 'Over a limit (per user, or of failed sign-ins); `Retry-After` says how many seconds to wait.',
  internal: 'An unexpected fault on the server. It is logged with the request id (`X-Request-Id`); the answer holds no details.',
  unavailable: 'The database cannot be reached: nothing was stored and no model was called.',
};

/** A code the operation can answer with; the pair form says why, in this operation's terms. */
export type ErrorSpec = ErrorCode | readonly [ErrorCode, string];

export const BODY_ERRORS: ErrorSpec[] = ['invalid_request', 'payload_too_large', 'unsupported_media_type'];
export const SERVER_ERRORS: ErrorSpec[] = ['internal', 'unavailable'];

const header = (description: string, schema: Record<string, unknown>) => ({ description, schema });

const rateLimitHeader = (what: string, window: 'Hour' | 'Day') =>
  header(`${what} of new turns per ${window.toLowerCase()}; present while that limit is on (\`RATE_LIMIT_PER_${window.toUpperCase()}\` > 0).`, {
    type: 'integer',
    minimum: 0,
  });

export const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit-Hour': rateLimitHeader('The limit', 'Hour'),
  'X-RateLimit-Remaining-Hour': rateLimitHeader('What is left', 'Hour'),
  'X-RateLimit-Reset-Hour': header('When the hourly window resets, in epoch seconds.', { type: 'integer' }),
  'X-RateLimit-Limit-Day': rateLimitHeader('The limit', 'Day'),
  'X-RateLimit-Remaining-Day': rateLimitHeader('What is left', 'Day'),
  'X-RateLimit-Reset-Day': header('When the daily window resets, in epoch seconds.', { type: 'integer' }),
};

export const RETRY_AFTER = { 'Retry-After': header('Seconds to wait before trying again.', { type: 'integer', minimum: 1 }) };

/** The error answers of one status: the Error schema with `code` narrowed to these codes, one example each. */
function errorResponse(status: number, specs: ReadonlyArray<readonly [ErrorCode, string]>) {
  const codes = specs.map(([code]) => code);
  return {
    description: specs.map(([code, why]) => `- \`${code}\`: ${why}`).join('\n'),
    headers: status === 429 ? { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS } : status === 503 ? RETRY_AFTER : undefined,
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Error' },
            { type: 'object' as const, properties: { error: { type: 'object' as const, properties: { code: { enum: codes } } } } },
          ],
        },
        examples: Object.fromEntries(specs.map(([code, why]) => [code, { summary: why, value: { error: { code, message: why.replace(/`/g, '') } } }])),
      },
    },
  };
}

/** The error answers of an operation, by status, from the codes it can answer with. */
export function errors(...specs: ErrorSpec[]): Responses {
  const byStatus = new Map<number, Array<readonly [ErrorCode, string]>>();
  for (const spec of specs) {
    const [code, why] = typeof spec === 'string' ? [spec, ERROR_MEANINGS[spec]] : spec;
    const list = byStatus.get(ERROR_STATUS[code]) ?? [];
    if (list.some(([c]) => c === code)) throw new Error(`openapi: error code ${code} listed twice`);
    list.push([code, why]);
    byStatus.set(ERROR_STATUS[code], list);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, errorResponse(status, list)]));
}

/** A JSON response or request body. */
export const json = <S extends z.ZodType>(schema: S) => ({ 'application/json': { schema } });

/** A required JSON request body. */
export const jsonRequest = <S extends z.ZodType>(schema: S, description: string) => ({ description, required: true, content: json(schema) });

/** The Error schema, for the document's components (the error answers refer to it). */
export { errorSchema };
