import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { messagesPageSchema, pageQuery, stoppedAnswerSchema } from '../../api/schemas.js';
import { clearConversation, listMessages } from '../../chat/conversation.js';
import type { ChatContext } from '../../chat/context.js';
import { toApiMessage } from '../../chat/message-view.js';
import { stopAnswer } from '../../chat/stop-answer.js';
import { ifNoneMatchVersion, routesApp } from '../request.js';
import type { Scope } from '../conversation-scope.js';
import { errors, idParam, ifMatchHeader, json, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const ETAG = { ETag: { description: 'The conversation version, `"<version>"`.', schema: { type: 'string' as const, pattern: '^"[0-9]+"$' } } };

function routesOf<K extends 'reportId' | 'conversationId'>(scope: Scope<K>) {
  const listMessagesRoute = createRoute({
    method: 'get',
    path: `${scope.path}/messages`,
    operationId: scope.operationId('listMessages'),
    tags: [scope.tag],
    summary: 'Read the conversation',
    description:
      'A page of messages, ascending by `seq`. Without `before` or `after`, the newest page. The answer carries `ETag: "<version>"`; `If-None-Match` with the current ETag gives 304. The version does not change while an answer streams (checkpoints are not versioned changes).',
    security: SECURITY.user,
    request: {
      params: scope.params,
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
      ...errors(['invalid_request', `A bad query (out of range, or both \`before\` and \`after\`) or \`${scope.key}\`.`], 'unauthorized', ['not_found', scope.notFound], ...SERVER_ERRORS),
    },
  });

  const clearRoute = createRoute({
    method: 'delete',
    path: `${scope.path}/messages`,
    operationId: scope.operationId('clearConversation'),
    tags: [scope.tag],
    summary: 'Clear the conversation',
    description: `Deletes every message. ${scope.key === 'reportId' ? 'Owner only.' : "The person who started the conversation, or the report's owner."} Needs \`If-Match\` with the current version. Seqs keep growing after a clear; subscribers get a \`cleared\` event.`,
    security: SECURITY.user,
    request: {
      params: scope.params,
      // Required in effect (428 without it), but checked by the operation, after access: a stranger still gets 404.
      headers: z.object({ 'If-Match': ifMatchHeader('The current version, `"<version>"`: 428 without it, 412 when stale.') }),
    },
    responses: {
      204: { description: 'Cleared.' },
      ...errors(
        ['invalid_request', `A malformed \`If-Match\` or \`${scope.key}\`.`],
        'unauthorized',
        ['forbidden', scope.key === 'reportId' ? 'You are not the owner.' : "You did not start this conversation and are not the report's owner."],
        'csrf',
        ['not_found', scope.notFound],
        'conversation_busy',
        'precondition_failed',
        'precondition_required',
        ...SERVER_ERRORS,
      ),
    },
  });

  const stopRoute = createRoute({
    method: 'post',
    path: `${scope.path}/messages/{messageId}/stop`,
    operationId: scope.operationId('stopAnswer'),
    tags: [scope.tag],
    summary: 'Stop an answer',
    description:
      'Stops the answer wherever it is being generated (any server instance), keeping its partial text; its status becomes `stopped`. Idempotent: an answer that already ended is returned as it is. Owner and editors.',
    security: SECURITY.user,
    request: { params: scope.params.extend({ messageId: idParam("The answer's id, or the id of the user message it answers.") }) },
    responses: {
      200: { description: 'The answer as it now is.', content: json(stoppedAnswerSchema) },
      ...errors(
        ['invalid_request', 'An id is not a UUID.'],
        'unauthorized',
        ['forbidden', 'You are a viewer.'],
        'csrf',
        ['not_found', `${scope.notFound.replace(/\.$/, '')}, or no such message.`],
        ...SERVER_ERRORS,
      ),
    },
  });
  return { listMessagesRoute, clearRoute, stopRoute };
}

export function messageRoutes<K extends 'reportId' | 'conversationId'>(ctx: ChatContext, scope: Scope<K>) {
  const app = routesApp();
  const { listMessagesRoute, clearRoute, stopRoute } = routesOf(scope);

  app.openapi(listMessagesRoute, async (c) => {
    const page = await listMessages(ctx, c.get('caller'), scope.where(c.req.valid('param')), c.req.valid('query'));
    c.header('ETag', `"${page.version}"`);
    c.header('Cache-Control', 'private, no-cache');
    if (ifNoneMatchVersion(c) === page.version) return c.body(null, 304);
    return c.json(page, 200);
  });

  app.openapi(stopRoute, async (c) => {
    const params = c.req.valid('param');
    const { messageId } = params as { messageId: string };
    const { reportId, message } = await stopAnswer(ctx, c.get('caller'), { where: scope.where(params), messageId });
    return c.json({ message: toApiMessage(message, reportId) }, 200);
  });

  app.openapi(clearRoute, async (c) => {
    await clearConversation(ctx, c.get('caller'), scope.where(c.req.valid('param')), c.req.valid('header')['If-Match']);
    return c.body(null, 204);
  });

  return app;
}
