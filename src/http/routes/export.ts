import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { conversationExportSchema, exportQuery } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { exportConversation, exportMarkdown } from '../../chat/conversation.js';
import { routesApp } from '../request.js';
import type { Scope } from '../conversation-scope.js';
import { errors, json, SECURITY, SERVER_ERRORS } from '../route-parts.js';

function routesOf<K extends 'reportId' | 'conversationId'>(scope: Scope<K>) {
  const exportRoute = createRoute({
    method: 'get',
    path: `${scope.path}/export`,
    operationId: scope.operationId('exportConversation'),
    tags: [scope.tag],
    summary: 'Export the conversation',
    description:
      "The whole conversation as a download (`Content-Disposition: attachment`), as Markdown or JSON. JSON holds each message as the API returns it, sources included; Markdown turns an answer's cited `[n]` markers into footnotes (`[^<seq>.<n>]`) that give the heading path and the quote.",
    security: SECURITY.user,
    request: { params: scope.params, query: exportQuery },
    responses: {
      200: {
        description: 'The conversation.',
        content: {
          'text/markdown': { schema: z.string(), example: '# Connection pool incident\n\n## You\n\n…' },
          ...json(conversationExportSchema),
        },
        headers: {
          'Content-Disposition': { description: `\`attachment; filename="conversation-<${scope.key === 'reportId' ? 'reportId' : 'conversationId'}>.md"\` (or \`.json\`).`, schema: { type: 'string' } },
        },
      },
      ...errors(['invalid_request', `An unknown \`format\`, or \`${scope.key}\` is not a UUID.`], 'unauthorized', ['not_found', scope.notFound], ...SERVER_ERRORS),
    },
  });
  return { exportRoute };
}

export function exportRoutes<K extends 'reportId' | 'conversationId'>(ctx: ChatContext, scope: Scope<K>) {
  const app = routesApp();
  const { exportRoute } = routesOf(scope);
  app.openapi(exportRoute, async (c) => {
    const { format } = c.req.valid('query');
    const { report, conversation, version, messages } = await exportConversation(ctx, c.get('caller'), scope.where(c.req.valid('param')));
    // The version 1 name for the main conversation; a conversation's own id for the others.
    const base = `conversation-${scope.key === 'reportId' ? report.id : conversation.id}`;
    if (format === 'json') {
      c.header('Content-Disposition', `attachment; filename="${base}.json"`);
      return c.json(
        {
          report: { id: report.id, title: report.title },
          conversation: { id: conversation.id, title: conversation.title, isMain: conversation.isMain },
          version,
          exportedAt: new Date().toISOString(),
          messages,
        },
        200,
      );
    }
    c.header('Content-Disposition', `attachment; filename="${base}.md"`);
    c.header('Content-Type', 'text/markdown; charset=utf-8');
    return c.body(exportMarkdown(conversation.isMain ? report.title : `${report.title}: ${conversation.title}`, messages), 200);
  });
  return app;
}
