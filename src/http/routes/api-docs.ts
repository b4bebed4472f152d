import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { openApiDocument } from '../openapi/document.js';
import { renderApiReference } from '../openapi/html.js';

/** GET /api/openapi.json and GET /api/docs: the API's OpenAPI 3.1 document and its HTML reference. No credentials. */
export function apiDocsRoutes() {
  const app = new Hono<AppEnv>();
  let html: string | undefined;
  app.get('/openapi.json', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.json(openApiDocument());
  });
  app.get('/docs', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.html((html ??= renderApiReference(openApiDocument())));
  });
  return app;
}
