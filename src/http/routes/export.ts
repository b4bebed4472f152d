import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { conversationExportSchema, exportQuery } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { exportConversation, exportMarkdown } from '../../chat/conversation.js';
import { routesApp } from '../request.js';
import { errors, json, reportParams, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const exportRoute = createRoute({
  method: 'get',
  path: '/{reportId}/export',
  operationId: 'exportConversation',
  tags: ['Conversation'],
  summary: 'Export the conversation',
  description:
    "The whole conversation as a download (`Content-Disposition: attachment`), as Markdown or JSON. JSON holds each message as the API returns it, sources included; Markdown turns an answer's cited `[n]` markers into footnotes (`[^<seq>.<n>]`) that give the heading path and the quote.",
  security: SECURITY.user,
  request: { params: reportParams, query: exportQuery },
  responses: {
    200: {
      description: 'The conversation.',
      content: {
        'text/markdown': { schema: z.string(), example: '# Connection pool incident\n\n## You\n\n…' },
        ...json(conversationExportSchema),
      },
      headers: {
        'Content-Disposition': { description: '`attachment; filename="conversation-<reportId>.md"` (or `.json`).', schema: { type: 'string' } },
      },
    },
    ...errors(['invalid_request', 'An unknown `format`, or `reportId` is not a UUID.'], 'unauthorized', 'not_found', ...SERVER_ERRORS),
  },
});

export function exportRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(exportRoute, async (c) => {
    const { format } = c.req.valid('query');
    const { report, version, messages } = await exportConversation(ctx, c.get('caller'), c.req.valid('param').reportId);
    const base = `conversation-${report.id}`;
    if (format === 'json') {
      c.header('Content-Disposition', `attachment; filename="${base}.json"`);
      return c.json({ report: { id: report.id, title: report.title }, version, exportedAt: new Date().toISOString(), messages }, 200);
    }
    c.header('Content-Disposition', `attachment; filename="${base}.md"`);
    c.header('Content-Type', 'text/markdown; charset=utf-8');
    return c.body(exportMarkdown(report.title, messages), 200);
  });
  return app;
}
