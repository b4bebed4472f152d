import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../log/logger.js';
import type { AppEnv } from '../env.js';

/** One line per request: what and how it went, never bodies, tokens or cookies. */
export function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async function requestLogMiddleware(c, next) {
    const start = performance.now();
    await next();
    log.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round(performance.now() - start),
        userId: c.get('caller')?.id,
      },
      'request',
    );
  };
}
