import { z } from 'zod';

/**
 * Every shape of the HTTP API, stated once: the server validates requests and publishes its OpenAPI document with
 * these schemas, and the typed client (src/client) takes its types from them (`z.output`). Zod only: the browser
 * imports this module's types, and nothing of the server.
 *
 * `meta({ id })` names a component of the OpenAPI document; descriptions and the JSON Schema keywords that a
 * refinement cannot state (`minLength` for "not blank", ...) are published from `meta` too.
 */

/**
 * Text PostgreSQL can store exactly as sent: no NUL, no lone UTF-16 surrogate (it would come back altered).
 * `notBlank` also refuses text that is only white space.
 */
function storableText(limits: { min?: number; max?: number; notBlank?: boolean } = {}) {
  let s = z.string();
  if (limits.min !== undefined) s = s.min(limits.min);
  if (limits.max !== undefined) s = s.max(limits.max);
  s = s.refine((v) => !v.includes('\u0000'), 'must not contain NUL characters').refine((v) => v.isWellFormed(), 'must be well-formed Unicode');
  if (!limits.notBlank) return s;
  return s
    .refine((v) => v.trim().length > 0, 'must not be empty')
    .meta({ minLength: Math.max(1, limits.min ?? 1), description: 'Must not be empty or only white space; no NUL characters or unpaired UTF-16 surrogates.' });
}

const nonEmptyText = (max?: number) => storableText({ max, notBlank: true });

export const uuidSchema = z.uuid();

export const reportStatusSchema = z.enum(['generating', 'complete', 'failed']);
export const roleSchema = z.enum(['owner', 'editor', 'viewer']);
export const memberRoleSchema = z.enum(['viewer', 'editor']);
export const messageStatusSchema = z.enum(['queued', 'streaming', 'complete', 'failed', 'stopped', 'interrupted']);
export const visibilitySchema = z
  .enum(['shared', 'private'])
  .meta({ description: '`shared`: every member of the report sees it; `private`: only the person who created it.' });

// ---------------------------------------------------------------------------------------------------------------
// Requests

const newPassword = () => storableText({ min: 8, max: 1024 });

export const createUserBody = z
  .strictObject({
    email: z.email().max(320),
    name: nonEmptyText(200).optional(),
    password: newPassword().optional(),
    invite: z.boolean().optional().describe('Also make a one-use invite code (valid 7 days) with which they choose a password: `POST /api/auth/invite`.'),
  })
  .meta({ id: 'CreateUserBody' });

export const changePasswordBody = z
  .strictObject({
    currentPassword: z.string().min(1).max(1024).optional().describe('Required when you have a password.'),
    newPassword: newPassword(),
  })
  .meta({ id: 'ChangePasswordBody' });

export const acceptInviteBody = z
  .strictObject({ code: z.string().min(1).max(200), password: newPassword() })
  .meta({ id: 'AcceptInviteBody' });

export const adminSignInBody = z
  .strictObject({
    token: z.string().min(1).max(200).optional().describe('The admin token.'),
    code: z.string().min(1).max(200).optional().describe('The code of a one-time sign-in link (`report-chat admin-link`).'),
  })
  .refine((b) => (b.token === undefined) !== (b.code === undefined), 'send either token or code')
  .meta({ id: 'AdminSignInBody', minProperties: 1, maxProperties: 1, description: 'Either `token` or `code`.' });

export const addMemberBody = z
  .strictObject({ email: z.email().max(320), role: memberRoleSchema })
  .meta({ id: 'AddMemberBody' });

export const signInBody = z
  .strictObject({
    email: z.string().min(1).max(320),
    password: z.string().min(1).max(1024),
  })
  .meta({ id: 'SignInBody' });

export const createTokenBody = z.strictObject({ name: nonEmptyText(200).optional() }).meta({ id: 'CreateTokenBody' });

export const createReportBody = z
  .strictObject({
    title: nonEmptyText(500),
    content: nonEmptyText(),
    status: reportStatusSchema.optional(),
  })
  .meta({ id: 'CreateReportBody' });

export const patchReportBody = z
  .strictObject({
    title: nonEmptyText(500).optional(),
    content: nonEmptyText().optional(),
    status: reportStatusSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'needs at least one of title, content, status')
  .meta({ id: 'PatchReportBody', minProperties: 1, description: 'At least one of `title`, `content`, `status`.' });

export const memberBody = z.strictObject({ role: memberRoleSchema }).meta({ id: 'MemberBody' });

export const sendMessageBody = z
  .strictObject({
    id: uuidSchema.optional(),
    content: nonEmptyText(),
  })
  .meta({ id: 'SendMessageBody' });

export const forkPointSchema = z
  .strictObject({
    conversationId: uuidSchema.describe('The conversation to fork, of the same report and visible to you.'),
    seq: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .describe('The fork holds copies of its messages `1..seq`: 0, or the seq of an answer that has ended (the end of a turn).'),
  })
  .meta({ id: 'ForkPoint' });

export const createConversationBody = z
  .strictObject({
    id: uuidSchema.optional().describe('Your id for it: the idempotency key. Sending the same body again replays; another body is 422.'),
    title: nonEmptyText(200).optional(),
    visibility: visibilitySchema.optional().describe('`shared` when absent.'),
    forkFrom: forkPointSchema.optional(),
  })
  .meta({ id: 'CreateConversationBody' });

export const patchConversationBody = z
  .strictObject({
    title: nonEmptyText(200).optional(),
    visibility: visibilitySchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'needs at least one of title, visibility')
  .meta({ id: 'PatchConversationBody', minProperties: 1, description: 'At least one of `title`, `visibility`.' });

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'How many messages, 1 to 200.' }),
    before: z.coerce.number().int().min(1).optional().meta({ description: 'Older messages: those with `seq` below this. Not with `after`.' }),
    after: z.coerce.number().int().min(0).optional().meta({ description: 'Newer messages: those with `seq` above this. Not with `before`.' }),
  })
  .refine((q) => q.before === undefined || q.after === undefined, 'use either before or after, not both');

/** The largest revision PostgreSQL's integer column holds: a larger one is a bad request, not a server fault. */
const MAX_REVISION = 2_147_483_647;

export const reportQuery = z.object({
  revision: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'must be a revision number (1, 2, ...)')
    .transform(Number)
    .pipe(z.number().max(MAX_REVISION))
    .optional()
    .meta({ description: 'A revision of the content (1, 2, …); the current one without it.' }),
});

export const exportQuery = z.object({
  format: z
    .enum(['markdown', 'json'], { error: 'must be markdown or json' })
    .default('markdown')
    .meta({ description: 'The file format.' }),
});

// ---------------------------------------------------------------------------------------------------------------
// Responses

const ERROR_CODE_NOTE =
  'A stable, machine-readable code from a closed set (see the error responses of each operation). Branch on it, not on the message or the status alone.';

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: ERROR_CODE_NOTE }),
      message: z.string().meta({ description: 'For a person; may change. Never holds a stack trace, SQL or a file path.' }),
    }),
  })
  .meta({ id: 'Error' });

export const sourceSchema = z
  .object({
    n: z.number().int().min(1).describe('The number the answer text uses for it: `[n]`.'),
    start: z.number().int().min(0).describe("UTF-16 offset of the passage's first character in the report revision `reportRevision`."),
    end: z.number().int().min(0).describe('UTF-16 offset just after its last character.'),
    quote: z.string().describe('Exactly `content.slice(start, end)` of that revision.'),
    heading: z.string().describe("The heading path of the passage's section (`Findings › Cold start`); empty before the first heading."),
  })
  .meta({ id: 'Source', description: 'A passage of the report the answer rests on, verified against the report before it was stored or sent.' });

export const contextSchema = z
  .object({
    reportChars: z.number().int().min(0).describe("The report's length in characters."),
    sentChars: z.number().int().min(0).describe('Characters of the report sent to the model.'),
    passages: z.number().int().min(0).describe('Passages of the report sent.'),
    totalPassages: z.number().int().min(0).describe('Passages in the whole report: fewer sent means a selection.'),
    historyTurns: z.number().int().min(0).describe('Earlier messages of the conversation sent.'),
  })
  .meta({ id: 'AnswerContext', description: 'What the answer was given.' });

export const messageSchema = z
  .object({
    id: z.uuid(),
    reportId: z.uuid(),
    conversationId: z.uuid().describe('The conversation the message belongs to.'),
    authorId: z
      .uuid()
      .nullable()
      .describe("Who wrote a user message (a fork's copy keeps its author); null for an answer, and for a question of a user since deleted."),
    seq: z.number().int().min(1),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    status: messageStatusSchema,
    replyTo: z.uuid().nullable(),
    error: z.string().nullable(),
    sources: z.array(sourceSchema).describe("The passages the answer cites; [] for a user message. An answer that ended early keeps those of its text."),
    context: contextSchema.nullable().describe('What the answer was given; null for a user message and an answer that never reached the model.'),
    reportRevision: z
      .number()
      .int()
      .min(1)
      .nullable()
      .describe("The report revision the answer was given, which its sources point into (`GET /api/reports/{reportId}?revision=`); null for a user message."),
    copiedFrom: z
      .uuid()
      .nullable()
      .describe('For a message a fork copied: the id of the message it is a copy of (the first one written, however many forks it went through); null otherwise.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Message' });

export const messagesPageSchema = z
  .object({
    messages: z.array(messageSchema),
    version: z.number().int().min(0),
    hasMoreBefore: z.boolean(),
  })
  .meta({ id: 'MessagesPage' });

export const turnSchema = z
  .object({
    userMessage: messageSchema,
    assistantMessage: messageSchema,
    saved: z.boolean(),
  })
  .meta({ id: 'Turn' });

export const reportSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    status: reportStatusSchema,
    content: z.string(),
    revision: z.number().int().min(1).describe('Grows by one with each change of `content`; every revision stays readable.'),
    role: roleSchema,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Report' });

export const reportSummarySchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    status: reportStatusSchema,
    role: roleSchema,
    messageCount: z.number().int().min(0),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'ReportSummary' });

export const reportListSchema = z.object({ reports: z.array(reportSummarySchema) }).meta({ id: 'ReportList' });

export const conversationSchema = z
  .object({
    id: z.uuid(),
    reportId: z.uuid(),
    title: z.string(),
    visibility: visibilitySchema,
    isMain: z.boolean().describe("The report's main conversation: the one `/api/reports/{reportId}/messages` and its siblings mean. Shared, never deleted."),
    createdBy: z.uuid().nullable().describe('Who created it (the report owner for the main one); null when that user was deleted.'),
    forkedFrom: z
      .object({ conversationId: z.uuid(), seq: z.number().int().min(0) })
      .nullable()
      .describe('The conversation and seq it was forked at: its messages `1..seq` are copies of that one’s. Null when not a fork.'),
    version: z.number().int().min(0),
    messageCount: z.number().int().min(0),
    lastSeq: z.number().int().min(0).describe('The seq of the newest message ever written to it (copied ones included); 0 for none.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime().describe('The last activity: a message written or changed, or the conversation renamed.'),
  })
  .meta({ id: 'Conversation' });

export const conversationListSchema = z.object({ conversations: z.array(conversationSchema) }).meta({ id: 'ConversationList' });

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const readySchema = z.object({ status: z.literal('ready') }).meta({ id: 'Ready' });

/** `rc_` + 43 base64url characters; shown once, only its SHA-256 is stored. */
export const apiTokenSchema = z.string().regex(/^rc_[A-Za-z0-9_-]{43}$/);

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable().describe('null for a user known only by a JWT that carries no email (or whose email another user has).'),
    name: z.string().nullable(),
  })
  .meta({ id: 'User' });

export const meSchema = z
  .object({
    user: userSchema,
    signedInWith: z.enum(['session', 'token', 'jwt']).describe('What authenticated this request.'),
    hasPassword: z.boolean().describe('Whether the user can sign in with a password.'),
  })
  .meta({ id: 'Me' });

export const inviteSchema = z
  .object({
    code: z.string().describe('Shown once. The web app\'s link is `/invite#<code>`.'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Invite' });

export const createdUserSchema = z
  .object({ user: userSchema, token: apiTokenSchema, invite: inviteSchema.optional().describe('With `invite: true`.') })
  .meta({ id: 'CreatedUser' });

export const tokenSummarySchema = z
  .object({
    id: z.uuid(),
    name: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable().describe('Recorded at most once a minute; null when never used.'),
  })
  .meta({ id: 'TokenSummary' });

export const tokenListSchema = z.object({ tokens: z.array(tokenSummarySchema) }).meta({ id: 'TokenList' });

export const adminUserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    createdAt: z.iso.datetime(),
    hasPassword: z.boolean(),
    disabled: z.boolean(),
  })
  .meta({ id: 'AdminUser' });

export const adminUserListSchema = z.object({ users: z.array(adminUserSchema) }).meta({ id: 'AdminUserList' });

export const adminSessionSchema = z.object({ expiresAt: z.iso.datetime() }).meta({ id: 'AdminSession' });

export const memberDetailSchema = z
  .object({ userId: z.uuid(), email: z.string().nullable(), name: z.string().nullable(), role: memberRoleSchema })
  .meta({ id: 'MemberDetail' });

export const memberListSchema = z
  .object({
    owner: userSchema,
    role: roleSchema.describe('Your role on the report.'),
    members: z.array(memberDetailSchema).describe('Every member for the owner; for anyone else, only themselves.'),
  })
  .meta({ id: 'MemberList' });

export const createdTokenSchema = z.object({ id: z.uuid(), token: apiTokenSchema }).meta({ id: 'CreatedToken' });

export const memberSchema = z.object({ userId: z.uuid(), role: memberRoleSchema }).meta({ id: 'Member' });

export const stoppedAnswerSchema = z.object({ message: messageSchema }).meta({ id: 'StoppedAnswer' });

export const conversationExportSchema = z
  .object({
    report: z.object({ id: z.uuid(), title: z.string() }),
    conversation: z.object({ id: z.uuid(), title: z.string(), isMain: z.boolean() }),
    version: z.number().int().min(0),
    exportedAt: z.iso.datetime(),
    messages: z.array(messageSchema),
  })
  .meta({ id: 'ConversationExport' });
