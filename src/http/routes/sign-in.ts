import { createRoute } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { acceptInviteBody, signInBody } from '../../api/schemas.js';
import { acceptInvite } from '../../chat/admin.js';
import type { ChatContext } from '../../chat/context.js';
import { SESSION_TTL_MS, signIn, signOut } from '../../chat/sign-in.js';
import { AppError } from '../../errors/app-error.js';
import { clientAddress } from '../client-address.js';
import type { AppEnv } from '../env.js';
import { isHttps, ownOrigin, SESSION_COOKIE } from '../middleware/auth.js';
import { jsonBody, routesApp } from '../request.js';
import { BODY_ERRORS, errors, jsonRequest, SECURITY, SERVER_ERRORS } from '../route-parts.js';
import type { Context, MiddlewareHandler } from 'hono';

/** A sign-in form posted from another site would log the victim into the attacker's account. */
const sameOriginSignIn = (ctx: ChatContext): MiddlewareHandler<AppEnv> =>
  async function sameOriginSignInMiddleware(c, next) {
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== ownOrigin(c, ctx.config.publicOrigin)) throw new AppError('csrf', 'This sign-in did not come from a report-chat page.');
    await next();
  };

const signInRoute = (ctx: ChatContext) =>
  createRoute({
    method: 'post',
    path: '/login',
    operationId: 'signIn',
    tags: ['Accounts'],
    summary: 'Sign in',
    description:
      "Checks an email and password and sets the session cookie. A wrong password and an unknown email get the same answer. Failed sign-ins slow down the pair (account, address) that fails: after its third failure it must wait 1 s, then 2 s, 4 s... up to 5 minutes (429 with `Retry-After`), until it signs in; the account itself is never locked, so the right password from another address still works. One address may fail at most 30 times per 15 minutes. The address is the connection's, or with `TRUST_PROXY` the one the server's own proxies saw in `X-Forwarded-For`.",
    security: SECURITY.public,
    middleware: [sameOriginSignIn(ctx), jsonBody] as const,
    request: { body: jsonRequest(signInBody, 'The email and password.') },
    responses: {
      204: { description: 'Signed in: the session cookie is set.', headers: SESSION_COOKIE_HEADER },
      ...errors(
        ...BODY_ERRORS,
        ['unauthorized', 'Wrong email or password.'],
        ['csrf', "An `Origin` header that is not this server's."],
        ['rate_limited', 'This account was failed from this address too recently, or this address failed too often; `Retry-After` says how long to wait.'],
        ...SERVER_ERRORS,
      ),
    },
  });

const signOutRoute = createRoute({
  method: 'post',
  path: '/logout',
  operationId: 'signOut',
  tags: ['Accounts'],
  summary: 'Sign out',
  description: 'Ends the session of the cookie sent, if any, and clears the cookie. Always 204 otherwise.',
  security: SECURITY.optionalSession,
  responses: {
    204: { description: 'Signed out: the cookie is cleared.', headers: { 'Set-Cookie': { description: 'Expires the `rc_session` cookie.', schema: { type: 'string' } } } },
    ...errors(['csrf', "A session cookie with an `Origin` that is not this server's."], ...SERVER_ERRORS),
  },
});

const SESSION_COOKIE_HEADER = {
  'Set-Cookie': {
    description: '`rc_session=<token>; HttpOnly; SameSite=Lax; Path=/` (plus `Secure` behind https), valid for 14 days.',
    schema: { type: 'string' as const },
  },
};

const acceptInviteRoute = (ctx: ChatContext) =>
  createRoute({
    method: 'post',
    path: '/invite',
    operationId: 'acceptInvite',
    tags: ['Accounts'],
    summary: 'Accept an invite',
    description:
      "Sets the password of the user an invite was made for (its code comes from the administrator's link, `/invite#<code>`) and signs them in. An invite works once and for 7 days.",
    security: SECURITY.public,
    middleware: [sameOriginSignIn(ctx), jsonBody] as const,
    request: { body: jsonRequest(acceptInviteBody, 'The invite code and the new password (at least 8 characters).') },
    responses: {
      204: { description: 'The password is set and the session cookie too.', headers: SESSION_COOKIE_HEADER },
      ...errors(
        ...BODY_ERRORS,
        ['csrf', "An `Origin` header that is not this server's."],
        ['not_found', 'The code is not valid, was used, or has expired.'],
        ...SERVER_ERRORS,
      ),
    },
  });

function setSessionCookie(c: Context<AppEnv>, ctx: ChatContext, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: isHttps(c, ctx.config.publicOrigin),
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function signInRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(signInRoute(ctx), async (c) => {
    const body = c.req.valid('json');
    const session = await signIn(ctx, {
      email: body.email,
      password: body.password,
      address: clientAddress(c, ctx.config.trustProxy),
      previousSession: getCookie(c, SESSION_COOKIE),
    });
    setSessionCookie(c, ctx, session.token);
    return c.body(null, 204);
  });
  app.openapi(acceptInviteRoute(ctx), async (c) => {
    const body = c.req.valid('json');
    const session = await acceptInvite(ctx, { code: body.code, password: body.password, previousSession: getCookie(c, SESSION_COOKIE) });
    setSessionCookie(c, ctx, session.token);
    return c.body(null, 204);
  });
  app.openapi(signOutRoute, async (c) => {
    const session = getCookie(c, SESSION_COOKIE);
    if (session) {
      const origin = c.req.header('origin');
      if (origin !== ownOrigin(c, ctx.config.publicOrigin)) throw new AppError('csrf', 'This sign-out did not come from a report-chat page.');
      await signOut(ctx, session);
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c, ctx.config.publicOrigin), httpOnly: true, sameSite: 'Lax' });
    return c.body(null, 204);
  });
  return app;
}
