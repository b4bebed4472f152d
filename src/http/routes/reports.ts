import { createRoute } from '@hono/zod-openapi';
import { createReportBody, patchReportBody, reportListSchema, reportQuery, reportSchema } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { createReport, getReport, listReports, patchReport } from '../../chat/reports.js';
import { AppError } from '../../errors/app-error.js';
import { jsonBody, routesApp } from '../request.js';
import { errors, json, jsonRequest, reportParams, SECURITY, SERVER_ERRORS } from '../route-parts.js';

export const MAX_REPORT_BYTES = 2 * 1024 * 1024;

function checkReportSize(content: string | undefined): void {
  if (content !== undefined && Buffer.byteLength(content, 'utf8') > MAX_REPORT_BYTES) {
    throw new AppError('payload_too_large', 'A report may hold at most 2 MiB of text.');
  }
}

const createReportRoute = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createReport',
  tags: ['Reports'],
  summary: 'Create a report',
  description: 'Creates a report owned by the caller, with an empty conversation.',
  security: SECURITY.user,
  middleware: [jsonBody] as const,
  request: { body: jsonRequest(createReportBody, 'The report: a title and Markdown content of at most 2 MiB. `status` defaults to `complete`.') },
  responses: {
    201: { description: 'The report, with your role (`owner`).', content: json(reportSchema) },
    ...errors('invalid_request', ['payload_too_large', 'Content over 2 MiB.'], 'unsupported_media_type', 'unauthorized', 'csrf', ...SERVER_ERRORS),
  },
});

const listReportsRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listReports',
  tags: ['Reports'],
  summary: 'List reports',
  description: 'The reports visible to you (owned, or shared with you), newest first, without their content.',
  security: SECURITY.user,
  responses: { 200: { description: 'The reports.', content: json(reportListSchema) }, ...errors('unauthorized', ...SERVER_ERRORS) },
});

const getReportRoute = createRoute({
  method: 'get',
  path: '/{reportId}',
  operationId: 'getReport',
  tags: ['Reports'],
  summary: 'Get a report',
  description:
    "The report with its content, its revision and your role. With `revision`, the content of that revision (title, status and role as they are now): the text an answer's `sources` point into when its `reportRevision` is not the report's `revision`.",
  security: SECURITY.user,
  request: { params: reportParams, query: reportQuery },
  responses: {
    200: { description: 'The report.', content: json(reportSchema) },
    ...errors(
      ['invalid_request', '`reportId` is not a UUID, or `revision` is not a positive integer.'],
      'unauthorized',
      ['not_found', 'No such report, or it has no such revision.'],
      ...SERVER_ERRORS,
    ),
  },
});

const patchReportRoute = createRoute({
  method: 'patch',
  path: '/{reportId}',
  operationId: 'updateReport',
  tags: ['Reports'],
  summary: 'Change a report',
  description: 'Changes the title, content or status. Owner only. A change of content makes a new revision (`revision` + 1); earlier revisions stay readable.',
  security: SECURITY.user,
  middleware: [jsonBody] as const,
  request: { params: reportParams, body: jsonRequest(patchReportBody, 'The fields to change; at least one.') },
  responses: {
    200: { description: 'The report as it now is.', content: json(reportSchema) },
    ...errors(
      'invalid_request',
      ['payload_too_large', 'Content over 2 MiB.'],
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      'not_found',
      ...SERVER_ERRORS,
    ),
  },
});

export function reportRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(createReportRoute, async (c) => {
    const body = c.req.valid('json');
    checkReportSize(body.content);
    return c.json(await createReport(ctx, c.get('caller'), body), 201);
  });
  app.openapi(listReportsRoute, async (c) => c.json({ reports: await listReports(ctx, c.get('caller')) }, 200));
  app.openapi(getReportRoute, async (c) => {
    const { reportId } = c.req.valid('param');
    return c.json(await getReport(ctx, c.get('caller'), reportId, c.req.valid('query').revision), 200);
  });
  app.openapi(patchReportRoute, async (c) => {
    const body = c.req.valid('json');
    checkReportSize(body.content);
    return c.json(await patchReport(ctx, c.get('caller'), c.req.valid('param').reportId, body), 200);
  });
  return app;
}
