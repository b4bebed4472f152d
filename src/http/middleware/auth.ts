import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { authenticateToken, hashToken, TOKEN_PATTERN } from '../../chat/accounts.js';
import type { Authenticated, ChatContext } from '../../chat/context.js';
import { looksLikeJwt, type JwtVerifier } from '../../chat/jwt.js';
import { sessionCaller } from '../../chat/sign-in.js';
import { adminSession } from '../../chat/admin.js';
import { AppError } from '../../errors/app-error.js';
import type { AppEnv } from '../env.js';

export const SESSION_COOKIE = 'rc_session';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function bearer(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * This server's origin as the browser sees it: PUBLIC_URL's when it is set (the Host check has then made sure the
 * request was meant for it), else the Host header's, with https when a TLS-terminating proxy says so in
 * X-Forwarded-Proto.
 */
export function ownOrigin(c: Context, publicOrigin: string | undefined): string {
  if (publicOrigin) return publicOrigin;
  const url = new URL(c.req.url);
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim();
  if (proto === 'https' || proto === 'http') url.protocol = `${proto}:`;
  return url.origin;
}

export function isHttps(c: Context, publicOrigin: string | undefined): boolean {
  return ownOrigin(c, publicOrigin).startsWith('https:');
}

/**
 * Who is calling: an API token or a JWT as a bearer credential, else the session cookie. A cookie-authenticated
 * unsafe request must come from a page of this server (Origin check): the cookie alone proves nothing about intent.
 */
export function requireUser(ctx: ChatContext, jwt: JwtVerifier | undefined): MiddlewareHandler<AppEnv> {
  return async function requireUserMiddleware(c, next) {
    const token = bearer(c.req.header('authorization'));
    let who: Authenticated | undefined;
    if (token) {
      if (TOKEN_PATTERN.test(token)) who = await ctx.credentials.lookup('token', token, () => authenticateToken(ctx.sql, token));
      else if (jwt && looksLikeJwt(token)) who = await jwt(token);
      if (!who) throw new AppError('unauthorized', 'These credentials are not valid.');
    } else {
      const session = getCookie(c, SESSION_COOKIE);
      if (!session) throw new AppError('unauthorized', 'Sign in, or send an API token as "Authorization: Bearer <token>".');
      who = await ctx.credentials.lookup('session', session, () => sessionCaller(ctx, session));
      if (!who) throw new AppError('unauthorized', 'Your session has expired. Sign in again.');
      if (UNSAFE.has(c.req.method) && c.req.header('origin') !== ownOrigin(c, ctx.config.publicOrigin)) {
        throw new AppError('csrf', 'This request did not come from a report-chat page; it was refused.');
      }
    }
    c.set('caller', who.caller);
    c.set('credential', who.credential);
    await next();
  };
}

export const ADMIN_COOKIE = 'rc_admin';

/**
 * The administrator: the admin token as a bearer credential (compared by hash in constant time), or the admin
 * page's session cookie, which, like a person's, must come with this server's Origin on a request that changes
 * something. The administrator manages users only: no report route accepts either.
 */
export function requireAdmin(ctx: ChatContext, adminTokenHash: Buffer): MiddlewareHandler<AppEnv> {
  return async function requireAdminMiddleware(c, next) {
    const token = bearer(c.req.header('authorization'));
    if (token) {
      if (!timingSafeEqual(hashToken(token), adminTokenHash)) throw new AppError('unauthorized', 'This needs the admin token.');
      return next();
    }
    const session = getCookie(c, ADMIN_COOKIE);
    if (!session || !(await adminSession(ctx.sql, session))) {
      throw new AppError('unauthorized', 'This needs the admin token, or signing in to the admin page.');
    }
    if (UNSAFE.has(c.req.method) && c.req.header('origin') !== ownOrigin(c, ctx.config.publicOrigin)) {
      throw new AppError('csrf', 'This request did not come from a report-chat page; it was refused.');
    }
    await next();
  };
}
