import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { MiddlewareHandler } from 'hono';
import { changePasswordBody, createdTokenSchema, createdUserSchema, createTokenBody, createUserBody, meSchema, tokenListSchema } from '../../api/schemas.js';
import { changePassword, describeAccount, listTokens } from '../../chat/account-settings.js';
import { inviteUser } from '../../chat/admin.js';
import { createUserWithToken, issueToken, revokeToken } from '../../chat/accounts.js';
import type { ChatContext } from '../../chat/context.js';
import { hashPassword } from '../../chat/passwords.js';
import type { AppEnv } from '../env.js';
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
      'Creates a user and a first API token for them (the token is shown once). With `invite: true`, also an invite code with which they choose their password (`/invite#<code>` in the web app). The admin token or the admin page. Emails are unique regardless of case.',
    security: SECURITY.admin,
    middleware: [admin, jsonBody] as const,
    request: { body: jsonRequest(createUserBody, 'The new user. Without `password` the user can only use API tokens.') },
    responses: {
      201: { description: 'The user and their first API token.', content: json(createdUserSchema) },
      ...errors(
        ['invalid_request', 'A malformed body, or a user with this email already exists.'],
        ['unauthorized', 'Not the admin token (nor an admin page session).'],
        ['csrf', "The admin page's cookie with an `Origin` that is not this server's."],
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
    description: 'The user the credentials belong to, what authenticated this request, and whether the user has a password.',
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

const listTokensRoute = (user: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'get',
    path: '/tokens',
    operationId: 'listTokens',
    tags: ['Accounts'],
    summary: 'List your API tokens',
    description: 'Your API tokens, newest first: name, creation and last use (recorded at most once a minute). Never the tokens themselves.',
    security: SECURITY.user,
    middleware: [user] as const,
    responses: { 200: { description: 'The tokens.', content: json(tokenListSchema) }, ...errors('unauthorized', ...SERVER_ERRORS) },
  });

const changePasswordRoute = (user: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'post',
    path: '/me/password',
    operationId: 'changePassword',
    tags: ['Accounts'],
    summary: 'Change your password',
    description:
      'Sets a new password (at least 8 characters). The current one is required when you have one. Every other session of yours is signed out and its open streams end; this session and your API tokens stay. At most 10 checks of the current password per 15 minutes.',
    security: SECURITY.user,
    middleware: [user, jsonBody] as const,
    request: { body: jsonRequest(changePasswordBody, 'The current password (when you have one) and the new one.') },
    responses: {
      204: { description: 'Changed.' },
      ...errors(
        ['invalid_request', 'A malformed body, or no `currentPassword` when you have a password.'],
        'payload_too_large',
        'unsupported_media_type',
        'unauthorized',
        ['forbidden', 'The current password is not right.'],
        'csrf',
        ['precondition_failed', 'The password was changed meanwhile by another request.'],
        ['rate_limited', 'Too many checks of the current password.'],
        ...SERVER_ERRORS,
      ),
    },
  });

export function accountRoutes(ctx: ChatContext, requireAdmin: MiddlewareHandler<AppEnv>, requireUser: MiddlewareHandler<AppEnv>) {
  const app = routesApp();
  app.openapi(createUser(requireAdmin), async (c) => {
    const body = c.req.valid('json');
    const passwordHash = body.password ? await hashPassword(body.password) : undefined;
    const created = await createUserWithToken(ctx.sql, { email: body.email, name: body.name, passwordHash });
    if (!body.invite) return c.json(created, 201);
    return c.json({ ...created, invite: await inviteUser(ctx.sql, created.user.id) }, 201);
  });
  app.openapi(getMe(requireUser), async (c) => c.json(await describeAccount(ctx, c.get('caller'), c.get('credential')), 200));
  app.openapi(listTokensRoute(requireUser), async (c) => c.json({ tokens: await listTokens(ctx, c.get('caller')) }, 200));
  app.openapi(changePasswordRoute(requireUser), async (c) => {
    await changePassword(ctx, c.get('caller'), c.get('credential'), c.req.valid('json'));
    return c.body(null, 204);
  });
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
