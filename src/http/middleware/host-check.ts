import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../errors/app-error.js';
import type { AppEnv } from '../env.js';

// Probes and scrapers address an instance by its own IP or name, never by the public one.
const ANY_HOST = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * With PUBLIC_URL set, a request must name its host (Host, or the authority of an HTTP/2 request): a page of
 * another site whose name was made to resolve to this server (DNS rebinding) would otherwise read it as its own
 * origin. Refused as 400 `invalid_request` (the closed set has no 421), without saying which host is served.
 */
export function hostCheck(publicOrigin: string): MiddlewareHandler<AppEnv> {
  const expected = new URL(publicOrigin);
  return async function hostCheckMiddleware(c, next) {
    if (!ANY_HOST.has(c.req.path)) {
      const host = c.req.header('host') ?? new URL(c.req.url).host;
      let seen: string | undefined;
      try {
        // Parsed as a URL of PUBLIC_URL's scheme: case and an explicit default port (`:443`) do not matter.
        seen = new URL(`${expected.protocol}//${host}`).host;
      } catch {
        seen = undefined;
      }
      if (seen !== expected.host) throw new AppError('invalid_request', 'This server does not answer for that host name.');
    }
    await next();
  };
}
