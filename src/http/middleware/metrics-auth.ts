import type { MiddlewareHandler } from 'hono';
import { secretsEqual } from '../../chat/accounts.js';
import { AppError } from '../../errors/app-error.js';

/** With METRICS_TOKEN set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. */
export function requireMetricsToken(metricsToken: string): MiddlewareHandler {
  return async function requireMetricsTokenMiddleware(c, next) {
    const presented = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (presented === undefined || !secretsEqual(presented, metricsToken)) {
      throw new AppError('unauthorized', 'Metrics need the metrics token.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    await next();
  };
}
