import { createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { adminSessionSchema, adminSignInBody, adminUserListSchema, adminUserSchema, inviteSchema } from '../../api/schemas.js';
import { ADMIN_SESSION_TTL_MS, adminSession, adminSignIn, adminSignOut, disableUser, enableUser, inviteUser, listUsers } from '../../chat/admin.js';
import type { ChatContext } from '../../chat/context.js';
import { AppError } from '../../errors/app-error.js';
import { clientAddress } from '../client-address.js';
import type { AppEnv } from '../env.js';
import { ADMIN_COOKIE, isHttps, ownOrigin } from '../middleware/auth.js';
import { jsonBody, routesApp } from '../request.js';
import { BODY_ERRORS, errors, idParam, json, jsonRequest, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const TAG = 'Administration';
const ADMIN_ERRORS = [['unauthorized', 'Not the admin token, and no admin page session.'], ['csrf', "The admin page's cookie with an `Origin` that is not this server's."]] as const;
const userParams = z.object({ userId: idParam("The user's id.") });

const signInRoute = createRoute({
  method: 'post',
  path: '/admin/session',
  operationId: 'adminSignIn',
  tags: [TAG],
  summary: 'Sign in to the admin page',
  description:
    'With the admin token, or the code of a one-time link printed by `report-chat admin-link` (valid 10 minutes, once). Sets the `rc_admin` cookie (HttpOnly, SameSite=Strict, 8 hours), with which the admin page calls the administration routes. At most 10 failures per address per 15 minutes.',
  security: SECURITY.public,
  middleware: [jsonBody] as const,
  request: { body: jsonRequest(adminSignInBody, 'Either `token` or `code`.') },
  responses: {
    200: {
      description: 'Signed in.',
      content: json(adminSessionSchema),
      headers: { 'Set-Cookie': { description: '`rc_admin=<secret>; HttpOnly; SameSite=Strict; Path=/api` (plus `Secure` behind https).', schema: { type: 'string' } } },
    },
    ...errors(
      ...BODY_ERRORS,
      ['unauthorized', 'Not the admin token, or a link that is not valid, was used, or expired.'],
      ['csrf', "An `Origin` header that is not this server's."],
      ['rate_limited', 'Too many failures from this address.'],
      ...SERVER_ERRORS,
    ),
  },
});

const sessionRoute = createRoute({
  method: 'get',
  path: '/admin/session',
  operationId: 'getAdminSession',
  tags: [TAG],
  summary: 'The admin page session',
  description: 'Whether the `rc_admin` cookie is a valid session, and until when.',
  security: [{ adminSession: [] }],
  responses: {
    200: { description: 'Signed in.', content: json(adminSessionSchema) },
    ...errors(['unauthorized', 'No valid admin page session.'], ...SERVER_ERRORS),
  },
});

const signOutRoute = createRoute({
  method: 'delete',
  path: '/admin/session',
  operationId: 'adminSignOut',
  tags: [TAG],
  summary: 'Sign out of the admin page',
  description: 'Ends the admin page session of the cookie, if any, and clears the cookie.',
  security: [{}, { adminSession: [] }],
  responses: { 204: { description: 'Signed out.' }, ...errors(['csrf', "An `Origin` header that is not this server's."], ...SERVER_ERRORS) },
});

const listUsersRoute = (admin: MiddlewareHandler<AppEnv>) =>
  createRoute({
    method: 'get',
    path: '/users',
    operationId: 'listUsers',
    tags: [TAG],
    summary: 'List users',
    description: 'Every user, newest first. The admin token or the admin page.',
    security: SECURITY.admin,
    middleware: [admin] as const,
    responses: { 200: { description: 'The users.', content: json(adminUserListSchema) }, ...errors(ADMIN_ERRORS[0], ...SERVER_ERRORS) },
  });

const userAction = (admin: MiddlewareHandler<AppEnv>, action: 'disable' | 'enable' | 'invite') =>
  createRoute({
    method: 'post',
    path: `/users/{userId}/${action}`,
    operationId: `${action}User`,
    tags: [TAG],
    summary: { disable: 'Disable a user', enable: 'Enable a user', invite: 'Invite a user to choose a password' }[action],
    description: {
      disable:
        'No credential of the user works from now on: their sessions and API tokens are deleted and their open streams end on every instance (a JWT caller’s within 5 s). Their reports and messages stay. Idempotent.',
      enable: 'The user can sign in again (with their password; tokens deleted when they were disabled stay deleted).',
      invite: 'A new one-use invite code, valid 7 days, with which the user chooses a password (`/invite#<code>`); an earlier one stops working.',
    }[action],
    security: SECURITY.admin,
    middleware: [admin] as const,
    request: { params: userParams },
    responses: {
      200:
        action === 'invite'
          ? { description: 'The invite.', content: json(inviteSchema) }
          : { description: 'The user as it now is.', content: json(adminUserSchema) },
      ...errors(
        [
          'invalid_request',
          action === 'invite' ? '`userId` is not a UUID, or the user is disabled.' : '`userId` is not a UUID.',
        ],
        ...ADMIN_ERRORS,
        ['not_found', 'No such user.'],
        ...SERVER_ERRORS,
      ),
    },
  });

/** The administration routes; `admin` accepts the admin token or the admin page's session. */
export function adminRoutes(ctx: ChatContext, adminTokenHash: Buffer, admin: MiddlewareHandler<AppEnv>) {
  const app = routesApp();
  app.openapi(signInRoute, async (c) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== ownOrigin(c, ctx.config.publicOrigin)) throw new AppError('csrf', 'This sign-in did not come from a report-chat page.');
    const body = c.req.valid('json');
    const session = await adminSignIn(ctx, adminTokenHash, { ...body, address: clientAddress(c, ctx.config.trustProxy) });
    setCookie(c, ADMIN_COOKIE, session.secret, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/api',
      secure: isHttps(c, ctx.config.publicOrigin),
      maxAge: Math.floor(ADMIN_SESSION_TTL_MS / 1000),
    });
    return c.json({ expiresAt: session.expiresAt.toISOString() }, 200);
  });
  app.openapi(sessionRoute, async (c) => {
    const secret = getCookie(c, ADMIN_COOKIE);
    const session = secret ? await adminSession(ctx.sql, secret) : undefined;
    if (!session) throw new AppError('unauthorized', 'Not signed in to the admin page.');
    return c.json({ expiresAt: session.expiresAt.toISOString() }, 200);
  });
  app.openapi(signOutRoute, async (c) => {
    const secret = getCookie(c, ADMIN_COOKIE);
    if (secret) {
      if (c.req.header('origin') !== ownOrigin(c, ctx.config.publicOrigin)) throw new AppError('csrf', 'This sign-out did not come from a report-chat page.');
      await adminSignOut(ctx.sql, secret);
    }
    deleteCookie(c, ADMIN_COOKIE, { path: '/api', secure: isHttps(c, ctx.config.publicOrigin), httpOnly: true, sameSite: 'Strict' });
    return c.body(null, 204);
  });
  app.openapi(listUsersRoute(admin), async (c) => c.json({ users: await listUsers(ctx.sql) }, 200));
  app.openapi(userAction(admin, 'disable'), async (c) => c.json(await disableUser(ctx.sql, c.req.valid('param').userId, ctx.bus), 200));
  app.openapi(userAction(admin, 'enable'), async (c) => c.json(await enableUser(ctx.sql, c.req.valid('param').userId), 200));
  app.openapi(userAction(admin, 'invite'), async (c) => c.json(await inviteUser(ctx.sql, c.req.valid('param').userId), 200));
  return app;
}
