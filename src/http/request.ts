import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { AppEnv } from './env.js';

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `"${issue.path.join('.')}"` : 'the body';
  return `${where} ${issue.message.replace(/^Invalid input: /, '')}`;
}

/**
 * What a failed validation tells the client, by what failed: a body or a query names the field; a path parameter
 * or a header is named as the client wrote it. The first issue is enough to fix the request.
 */
function validationMessage(target: string, issue: z.core.$ZodIssue | undefined): string {
  if (target === 'json') return issue ? `Invalid request: ${describeIssue(issue)}.` : 'Invalid request.';
  if (target === 'query') return issue ? `Invalid query: ${describeIssue(issue)}.` : 'Invalid query.';
  const name = issue?.path.join('.') ?? target;
  return `${target === 'param' ? `"${name}"` : name} ${issue?.message ?? 'is not valid'}.`;
}

/** Every route's validation failure is a 400 `invalid_request` in the API's error format; nothing is changed. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) throw new AppError('invalid_request', validationMessage(result.target, result.error.issues[0]));
};

/** A sub-app whose routes are declared with createRoute: they validate with `validationHook` and join the document. */
export const routesApp = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * Runs before a route's body validation: 415 for a body that is not JSON (even an empty one without a type), 400 for
 * one that does not parse. The validator then reads the same text from Hono's body cache.
 */
export const jsonBody: MiddlewareHandler<AppEnv> = async function jsonBodyMiddleware(c, next) {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new AppError('unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).');
  }
  try {
    JSON.parse(await c.req.text());
  } catch {
    throw new AppError('invalid_request', 'The body is not valid JSON.');
  }
  await next();
};

/** `"<version>"` (optionally weak) → the version; undefined when absent or malformed (it then never matches). */
export function ifNoneMatchVersion(c: Context): number | undefined {
  const match = c.req.header('if-none-match')?.trim().match(VERSION_TAG);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export const VERSION_TAG = /^(?:W\/)?"(\d{1,15})"$/;
