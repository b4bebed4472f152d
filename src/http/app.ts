import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv, HttpOptions } from './env.js';
import { requireAdmin, requireUser } from './middleware/auth.js';
import { errorHandler, errorResponse } from './middleware/error-handler.js';
import { hostCheck } from './middleware/host-check.js';
import { limitBody } from './middleware/body-limit.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { requestLog } from './middleware/request-log.js';
import { requestId } from './middleware/request-id.js';
import { securityHeaders } from './middleware/security-headers.js';
import { createJwtVerifier } from '../chat/jwt.js';
import { accountRoutes } from './routes/accounts.js';
import { adminRoutes } from './routes/admin.js';
import { apiDocsRoutes } from './routes/api-docs.js';
import { generateDocument, registerDocumentParts } from './api-document.js';
import { memberRoutes } from './routes/members.js';
import { signInRoutes } from './routes/sign-in.js';
import { eventRoutes, type StreamCounts } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { exportRoutes } from './routes/export.js';
import { messageRoutes } from './routes/messages.js';
import { conversationRoutes, reportConversationRoutes } from './routes/conversations.js';
import { conversationScope, mainScope, type Scope } from './conversation-scope.js';
import { sendMessageRoutes } from './routes/send-message.js';
import { routesApp } from './request.js';
import { MAX_REPORT_BYTES, reportRoutes } from './routes/reports.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface BuiltApp {
  app: OpenAPIHono<AppEnv>;
  /** The OpenAPI 3.1 document, generated from the routes' declarations once, when first asked for. */
  document: () => ReturnType<typeof generateDocument>;
  /** Open events streams, for metrics and shutdown. */
  streams: StreamCounts;
}

export function createApp(options: HttpOptions): BuiltApp {
  const { ctx } = options;
  const streams: StreamCounts = { open: 0, perUser: new Map() };
  const app = routesApp();
  registerDocumentParts(app);
  let document: ReturnType<typeof generateDocument> | undefined;
  const getDocument = () => (document ??= generateDocument(app));
  app.use('*', securityHeaders());
  app.use('*', requestId());
  app.use('*', httpMetrics(ctx.metrics));
  app.use('*', requestLog(ctx.log));
  if (ctx.config.publicOrigin) app.use('*', hostCheck(ctx.config.publicOrigin));
  app.onError(errorHandler(ctx.log, ctx.metrics));
  ctx.metrics.observe({ openEventStreams: () => streams.open });
  app.notFound((c) => errorResponse(c, 'not_found', 'No such route.'));

  app.route('/', healthRoutes(ctx));
  app.route('/api', apiDocsRoutes(getDocument));

  app.use('/api/reports', limitBody(MAX_REPORT_BYTES + MAX_BODY_BYTES));
  app.use('/api/reports/:reportId', limitBody(MAX_REPORT_BYTES + MAX_BODY_BYTES));
  const limitOtherBodies = limitBody(MAX_BODY_BYTES);
  app.use('/api/*', async function bodyLimitMiddleware(c, next) {
    // Reports carry up to 2 MiB of Markdown; everything else fits in 64 KiB.
    const isReportBody = /^\/api\/reports(\/[^/]+)?\/?$/.test(c.req.path);
    return isReportBody ? next() : limitOtherBodies(c, next);
  });

  const jwt = createJwtVerifier(ctx.config, ctx.sql);
  const authenticated = requireUser(ctx, jwt);
  app.route('/api/auth', signInRoutes(ctx));
  const admin = requireAdmin(ctx, options.adminTokenHash);
  app.route('/api', accountRoutes(ctx, admin, authenticated));
  app.route('/api', adminRoutes(ctx, options.adminTokenHash, admin));
  app.use('/api/reports', authenticated);
  app.use('/api/reports/*', authenticated);
  app.use('/api/conversations/*', authenticated);
  app.route('/api/reports', reportRoutes(ctx));
  app.route('/api/reports', memberRoutes(ctx));
  app.route('/api/reports', reportConversationRoutes(ctx));
  // The conversation routes twice: under a report they mean its main conversation (version 1), under
  // /api/conversations any conversation, with the same semantics, limits and stream formats.
  const conversationRoutesAt = <K extends 'reportId' | 'conversationId'>(base: string, scope: Scope<K>) => {
    app.route(base, messageRoutes(ctx, scope));
    app.route(base, sendMessageRoutes(ctx, scope));
    app.route(base, exportRoutes(ctx, scope));
    app.route(base, eventRoutes(ctx, streams, scope));
  };
  conversationRoutesAt('/api/reports', mainScope);
  conversationRoutesAt('/api/conversations', conversationScope);
  app.route('/api/conversations', conversationRoutes(ctx));
  return { app, streams, document: getDocument };
}
