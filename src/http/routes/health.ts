import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { errorSchema, healthSchema, readySchema } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { databaseAnswers } from '../../store/readiness.js';
import { requireMetricsToken } from '../middleware/metrics-auth.js';
import { routesApp } from '../request.js';
import { errors, json, SECURITY } from '../route-parts.js';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['Service'],
  summary: 'Liveness',
  description: 'Answers 200 while the process runs.',
  security: SECURITY.public,
  responses: { 200: { description: 'The process is running.', content: json(healthSchema) } },
});

const readiness = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['Service'],
  summary: 'Readiness',
  description: 'Answers 200 when the database answers, else 503 (within 2 s, also while no primary answers during a failover).',
  security: SECURITY.public,
  responses: {
    200: { description: 'The database answers.', content: json(readySchema) },
    503: { description: '- `unavailable`: The database does not answer.', content: json(errorSchema) },
  },
});

const metrics = (metricsToken: string | undefined) =>
  createRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tags: ['Service'],
    summary: 'Prometheus metrics',
    description:
      "Prometheus text: requests by route and status, turns by final status, time to first token, turn duration, database errors, open event streams. With `METRICS_TOKEN` set it needs `Authorization: Bearer <METRICS_TOKEN>`; without, it is open like `/healthz`: keep it behind your network's access rules (or your proxy).",
    security: SECURITY.metrics,
    // Prometheus text. Without METRICS_TOKEN it is open like /healthz: keep it behind your network's access rules.
    middleware: metricsToken ? [requireMetricsToken(metricsToken)] : [],
    responses: {
      200: {
        description: 'The metrics in the Prometheus text exposition format.',
        content: { 'text/plain': { schema: z.string(), example: 'report_chat_open_event_streams 3\n' } },
      },
      ...errors(['unauthorized', '`METRICS_TOKEN` is set and the request does not carry it.'], 'internal'),
    },
  });

export function healthRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readiness, async (c) => {
    if (await databaseAnswers(ctx.sql)) return c.json({ status: 'ready' as const }, 200);
    return c.json({ error: { code: 'unavailable', message: 'The database does not answer.' } }, 503);
  });
  app.openapi(metrics(ctx.config.metricsToken), async (c) =>
    c.text(await ctx.metrics.registry.metrics(), 200, { 'Content-Type': ctx.metrics.registry.contentType }),
  );
  return app;
}
