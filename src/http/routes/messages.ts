import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { messagesPageSchema, pageQuery, stoppedAnswerSchema } from '../../api/schemas.js';
import { clearConversation, listMessages } from '../../chat/conversation.js';
import type { ChatContext } from '../../chat/context.js';
import { toApiMessage } from '../../chat/message-view.js';
import { stopAnswer } from '../../chat/stop-answer.js';
import { ifNoneMatchVersion, routesApp } from '../request.js';
import { errors, idParam, ifMatchHeader, json, reportIdParam, reportParams, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const ETAG = { ETag: { description: 'The conversation version, `"<version>"`.', schema: { type: 'string' as const, pattern: '^"[0-9]+"$' } } };

const listMessagesRoute = createRoute({
  method: 'get',
  path: '/{reportId}/messages',
  operationId: 'listMessages',
  tags: ['Conversation'],
  summary: 'Read the conversation',
  description:
    'A page of messages, ascending by `seq`. Without `before` or `after`, the newest page. The answer carries `ETag: "<version>"`; `If-None-Match` with the current ETag gives 304. The version does not change while an answer streams (checkpoints are not versioned changes).',
  security: SECURITY.user,
  request: {
    params: reportParams,
    query: pageQuery,
    headers: z.object({
      'If-None-Match': z
        .string()
        .optional()
        .meta({
          param: {
            description:
              'The ETag of a page you hold (`"<version>"` or `W/"<version>"`): 304 when the conversation has not changed. A malformed value never matches.',
          },
          example: '"12"',
        }),
    }),
  },
  responses: {
    200: { description: 'The page.', content: json(messagesPageSchema), headers: ETAG },
    304: { description: 'Not modified: the conversation is still at the version of `If-None-Match`.', headers: ETAG },
    ...errors(['invalid_request', 'A bad query (out of range, or both `before` and `after`) or `reportId`.'], 'unauthorized', 'not_found', ...SERVER_ERRORS),
  },
});

const clearRoute = createRoute({
  method: 'delete',
  path: '/{reportId}/messages',
  operationId: 'clearConversation',
  tags: ['Conversation'],
  summary: 'Clear the conversation',
  description: 'Deletes every message. Owner only. Needs `If-Match` with the current version. Seqs keep growing after a clear; subscribers get a `cleared` event.',
  security: SECURITY.user,
  request: {
    params: reportParams,
    // Required in effect (428 without it), but checked by the operation, after access: a stranger still gets 404.
    headers: z.object({ 'If-Match': ifMatchHeader('The current version, `"<version>"`: 428 without it, 412 when stale.') }),
  },
  responses: {
    204: { description: 'Cleared.' },
    ...errors(
      ['invalid_request', 'A malformed `If-Match` or `reportId`.'],
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      'not_found',
      'conversation_busy',
      'precondition_failed',
      'precondition_required',
      ...SERVER_ERRORS,
    ),
  },
});

const stopRoute = createRoute({
  method: 'post',
  path: '/{reportId}/messages/{messageId}/stop',
  operationId: 'stopAnswer',
  tags: ['Conversation'],
  summary: 'Stop an answer',
  description:
    'Stops the answer wherever it is being generated (any server instance), keeping its partial text; its status becomes `stopped`. Idempotent: an answer that already ended is returned as it is. Owner and editors.',
  security: SECURITY.user,
  request: { params: z.object({ reportId: reportIdParam, messageId: idParam("The answer's id, or the id of the user message it answers.") }) },
  responses: {
    200: { description: 'The answer as it now is.', content: json(stoppedAnswerSchema) },
    ...errors(
      ['invalid_request', 'An id is not a UUID.'],
      'unauthorized',
      ['forbidden', 'You are a viewer.'],
      'csrf',
      ['not_found', 'No such report (visible to you) or message.'],
      ...SERVER_ERRORS,
    ),
  },
});

export function messageRoutes(ctx: ChatContext) {
  const app = routesApp();

  app.openapi(listMessagesRoute, async (c) => {
    const page = await listMessages(ctx, c.get('caller'), c.req.valid('param').reportId, c.req.valid('query'));
    c.header('ETag', `"${page.version}"`);
    c.header('Cache-Control', 'private, no-cache');
    if (ifNoneMatchVersion(c) === page.version) return c.body(null, 304);
    return c.json(page, 200);
  });

  app.openapi(stopRoute, async (c) => {
    const { reportId, message } = await stopAnswer(ctx, c.get('caller'), c.req.valid('param'));
    return c.json({ message: toApiMessage(message, reportId) }, 200);
  });

  app.openapi(clearRoute, async (c) => {
    await clearConversation(ctx, c.get('caller'), c.req.valid('param').reportId, c.req.valid('header')['If-Match']);
    return c.body(null, 204);
  });

  return app;
}
