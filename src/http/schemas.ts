import { z } from 'zod';

// The request and response shapes the routes publish. Tests assert responses against these same schemas.

/** Text PostgreSQL can store exactly as sent: no NUL, no lone UTF-16 surrogate (it would come back altered). */
const storableText = z
  .string()
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .refine((s) => s.isWellFormed(), 'must be well-formed Unicode');

export const nonEmptyText = storableText.refine((s) => s.trim().length > 0, 'must not be empty');

export const uuidSchema = z.uuid();

export const reportStatusSchema = z.enum(['generating', 'complete', 'failed']);

export const createUserBody = z.strictObject({
  email: z.email().max(320),
  name: nonEmptyText.pipe(z.string().max(200)).optional(),
  password: storableText.pipe(z.string().min(8).max(1024)).optional(),
});

export const createReportBody = z.strictObject({
  title: nonEmptyText.pipe(z.string().max(500)),
  content: nonEmptyText,
  status: reportStatusSchema.optional(),
});

export const patchReportBody = z
  .strictObject({
    title: nonEmptyText.pipe(z.string().max(500)).optional(),
    content: nonEmptyText.optional(),
    status: reportStatusSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'needs at least one of title, content, status');

export const sendMessageBody = z.strictObject({
  id: uuidSchema.optional(),
  content: nonEmptyText,
});

export const createTokenBody = z.strictObject({ name: nonEmptyText.pipe(z.string().max(200)).optional() });

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.number().int().min(1).optional(),
    after: z.coerce.number().int().min(0).optional(),
  })
  .refine((q) => q.before === undefined || q.after === undefined, 'use either before or after, not both');

export const sourceSchema = z
  .object({
    n: z.number().int().min(1).describe('The number the answer text uses for it: `[n]`.'),
    start: z.number().int().min(0).describe("UTF-16 offset of the passage's first character in the report revision `reportRevision`."),
    end: z.number().int().min(0).describe('UTF-16 offset just after its last character.'),
    quote: z.string().describe('Exactly `content.slice(start, end)` of that revision.'),
    heading: z.string().describe("The heading path of the passage's section (`Findings › Cold start`); empty before the first heading."),
  })
  .describe('A passage of the report the answer rests on, verified against the report before it was stored or sent.');

export const contextSchema = z
  .object({
    reportChars: z.number().int().min(0).describe("The report's length in characters."),
    sentChars: z.number().int().min(0).describe('Characters of the report sent to the model.'),
    passages: z.number().int().min(0).describe('Passages of the report sent.'),
    totalPassages: z.number().int().min(0).describe('Passages in the whole report: fewer sent means a selection.'),
    historyTurns: z.number().int().min(0).describe('Earlier messages of the conversation sent.'),
  })
  .describe('What the answer was given.');

export const messageSchema = z.object({
  id: z.uuid(),
  reportId: z.uuid(),
  seq: z.number().int().min(1),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  status: z.enum(['queued', 'streaming', 'complete', 'failed', 'stopped', 'interrupted']),
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
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const messagesPageSchema = z.object({
  messages: z.array(messageSchema),
  version: z.number().int().min(0),
  hasMoreBefore: z.boolean(),
});

export const turnSchema = z.object({
  userMessage: messageSchema,
  assistantMessage: messageSchema,
  saved: z.boolean(),
});

export const reportSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  status: reportStatusSchema,
  content: z.string(),
  revision: z.number().int().min(1).describe('Grows by one with each change of `content`; every revision stays readable.'),
  role: z.enum(['owner', 'editor', 'viewer']),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

/** The largest revision PostgreSQL's integer column holds: a larger one is a bad request, not a server fault. */
const MAX_REVISION = 2_147_483_647;

export const reportQuery = z.object({
  revision: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'must be a revision number (1, 2, ...)')
    .transform(Number)
    .pipe(z.number().max(MAX_REVISION))
    .optional(),
});

export const errorSchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});

export const signInBody = z.strictObject({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
});

export const memberBody = z.strictObject({ role: z.enum(['viewer', 'editor']) });

// The response shapes of the other routes, published in the OpenAPI document (src/http/openapi).

export const healthSchema = z.object({ status: z.literal('ok') });

export const readySchema = z.object({ status: z.literal('ready') });

/** `rc_` + 43 base64url characters; shown once, only its SHA-256 is stored. */
export const apiTokenSchema = z.string().regex(/^rc_[A-Za-z0-9_-]{43}$/);

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string().describe('Empty for a JWT caller whose token carries no email.'),
  name: z.string().nullable(),
});

export const meSchema = z.object({ user: userSchema });

export const createdUserSchema = z.object({ user: userSchema, token: apiTokenSchema });

export const createdTokenSchema = z.object({ id: z.uuid(), token: apiTokenSchema });

export const reportSummarySchema = z.object({
  id: z.uuid(),
  title: z.string(),
  status: reportStatusSchema,
  role: reportSchema.shape.role,
  messageCount: z.number().int().min(0),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const reportListSchema = z.object({ reports: z.array(reportSummarySchema) });

export const memberSchema = z.object({ userId: z.uuid(), role: memberBody.shape.role });

export const stoppedAnswerSchema = z.object({ message: messageSchema });

export const conversationExportSchema = z.object({
  report: z.object({ id: z.uuid(), title: z.string() }),
  version: z.number().int().min(0),
  exportedAt: z.iso.datetime(),
  messages: z.array(messageSchema),
});
