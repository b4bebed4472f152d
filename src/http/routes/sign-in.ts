import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ChatContext } from '../../chat/context.js';
import { SESSION_TTL_MS, signIn, signOut } from '../../chat/sign-in.js';
import { AppError } from '../../errors/app-error.js';
import { clientAddress } from '../client-address.js';
import type { AppEnv } from '../env.js';
import { isHttps, ownOrigin, SESSION_COOKIE } from '../middleware/auth.js';
import { readJson } from '../request.js';
import { signInBody } from '../schemas.js';

export function signInRoutes(ctx: ChatContext) {
  const app = new Hono<AppEnv>();
  app.post('/login', async (c) => {
    // A sign-in form posted from another site would log the victim into the attacker's account.
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== ownOrigin(c, ctx.config.publicOrigin)) throw new AppError('csrf', 'This sign-in did not come from a report-chat page.');
    const body = await readJson(c, signInBody);
    const session = await signIn(ctx, {
      email: body.email,
      password: body.password,
      address: clientAddress(c, ctx.config.trustProxy),
      previousSession: getCookie(c, SESSION_COOKIE),
    });
    setCookie(c, SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      secure: isHttps(c, ctx.config.publicOrigin),
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    return c.body(null, 204);
  });
  app.post('/logout', async (c) => {
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
