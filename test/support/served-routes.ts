import type { Hono } from 'hono';
import type { AppEnv } from '../../src/http/env.js';

/**
 * Every operation the app serves, as `METHOD /path/{param}` (the OpenAPI document's spelling), for suites that must
 * cover each one. Hono lists middleware as method ALL (or on wildcard paths), and a route with a middleware twice.
 */
export function servedRoutes(app: Hono<AppEnv>): Set<string> {
  return new Set(
    app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`),
  );
}
