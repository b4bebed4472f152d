import type { MiddlewareHandler } from 'hono';
import { authenticateToken, hashToken } from '../../chat/accounts.js';
import type { ChatContext } from '../../chat/context.js';
import { AppError } from '../../errors/app-error.js';
import type { AppEnv } from '../env.js';
import { timingSafeEqual } from 'node:crypto';

function bearer(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** Requires a user's bearer token; the caller is then `c.get('caller')`. */
export function requireUser(ctx: ChatContext): MiddlewareHandler<AppEnv> {
  return async function requireUserMiddleware(c, next) {
    const token = bearer(c.req.header('authorization'));
    if (!token) throw new AppError('unauthorized', 'Sign in, or send an API token as "Authorization: Bearer <token>".');
    const caller = await authenticateToken(ctx.sql, token);
    if (!caller) throw new AppError('unauthorized', 'These credentials are not valid.');
    c.set('caller', caller);
    await next();
  };
}

/** The admin token may only create users. Compared by hash in constant time. */
export function requireAdmin(adminTokenHash: Buffer): MiddlewareHandler<AppEnv> {
  return async function requireAdminMiddleware(c, next) {
    const token = bearer(c.req.header('authorization'));
    if (!token || !timingSafeEqual(hashToken(token), adminTokenHash)) {
      throw new AppError('unauthorized', 'Creating users needs the admin token.');
    }
    await next();
  };
}
