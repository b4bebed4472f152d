import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes X-Request-Id when it is a sane token, else makes one; returns it on the response. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header('x-request-id');
    const id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    await next();
    c.header('X-Request-Id', id);
  };
}
