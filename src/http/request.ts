import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { uuidSchema } from './schemas.js';

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `"${issue.path.join('.')}"` : 'the body';
  return `${where} ${issue.message.replace(/^Invalid input: /, '')}`;
}

/** Parses a JSON body against `schema`: 415 for another media type, 400 for bad JSON or a bad shape. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new AppError('unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).');
  }
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError('invalid_request', 'The body is not valid JSON.');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('invalid_request', issue ? `Invalid request: ${describeIssue(issue)}.` : 'Invalid request.');
  }
  return parsed.data;
}

export function uuidParam(c: Context, name: string): string {
  const value = c.req.param(name);
  if (!value || !uuidSchema.safeParse(value).success) throw new AppError('invalid_request', `"${name}" must be a UUID.`);
  return value.toLowerCase();
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('invalid_request', issue ? `Invalid query: ${describeIssue(issue)}.` : 'Invalid query.');
  }
  return parsed.data;
}

/** `"<version>"` (optionally weak) → the version; undefined when the header is absent. */
export function versionHeader(c: Context, name: 'if-match' | 'if-none-match'): number | undefined {
  const raw = c.req.header(name);
  if (raw === undefined) return undefined;
  const match = raw.trim().match(/^(?:W\/)?"(\d{1,15})"$/);
  if (!match?.[1]) throw new AppError('invalid_request', `${name === 'if-match' ? 'If-Match' : 'If-None-Match'} must be a version in quotes, like "12".`);
  return Number(match[1]);
}
