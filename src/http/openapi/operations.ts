import type { ErrorCode } from '../../errors/app-error.js';
import { pageQuery, reportQuery, uuidSchema } from '../schemas.js';
import { inlineSchema, queryParameters, type RequestComponent, type ResponseComponent } from './components.js';
import type { HeaderObject, HttpMethod, JsonSchema, ParameterObject } from './types.js';

// The one table of operations (API.md, docs/api-notes.md). The document (document.ts) and the HTML reference
// (html.ts) are built from it; test/openapi.test.ts fails when it and the routes the app serves differ.

export const TAGS = {
  Accounts: 'Users, sign-in sessions, and API tokens.',
  Reports: 'Reports are Markdown documents people chat about. Roles: `owner` (its creator), `editor` (may chat), `viewer` (may read the report and its conversation).',
  Members: 'Who else may see a report, and whether they may chat.',
  Conversation: 'Each report has one conversation. Messages are ordered by `seq`; a turn is a user message `n` and its answer `n+1`.',
  Service: 'Health, readiness, metrics, and this documentation.',
} as const;
export type Tag = keyof typeof TAGS;

/**
 * Who may call: `public` needs no credentials; `user` is an API token, a JWT, or the session cookie; `admin` is the
 * admin token; `optionalSession` uses the session cookie when there is one.
 */
export type Access = 'public' | 'user' | 'admin' | 'optionalSession';

/** A code the operation can answer with; the pair form says why, in this operation's terms. */
export type ErrorSpec = ErrorCode | readonly [ErrorCode, string];

/** A response body: a component by name, or an inline schema (text formats). */
export type ContentSpec = ResponseComponent | { schema: JsonSchema; example?: unknown };

export interface ResponseSpec {
  description: string;
  content?: Record<string, ContentSpec>;
  headers?: HeaderName[];
}

export interface OperationSpec {
  method: HttpMethod;
  /** In OpenAPI form: `/api/reports/{reportId}`. */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description: string;
  access: Access;
  /** A name from PARAMETERS, or one written in place. */
  parameters?: Array<ParameterName | ParameterObject>;
  body?: { schema: RequestComponent; description: string };
  /** The non-error answers, by status. */
  responses: Record<number, ResponseSpec>;
  /** The error answers: grouped by status (ERROR_STATUS) in the document. */
  errors: ErrorSpec[];
}

/** What each code means in general (API.md "Errors", docs/api-notes.md); an ErrorSpec pair narrows it. */
export const ERROR_MEANINGS: Record<ErrorCode, string> = {
  invalid_request: 'Malformed JSON, a missing or empty field, a wrong type, an unknown field, a bad UUID, or a NUL character.',
  unauthorized: 'No credentials, or credentials that are not valid.',
  forbidden: 'The report is visible to you, but your role does not allow this action.',
  csrf: "A cookie-authenticated unsafe request whose `Origin` is not this server's.",
  not_found: 'No such resource, or it exists but is not visible to you (the same answer for both).',
  report_not_ready: 'Chat on a report whose status is not `complete`.',
  conversation_full: 'The conversation holds `MAX_MESSAGES_PER_CONVERSATION` messages.',
  conversation_busy: 'An answer is still queued or streaming.',
  precondition_failed: '`If-Match` does not match the current version.',
  payload_too_large: 'A body over 64 KiB, a report over 2 MiB, or a message over `MAX_MESSAGE_CHARS`.',
  unsupported_media_type: 'A body that is not JSON (send `Content-Type: application/json`).',
  idempotency_conflict: 'The message id (idempotency key) already exists with different content.',
  precondition_required: 'A destructive request without `If-Match`.',
  rate_limited: 'Over a per-user limit; `Retry-After` says how many seconds to wait.',
  internal: 'An unexpected fault on the server. It is logged with the request id (`X-Request-Id`); the answer holds no details.',
  unavailable: 'The database cannot be reached: nothing was stored and no model was called.',
};

const VERSION_TAG = '^(W/)?"[0-9]{1,15}"$';

export const PARAMETERS = {
  ReportId: { name: 'reportId', in: 'path', required: true, description: "The report's id.", schema: inlineSchema(uuidSchema) },
  UserId: { name: 'userId', in: 'path', required: true, description: "The member's user id.", schema: inlineSchema(uuidSchema) },
  TokenId: { name: 'tokenId', in: 'path', required: true, description: "The token's id, as `POST /api/tokens` returned it.", schema: inlineSchema(uuidSchema) },
  MessageId: {
    name: 'messageId',
    in: 'path',
    required: true,
    description: "The answer's id, or the id of the user message it answers.",
    schema: inlineSchema(uuidSchema),
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'The ETag of a page you hold (`"<version>"` or `W/"<version>"`): 304 when the conversation has not changed. A malformed value never matches.',
    schema: { type: 'string' },
    example: '"12"',
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description:
      'Send only if the conversation is still at this version (`"<version>"`, compare-and-append): 412 `precondition_failed` when it changed. A replay ignores it; a malformed value is 400.',
    schema: { type: 'string', pattern: VERSION_TAG },
    example: '"12"',
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'The user message id, instead of the body `id`. Both present and different: 400.',
    schema: inlineSchema(uuidSchema),
  },
  Accept: {
    name: 'Accept',
    in: 'header',
    required: false,
    description:
      '`application/json` waits for the answer and returns it as JSON; anything else (or `text/event-stream`) streams it. Listed for readers: OpenAPI tools take content negotiation from the response media types.',
    schema: { type: 'string' },
    example: 'application/json',
  },
  LastEventId: {
    name: 'Last-Event-ID',
    in: 'header',
    required: false,
    description: 'The `id` (a version) of the last event you saw: the stream first replays every message changed after it. Browsers send it when they reconnect.',
    schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
    example: '12',
  },
} as const satisfies Record<string, ParameterObject>;
export type ParameterName = keyof typeof PARAMETERS;

const rateLimitHeader = (what: string, window: 'Hour' | 'Day'): HeaderObject => ({
  description: `${what} of new turns per ${window.toLowerCase()}; present while that limit is on (\`RATE_LIMIT_PER_${window.toUpperCase()}\` > 0).`,
  schema: { type: 'integer', minimum: 0 },
});

export const HEADERS = {
  ETag: { description: 'The conversation version, `"<version>"`.', schema: { type: 'string', pattern: '^"[0-9]+"$' } },
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
  IdempotentReplayed: { description: '`true` when the answer is the stored turn of an earlier request with the same id.', schema: { type: 'string', enum: ['true'] } },
  UiMessageStream: { description: 'The AI SDK UI message stream protocol version.', schema: { type: 'string', enum: ['v1'] } },
  ContentDisposition: { description: '`attachment; filename="conversation-<reportId>.md"` (or `.json`).', schema: { type: 'string' } },
  SetSessionCookie: {
    description: '`rc_session=<token>; HttpOnly; SameSite=Lax; Path=/` (plus `Secure` behind https), valid for 14 days.',
    schema: { type: 'string' },
  },
  ClearSessionCookie: { description: 'Expires the `rc_session` cookie.', schema: { type: 'string' } },
  'X-RateLimit-Limit-Hour': rateLimitHeader('The limit', 'Hour'),
  'X-RateLimit-Remaining-Hour': rateLimitHeader('What is left', 'Hour'),
  'X-RateLimit-Reset-Hour': { description: 'When the hourly window resets, in epoch seconds.', schema: { type: 'integer' } },
  'X-RateLimit-Limit-Day': rateLimitHeader('The limit', 'Day'),
  'X-RateLimit-Remaining-Day': rateLimitHeader('What is left', 'Day'),
  'X-RateLimit-Reset-Day': { description: 'When the daily window resets, in epoch seconds.', schema: { type: 'integer' } },
} as const satisfies Record<string, HeaderObject>;
export type HeaderName = keyof typeof HEADERS;

/** The header names each component is sent as (component keys that are not header names). */
export const HEADER_NAMES: Partial<Record<HeaderName, string>> = {
  RetryAfter: 'Retry-After',
  IdempotentReplayed: 'Idempotent-Replayed',
  UiMessageStream: 'x-vercel-ai-ui-message-stream',
  ContentDisposition: 'Content-Disposition',
  SetSessionCookie: 'Set-Cookie',
  ClearSessionCookie: 'Set-Cookie',
};

export const RATE_LIMIT_HEADERS: HeaderName[] = [
  'X-RateLimit-Limit-Hour',
  'X-RateLimit-Remaining-Hour',
  'X-RateLimit-Reset-Hour',
  'X-RateLimit-Limit-Day',
  'X-RateLimit-Remaining-Day',
  'X-RateLimit-Reset-Day',
];

const BODY_ERRORS: ErrorSpec[] = ['invalid_request', 'payload_too_large', 'unsupported_media_type'];
const SERVER_ERRORS: ErrorSpec[] = ['internal', 'unavailable'];

const exampleMessage = {
  id: '0b7a5f0e-3c1d-4b8e-9a51-2f4d7c9e6a10',
  reportId: '5e0c2a8b-6f1d-4c3e-8b7a-9d2f1e0c4b3a',
  seq: 2,
  role: 'assistant',
  content: 'The pool was exhausted because transactions held connections while calling the payment provider [1].',
  status: 'complete',
  replyTo: '7c1e9d2a-4b3f-4e8a-b6c5-1a0f2e3d4c5b',
  error: null,
  sources: [],
  context: null,
  reportRevision: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:04.000Z',
};

const TURN_STREAM_EXAMPLE = [
  'data: {"type":"start","messageId":"<assistant id>"}',
  'data: {"type":"data-turn","data":{"userMessage":{…},"assistantMessage":{…}}}',
  'data: {"type":"text-start","id":"<assistant id>"}',
  'data: {"type":"text-delta","id":"<assistant id>","delta":"The pool was "}',
  'data: {"type":"text-delta","id":"<assistant id>","delta":"exhausted because… [1]"}',
  'data: {"type":"source-document","sourceId":"<assistant id>:1","mediaType":"text/markdown","title":"Connection pool incident › Root cause","providerMetadata":{"reportChat":{"n":1,"start":161,"end":230,"quote":"Transactions held their connection while calling the payment provider"}}}',
  'data: {"type":"text-end","id":"<assistant id>"}',
  'data: {"type":"data-saved","data":{"saved":true,"message":{…}}}',
  'data: {"type":"finish"}',
  'data: [DONE]',
  '',
].join('\n\n');

const EVENTS_EXAMPLE = [
  ': connected',
  `event: message\nid: 13\ndata: ${JSON.stringify({ ...exampleMessage, content: '', status: 'streaming' })}`,
  'event: delta\ndata: {"id":"0b7a5f0e-3c1d-4b8e-9a51-2f4d7c9e6a10","offset":0,"text":"The pool was "}',
  ': ping',
  'event: cleared\nid: 20\ndata: {"version":20}',
  '',
].join('\n\n');

const TURN_STREAM_DESCRIPTION = `The answer as it is generated, in the [AI SDK UI message stream protocol](https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol), version 1. Each event is one \`data: <json>\` line and a blank line, in this order:

- \`start\` with \`messageId\`, the answer's id;
- \`data-turn\` with \`data.userMessage\` and \`data.assistantMessage\` (a Message each, the answer \`queued\` or further);
- \`text-start\`, then any number of \`text-delta\` (\`delta\` is the next piece of text), then \`text-end\`;
- among them, before \`text-end\`, one \`source-document\` per source the answer cites, after the delta that holds its \`[n]\` marker: \`sourceId\` (\`<answer id>:<n>\`), \`mediaType\` \`text/markdown\`, \`title\` (the heading path) and \`providerMetadata.reportChat\` \`{n, start, end, quote}\`, the same as the message's \`sources\` (an AI SDK client shows them as \`source-document\` parts);
- \`error\` with \`errorText\`, only when the model failed;
- \`data-saved\` with \`data.saved\` and \`data.message\`, the final answer (status \`complete\`, \`failed\`, \`stopped\` or \`interrupted\`);
- \`finish\`, then \`data: [DONE]\`.

The joined deltas always equal the saved \`message.content\`, and the \`source-document\` chunks its \`sources\`. \`saved: false\` means the final answer could not be committed after retries: tell the person, and keep the text on screen.`;

const EVENTS_DESCRIPTION = `Every change of the conversation, live, as Server-Sent Events:

- \`event: message\`, \`id: <version>\`, \`data: <Message>\`: on every creation and status change, and with the final content.
- \`event: delta\`, \`data: {"id", "offset", "text"}\`: text appended to a streaming answer. \`offset\` is the length (UTF-16 code units) of the content before \`text\`: apply a delta only where \`offset\` equals what you hold, otherwise fetch the message again.
- \`event: cleared\`, \`id: <version>\`, \`data: {"version"}\`: the conversation was cleared.
- Comments: \`: connected\` when the stream opens, \`: ping\` at least every 15 s.

With \`Last-Event-ID\` (or \`?after=\`) the stream first sends a \`message\` event for every message changed after that version (a streaming answer with the text of its last checkpoint), in version order, then live events, without a gap or a repeat. Events reach subscribers on every server instance that shares the database.`;

export const OPERATIONS: OperationSpec[] = [
  // Service
  {
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    tag: 'Service',
    summary: 'Liveness',
    description: 'Answers 200 while the process runs.',
    access: 'public',
    responses: { 200: { description: 'The process is running.', content: { 'application/json': 'Health' } } },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    tag: 'Service',
    summary: 'Readiness',
    description: 'Answers 200 when the database answers, else 503.',
    access: 'public',
    responses: { 200: { description: 'The database answers.', content: { 'application/json': 'Ready' } } },
    errors: [['unavailable', 'The database does not answer.']],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tag: 'Service',
    summary: 'Prometheus metrics',
    description:
      'Prometheus text: requests by route and status, turns by final status, time to first token, turn duration, database errors, open event streams. Open like `/healthz`: keep it behind your network\'s access rules.',
    access: 'public',
    responses: {
      200: {
        description: 'The metrics in the Prometheus text exposition format.',
        content: { 'text/plain': { schema: { type: 'string' }, example: 'report_chat_open_event_streams 3\n' } },
      },
    },
    errors: ['internal'],
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'Service',
    summary: 'This API as an OpenAPI 3.1 document',
    description: 'The document this reference is rendered from, generated from the schemas the server validates requests with.',
    access: 'public',
    responses: {
      200: {
        description: 'The OpenAPI 3.1 document.',
        content: { 'application/json': { schema: { type: 'object', description: 'An OpenAPI 3.1 document.' } } },
      },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/docs',
    operationId: 'getApiReference',
    tag: 'Service',
    summary: 'This API reference as HTML',
    description: 'A self-contained page (no scripts, no external resources) rendered from `/api/openapi.json`.',
    access: 'public',
    responses: { 200: { description: 'The reference page.', content: { 'text/html': { schema: { type: 'string' } } } } },
    errors: [],
  },

  // Accounts
  {
    method: 'post',
    path: '/api/users',
    operationId: 'createUser',
    tag: 'Accounts',
    summary: 'Create a user',
    description:
      'Creates a user and a first API token for them (the token is shown once). Only the admin token may call this, and it may call nothing else. Emails are unique regardless of case.',
    access: 'admin',
    body: { schema: 'CreateUserBody', description: 'The new user. Without `password` the user can only use API tokens.' },
    responses: { 201: { description: 'The user and their first API token.', content: { 'application/json': 'CreatedUser' } } },
    errors: [
      ['invalid_request', 'A malformed body, or a user with this email already exists.'],
      ['unauthorized', 'Not the admin token.'],
      'payload_too_large',
      'unsupported_media_type',
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'post',
    path: '/api/auth/login',
    operationId: 'signIn',
    tag: 'Accounts',
    summary: 'Sign in',
    description:
      'Checks an email and password and sets the session cookie. A wrong password and an unknown email get the same answer. Failed sign-ins are limited per account (5) and per address (30) per 15 minutes.',
    access: 'public',
    body: { schema: 'SignInBody', description: 'The email and password.' },
    responses: { 204: { description: 'Signed in: the session cookie is set.', headers: ['SetSessionCookie'] } },
    errors: [
      ...BODY_ERRORS,
      ['unauthorized', 'Wrong email or password.'],
      ['csrf', "An `Origin` header that is not this server's."],
      ['rate_limited', 'Too many failed sign-ins for this account or address.'],
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    operationId: 'signOut',
    tag: 'Accounts',
    summary: 'Sign out',
    description: 'Ends the session of the cookie sent, if any, and clears the cookie. Always 204 otherwise.',
    access: 'optionalSession',
    responses: { 204: { description: 'Signed out: the cookie is cleared.', headers: ['ClearSessionCookie'] } },
    errors: [['csrf', "A session cookie with an `Origin` that is not this server's."], ...SERVER_ERRORS],
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'getMe',
    tag: 'Accounts',
    summary: 'Who am I',
    description: 'The user the credentials belong to.',
    access: 'user',
    responses: { 200: { description: 'The caller.', content: { 'application/json': 'Me' } } },
    errors: ['unauthorized', ...SERVER_ERRORS],
  },
  {
    method: 'post',
    path: '/api/tokens',
    operationId: 'createToken',
    tag: 'Accounts',
    summary: 'Create an API token',
    description: 'A new API token for the caller. The token is shown once: only its SHA-256 is stored.',
    access: 'user',
    body: { schema: 'CreateTokenBody', description: 'An optional name to recognise the token by.' },
    responses: { 201: { description: 'The token and its id (to revoke it).', content: { 'application/json': 'CreatedToken' } } },
    errors: [...BODY_ERRORS, 'unauthorized', 'csrf', ...SERVER_ERRORS],
  },
  {
    method: 'delete',
    path: '/api/tokens/{tokenId}',
    operationId: 'revokeToken',
    tag: 'Accounts',
    summary: 'Revoke an API token',
    description: 'Revokes one of your API tokens; it stops working at once.',
    access: 'user',
    parameters: ['TokenId'],
    responses: { 204: { description: 'Revoked.' } },
    errors: [
      ['invalid_request', '`tokenId` is not a UUID.'],
      'unauthorized',
      'csrf',
      ['not_found', 'No such token of yours.'],
      ...SERVER_ERRORS,
    ],
  },

  // Reports
  {
    method: 'post',
    path: '/api/reports',
    operationId: 'createReport',
    tag: 'Reports',
    summary: 'Create a report',
    description: 'Creates a report owned by the caller, with an empty conversation.',
    access: 'user',
    body: { schema: 'CreateReportBody', description: 'The report: a title and Markdown content of at most 2 MiB. `status` defaults to `complete`.' },
    responses: { 201: { description: 'The report, with your role (`owner`).', content: { 'application/json': 'Report' } } },
    errors: [
      'invalid_request',
      ['payload_too_large', 'Content over 2 MiB.'],
      'unsupported_media_type',
      'unauthorized',
      'csrf',
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'get',
    path: '/api/reports',
    operationId: 'listReports',
    tag: 'Reports',
    summary: 'List reports',
    description: 'The reports visible to you (owned, or shared with you), newest first, without their content.',
    access: 'user',
    responses: { 200: { description: 'The reports.', content: { 'application/json': 'ReportList' } } },
    errors: ['unauthorized', ...SERVER_ERRORS],
  },
  {
    method: 'get',
    path: '/api/reports/{reportId}',
    operationId: 'getReport',
    tag: 'Reports',
    summary: 'Get a report',
    description:
      "The report with its content, its revision and your role. With `revision`, the content of that revision (title, status and role as they are now): the text an answer's `sources` point into when its `reportRevision` is not the report's `revision`.",
    access: 'user',
    parameters: [
      'ReportId',
      ...queryParameters(reportQuery, { revision: 'A revision of the content (1, 2, …); the current one without it.' }),
    ],
    responses: { 200: { description: 'The report.', content: { 'application/json': 'Report' } } },
    errors: [
      ['invalid_request', '`reportId` is not a UUID, or `revision` is not a positive integer.'],
      'unauthorized',
      ['not_found', 'No such report, or it has no such revision.'],
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'patch',
    path: '/api/reports/{reportId}',
    operationId: 'updateReport',
    tag: 'Reports',
    summary: 'Change a report',
    description: 'Changes the title, content or status. Owner only. A change of content makes a new revision (`revision` + 1); earlier revisions stay readable.',
    access: 'user',
    parameters: ['ReportId'],
    body: { schema: 'PatchReportBody', description: 'The fields to change; at least one.' },
    responses: { 200: { description: 'The report as it now is.', content: { 'application/json': 'Report' } } },
    errors: [
      'invalid_request',
      ['payload_too_large', 'Content over 2 MiB.'],
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      'not_found',
      ...SERVER_ERRORS,
    ],
  },

  // Members
  {
    method: 'put',
    path: '/api/reports/{reportId}/members/{userId}',
    operationId: 'setMember',
    tag: 'Members',
    summary: 'Share a report',
    description: 'Gives a user a role on the report, or changes it. Owner only. A demotion takes effect on their next request.',
    access: 'user',
    parameters: ['ReportId', 'UserId'],
    body: { schema: 'MemberBody', description: 'The role: `viewer` or `editor`.' },
    responses: { 200: { description: 'The membership.', content: { 'application/json': 'Member' } } },
    errors: [
      ['invalid_request', 'A malformed body or id, or `userId` is the owner.'],
      'payload_too_large',
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      ['not_found', 'No such report (visible to you), or no such user.'],
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'delete',
    path: '/api/reports/{reportId}/members/{userId}',
    operationId: 'removeMember',
    tag: 'Members',
    summary: 'Stop sharing a report',
    description: "Removes a user's role on the report. Owner only. Their open event streams close at once. Idempotent.",
    access: 'user',
    parameters: ['ReportId', 'UserId'],
    responses: { 204: { description: 'Removed (or was not a member).' } },
    errors: [
      ['invalid_request', 'An id is not a UUID.'],
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      'not_found',
      ...SERVER_ERRORS,
    ],
  },

  // Conversation
  {
    method: 'get',
    path: '/api/reports/{reportId}/messages',
    operationId: 'listMessages',
    tag: 'Conversation',
    summary: 'Read the conversation',
    description:
      'A page of messages, ascending by `seq`. Without `before` or `after`, the newest page. The answer carries `ETag: "<version>"`; `If-None-Match` with the current ETag gives 304. The version does not change while an answer streams (checkpoints are not versioned changes).',
    access: 'user',
    parameters: [
      'ReportId',
      ...queryParameters(pageQuery, {
        limit: 'How many messages, 1 to 200.',
        before: 'Older messages: those with `seq` below this. Not with `after`.',
        after: 'Newer messages: those with `seq` above this. Not with `before`.',
      }),
      'IfNoneMatch',
    ],
    responses: {
      200: { description: 'The page.', content: { 'application/json': 'MessagesPage' }, headers: ['ETag'] },
      304: { description: 'Not modified: the conversation is still at the version of `If-None-Match`.', headers: ['ETag'] },
    },
    errors: [['invalid_request', 'A bad query (out of range, or both `before` and `after`) or `reportId`.'], 'unauthorized', 'not_found', ...SERVER_ERRORS],
  },
  {
    method: 'post',
    path: '/api/reports/{reportId}/messages',
    operationId: 'sendMessage',
    tag: 'Conversation',
    summary: 'Send a message and get the answer',
    description: `Appends a user message and its answer. Owner and editors.

- The user message and the answer's placeholder are committed in one transaction **before** the model is called; if that fails, the answer is 503 and nothing was stored.
- Answers in one conversation are produced in \`seq\` order; the model sees every earlier completed message (within the context budget).
- A client that disconnects does not stop the answer: it is generated and stored, and other tabs see it.
- **Replay**: the same \`id\` with the same content never creates a second turn. It answers with the stored turn (following the live answer if it is still being generated), with \`Idempotent-Replayed: true\`. The same \`id\` with different content is 422. Replays are not rate limited and ignore \`If-Match\`.
- Without an \`id\` (body or \`Idempotency-Key\`) the server makes one up, and the request cannot be retried safely: always send one.

\`Accept: application/json\` waits for the answer: 201 (200 on a replay) with the turn. Otherwise the answer streams (200, \`text/event-stream\`).`,
    access: 'user',
    parameters: ['ReportId', 'IdempotencyKey', 'IfMatch', 'Accept'],
    body: { schema: 'SendMessageBody', description: "`content` of at most `MAX_MESSAGE_CHARS` (default 4000) characters; `id` is the client's UUID for the user message and its idempotency key." },
    responses: {
      200: {
        description: 'The answer, streamed (a new turn or a replay); or, with `Accept: application/json`, a replayed turn.',
        content: {
          'text/event-stream': { schema: { type: 'string', description: TURN_STREAM_DESCRIPTION }, example: TURN_STREAM_EXAMPLE },
          'application/json': 'Turn',
        },
        headers: ['UiMessageStream', 'IdempotentReplayed', ...RATE_LIMIT_HEADERS],
      },
      201: {
        description: 'With `Accept: application/json`: the new turn once its answer ended. `saved` tells whether the final answer was committed.',
        content: { 'application/json': 'Turn' },
        headers: RATE_LIMIT_HEADERS,
      },
    },
    errors: [
      ['invalid_request', 'A malformed body; `Idempotency-Key` not a UUID or different from `id`; a malformed `If-Match`.'],
      ['payload_too_large', '`content` over `MAX_MESSAGE_CHARS`, or a body over 64 KiB.'],
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are a viewer.'],
      'csrf',
      'not_found',
      'report_not_ready',
      'conversation_full',
      ['precondition_failed', 'The conversation changed since the version in `If-Match`.'],
      'idempotency_conflict',
      ['rate_limited', 'Over `RATE_LIMIT_PER_HOUR` or `RATE_LIMIT_PER_DAY` new turns.'],
      'internal',
      ['unavailable', 'The turn could not be stored: nothing was stored and no model was called.'],
    ],
  },
  {
    method: 'delete',
    path: '/api/reports/{reportId}/messages',
    operationId: 'clearConversation',
    tag: 'Conversation',
    summary: 'Clear the conversation',
    description:
      'Deletes every message. Owner only. Needs `If-Match` with the current version. Seqs keep growing after a clear; subscribers get a `cleared` event.',
    access: 'user',
    parameters: [
      'ReportId',
      { ...PARAMETERS.IfMatch, required: true, description: 'The current version, `"<version>"`: 428 without it, 412 when stale.' },
    ],
    responses: { 204: { description: 'Cleared.' } },
    errors: [
      ['invalid_request', 'A malformed `If-Match` or `reportId`.'],
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      'not_found',
      'conversation_busy',
      'precondition_failed',
      'precondition_required',
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'post',
    path: '/api/reports/{reportId}/messages/{messageId}/stop',
    operationId: 'stopAnswer',
    tag: 'Conversation',
    summary: 'Stop an answer',
    description:
      'Stops the answer wherever it is being generated (any server instance), keeping its partial text; its status becomes `stopped`. Idempotent: an answer that already ended is returned as it is. Owner and editors.',
    access: 'user',
    parameters: ['ReportId', 'MessageId'],
    responses: { 200: { description: 'The answer as it now is.', content: { 'application/json': 'StoppedAnswer' } } },
    errors: [
      ['invalid_request', 'An id is not a UUID.'],
      'unauthorized',
      ['forbidden', 'You are a viewer.'],
      'csrf',
      ['not_found', 'No such report (visible to you) or message.'],
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'get',
    path: '/api/reports/{reportId}/events',
    operationId: 'streamEvents',
    tag: 'Conversation',
    summary: 'Live updates',
    description: 'A Server-Sent Events stream of every change of the conversation, for every open tab. The stream closes when you lose access to the report.',
    access: 'user',
    parameters: [
      'ReportId',
      'LastEventId',
      {
        name: 'after',
        in: 'query',
        required: false,
        description: 'The same as `Last-Event-ID`, for clients that cannot set headers. The header wins.',
        schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
      },
    ],
    responses: {
      200: {
        description: 'The event stream.',
        content: { 'text/event-stream': { schema: { type: 'string', description: EVENTS_DESCRIPTION }, example: EVENTS_EXAMPLE } },
      },
    },
    errors: [
      ['invalid_request', '`Last-Event-ID` (or `after`) is not a version number, or `reportId` is not a UUID.'],
      'unauthorized',
      'not_found',
      ['rate_limited', 'You have 20 streams open on this server instance; close some tabs.'],
      ...SERVER_ERRORS,
    ],
  },
  {
    method: 'get',
    path: '/api/reports/{reportId}/export',
    operationId: 'exportConversation',
    tag: 'Conversation',
    summary: 'Export the conversation',
    description:
      "The whole conversation as a download (`Content-Disposition: attachment`), as Markdown or JSON. JSON holds each message as the API returns it, sources included; Markdown turns an answer's cited `[n]` markers into footnotes (`[^<seq>.<n>]`) that give the heading path and the quote.",
    access: 'user',
    parameters: [
      'ReportId',
      {
        name: 'format',
        in: 'query',
        required: false,
        description: 'The file format.',
        schema: { type: 'string', enum: ['markdown', 'json'], default: 'markdown' },
      },
    ],
    responses: {
      200: {
        description: 'The conversation.',
        content: {
          'text/markdown': { schema: { type: 'string' }, example: '# Connection pool incident\n\n## You\n\n…' },
          'application/json': 'ConversationExport',
        },
        headers: ['ContentDisposition'],
      },
    },
    errors: [['invalid_request', 'An unknown `format`, or `reportId` is not a UUID.'], 'unauthorized', 'not_found', ...SERVER_ERRORS],
  },
];
