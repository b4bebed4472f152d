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

export const messageSchema = z.object({
  id: z.uuid(),
  reportId: z.uuid(),
  seq: z.number().int().min(1),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  status: z.enum(['queued', 'streaming', 'complete', 'failed', 'stopped', 'interrupted']),
  replyTo: z.uuid().nullable(),
  error: z.string().nullable(),
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
  role: z.enum(['owner', 'editor', 'viewer']),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
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
