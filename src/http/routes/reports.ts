import { Hono } from 'hono';
import type { ChatContext } from '../../chat/context.js';
import { createReport, getReport, listReports, patchReport } from '../../chat/reports.js';
import { AppError } from '../../errors/app-error.js';
import type { AppEnv } from '../env.js';
import { parseQuery, readJson, uuidParam } from '../request.js';
import { createReportBody, patchReportBody, reportQuery } from '../schemas.js';

export const MAX_REPORT_BYTES = 2 * 1024 * 1024;

function checkReportSize(content: string | undefined): void {
  if (content !== undefined && Buffer.byteLength(content, 'utf8') > MAX_REPORT_BYTES) {
    throw new AppError('payload_too_large', 'A report may hold at most 2 MiB of text.');
  }
}

export function reportRoutes(ctx: ChatContext) {
  const app = new Hono<AppEnv>();
  app.post('/', async (c) => {
    const body = await readJson(c, createReportBody);
    checkReportSize(body.content);
    return c.json(await createReport(ctx, c.get('caller'), body), 201);
  });
  app.get('/', async (c) => c.json({ reports: await listReports(ctx, c.get('caller')) }));
  app.get('/:reportId', async (c) => {
    const reportId = uuidParam(c, 'reportId');
    const { revision } = parseQuery(c, reportQuery);
    return c.json(await getReport(ctx, c.get('caller'), reportId, revision));
  });
  app.patch('/:reportId', async (c) => {
    const reportId = uuidParam(c, 'reportId');
    const body = await readJson(c, patchReportBody);
    checkReportSize(body.content);
    return c.json(await patchReport(ctx, c.get('caller'), reportId, body));
  });
  return app;
}
