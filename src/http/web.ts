import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { AppEnv } from './env.js';
import { errorResponse } from './middleware/error-handler.js';

export const WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));

function isSourceMap(path: string): boolean {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape is served by nobody anyway.
  }
  return /\.map$/i.test(path) || /\.map$/i.test(decoded);
}

/**
 * Serves the built web UI (dist/web) at `/`, with index.html for the app's own client-side routes. The build
 * writes source maps beside the bundles; they give the original sources away, so they are served only when
 * `serveSourcemaps` (SERVE_SOURCEMAPS) asks for them, and are otherwise 404.
 */
export function serveWeb(app: Hono<AppEnv>, root = WEB_ROOT, options: { serveSourcemaps?: boolean } = {}): void {
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    app.get('/', (c) => c.text('The web UI is not built. Run `npm run build:web`, or use the API under /api.', 200));
    return;
  }
  const html = readFileSync(index, 'utf8');
  if (!options.serveSourcemaps) {
    app.use('/assets/*', async function hideSourceMaps(c, next) {
      if (isSourceMap(c.req.path)) return errorResponse(c, 'not_found', 'No such file.');
      await next();
    });
  }
  app.use('/assets/*', serveStatic({ root }));
  app.get('/favicon.svg', serveStatic({ root }));
  app.get('*', async (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  });
}
