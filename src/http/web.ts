import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { AppEnv } from './env.js';

export const WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** Serves the built web UI (dist/web) at `/`, with index.html for the app's own client-side routes. */
export function serveWeb(app: Hono<AppEnv>, root = WEB_ROOT): void {
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    app.get('/', (c) => c.text('The web UI is not built. Run `npm run build:web`, or use the API under /api.', 200));
    return;
  }
  const html = readFileSync(index, 'utf8');
  app.use('/assets/*', serveStatic({ root }));
  app.get('/favicon.svg', serveStatic({ root }));
  app.get('*', async (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  });
}
