import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { MiddlewareHandler } from 'hono';
import { createdTokenSchema, createdUserSchema, createTokenBody, createUserBody, meSchema } from '../../api/schemas.js';
import { createUserWithToken, issueToken, revokeToken } from '../../chat/accounts.js';
import type { ChatContext } from '../../chat/context.js';
import { hashPassword } from '../../chat/passwords.js';
import type { AppEnv } from '../env.js';
import { requireAdmin } from '../middleware/auth.js';
import { jsonBody, routesApp } from '../request.js';
import { BODY_ERRORS, errors, idParam, json, jsonRequest, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const createUser = (admin: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'post',
    path: '/users',
    operationId: 'createUser',
    tags: ['Accounts'],
    summary: 'Create a user',
    description:
      'Creates a user and a first API token for them (the token is shown once). Only the admin token may call this, and it may call nothing else. Emails are unique regardless of case.',
    security: SECURITY.admin,
    middleware: [admin, jsonBody] as const,
    request: { body: jsonRequest(createUserBody, 'The new user. Without `password` the user can only use API tokens.') },
    responses: {
      201: { description: 'The user and their first API token.', content: json(createdUserSchema) },
      ...errors(
        ['invalid_request', 'A malformed body, or a user with this email already exists.'],
        ['unauthorized', 'Not the admin token.'],
        'payload_too_large',
        'unsupported_media_type',
        ...SERVER_ERRORS,
      ),
    },
  });

const getMe = (user: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'get',
    path: '/me',
    operationId: 'getMe',
    tags: ['Accounts'],
    summary: 'Who am I',
    description: 'The user the credentials belong to.',
    security: SECURITY.user,
    middleware: [user] as const,
    responses: { 200: { description: 'The caller.', content: json(meSchema) }, ...errors('unauthorized', ...SERVER_ERRORS) },
  });

const createToken = (user: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'post',
    path: '/tokens',
    operationId: 'createToken',
    tags: ['Accounts'],
    summary: 'Create an API token',
    description: 'A new API token for the caller. The token is shown once: only its SHA-256 is stored. A user may hold at most 50 API tokens.',
    security: SECURITY.user,
    middleware: [user, jsonBody] as const,
    request: { body: jsonRequest(createTokenBody, 'An optional name to recognise the token by.') },
    responses: {
      201: { description: 'The token and its id (to revoke it).', content: json(createdTokenSchema) },
      ...errors(...BODY_ERRORS, 'unauthorized', 'csrf', 'token_limit', ...SERVER_ERRORS),
    },
  });

const revokeTokenRoute = (user: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'delete',
    path: '/tokens/{tokenId}',
    operationId: 'revokeToken',
    tags: ['Accounts'],
    summary: 'Revoke an API token',
    description: 'Revokes one of your API tokens; it stops working at once.',
    security: SECURITY.user,
    middleware: [user] as const,
    request: { params: z.object({ tokenId: idParam("The token's id, as `POST /api/tokens` returned it.") }) },
    responses: {
      204: { description: 'Revoked.' },
      ...errors(['invalid_request', '`tokenId` is not a UUID.'], 'unauthorized', 'csrf', ['not_found', 'No such token of yours.'], ...SERVER_ERRORS),
    },
  });

export function accountRoutes(ctx: ChatContext, adminTokenHash: Buffer, requireUser: MiddlewareHandler<AppEnv>) {
  const app = routesApp();
  app.openapi(createUser(requireAdmin(adminTokenHash)), async (c) => {
    const body = c.req.valid('json');
    const passwordHash = body.password ? await hashPassword(body.password) : undefined;
    return c.json(await createUserWithToken(ctx.sql, { email: body.email, name: body.name, passwordHash }), 201);
  });
  app.openapi(getMe(requireUser), (c) => c.json({ user: c.get('caller') }, 200));
  app.openapi(createToken(requireUser), async (c) => {
    const body = c.req.valid('json');
    return c.json(await issueToken(ctx.sql, c.get('caller'), body.name ?? null), 201);
  });
  app.openapi(revokeTokenRoute(requireUser), async (c) => {
    await revokeToken(ctx, c.get('caller'), c.req.valid('param').tokenId);
    return c.body(null, 204);
  });
  return app;
}
