import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import { contentSecurityPolicy } from '../middleware/security-headers.js';
import { routesApp } from '../request.js';
import { json, SECURITY } from '../route-parts.js';

const BUNDLE_PATH = '/api/docs/scalar.js';

// The reference page runs Scalar's bundle, served from our node_modules: nothing is loaded from another origin.
// No default fonts (they come from Scalar's servers), no telemetry, no AI agent, no proxy.
const scalar = Scalar({
  url: '/api/openapi.json',
  cdn: BUNDLE_PATH,
  pageTitle: 'report-chat API reference',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  hideClientButton: false,
});

let bundle: Buffer | undefined;
const scalarBundle = () => (bundle ??= readFileSync(createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js')));

/** The page's one inline script (the bundle's start call), allowed by its hash and by nothing broader. */
function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    ([, body]) => `'sha256-${createHash('sha256').update(body ?? '').digest('base64')}'`,
  );
}

const documentRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tags: ['Service'],
  summary: 'This API as an OpenAPI 3.1 document',
  description: 'The document the reference is rendered from, generated from the route declarations the server validates requests with.',
  security: SECURITY.public,
  responses: { 200: { description: 'The OpenAPI 3.1 document.', content: json(z.looseObject({}).meta({ description: 'An OpenAPI 3.1 document.' })) } },
});

const referenceRoute = createRoute({
  method: 'get',
  path: '/docs',
  operationId: 'getApiReference',
  tags: ['Service'],
  summary: 'This API reference',
  description: 'An interactive reference (Scalar) of `/api/openapi.json`. Its script is served by this server; the page loads nothing from elsewhere.',
  security: SECURITY.public,
  responses: { 200: { description: 'The reference page.', content: { 'text/html': { schema: z.string() } } } },
});

const bundleRoute = createRoute({
  method: 'get',
  path: '/docs/scalar.js',
  operationId: 'getApiReferenceScript',
  tags: ['Service'],
  summary: "The reference page's script",
  description: "Scalar's API reference bundle, as the installed `@scalar/api-reference` package ships it.",
  security: SECURITY.public,
  responses: { 200: { description: 'The script.', content: { 'text/javascript': { schema: z.string() } } } },
});

/** GET /api/openapi.json, /api/docs and its script. No credentials. `document` is the whole app's. */
export function apiDocsRoutes(document: () => unknown): OpenAPIHono<AppEnv> {
  const app = routesApp();
  let page: { html: string; csp: string } | undefined;
  app.openapi(documentRoute, (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.json(document() as Record<string, unknown>, 200);
  });
  app.openapi(referenceRoute, async (c) => {
    if (!page) {
      const html = await ((await scalar(c as unknown as Context, async () => {})) as Response).text();
      page = { html, csp: contentSecurityPolicy(inlineScriptHashes(html)) };
    }
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Security-Policy', page.csp);
    return c.html(page.html, 200);
  });
  app.openapi(bundleRoute, (c) =>
    c.body(new Uint8Array(scalarBundle()), 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
  );
  return app;
}
