import { Hono } from 'hono';
import type { ChatContext } from '../../chat/context.js';
import { requireMetricsToken } from '../middleware/metrics-auth.js';
import { databaseAnswers } from '../../store/readiness.js';

export function healthRoutes(ctx: ChatContext) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (await databaseAnswers(ctx.sql)) return c.json({ status: 'ready' });
    return c.json({ error: { code: 'unavailable', message: 'The database does not answer.' } }, 503);
  });
  // Prometheus text. Without METRICS_TOKEN it is open like /healthz: keep it behind your network's access rules.
  if (ctx.config.metricsToken) app.use('/metrics', requireMetricsToken(ctx.config.metricsToken));
  app.get('/metrics', async (c) => c.body(await ctx.metrics.registry.metrics(), 200, { 'Content-Type': ctx.metrics.registry.contentType }));
  return app;
}
