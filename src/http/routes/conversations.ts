import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { conversationListSchema, conversationSchema, createConversationBody, patchConversationBody } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { createConversation, deleteConversation, getConversation, listConversations, updateConversation } from '../../chat/conversations.js';
import { conversationScope, mainScope } from '../conversation-scope.js';
import { jsonBody, routesApp } from '../request.js';
import { errors, ifMatchHeader, json, jsonRequest, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const TAG = 'Conversations';
const NOT_FOUND = ['not_found', 'No such conversation (visible to you).'] as const;

const listRoute = createRoute({
  method: 'get',
  path: '/{reportId}/conversations',
  operationId: 'listConversations',
  tags: [TAG],
  summary: "List a report's conversations",
  description:
    'The conversations of the report you may see, newest activity first: the main one, the shared ones, and the private ones you started. A private conversation is visible to its creator only, the report owner included.',
  security: SECURITY.user,
  request: { params: mainScope.params },
  responses: {
    200: { description: 'The conversations.', content: json(conversationListSchema) },
    ...errors(['invalid_request', '`reportId` is not a UUID.'], 'unauthorized', ['not_found', mainScope.notFound], ...SERVER_ERRORS),
  },
});

const createConversationRoute = createRoute({
  method: 'post',
  path: '/{reportId}/conversations',
  operationId: 'createConversation',
  tags: [TAG],
  summary: 'Start or fork a conversation',
  description: `Starts a conversation of the report, empty, or forked from another: \`forkFrom: { conversationId, seq }\` copies that conversation's messages \`1..seq\`, in order, with new ids (each copy's \`copiedFrom\` names the message it copies). \`seq\` must be 0 or the seq of an answer that has ended. The source is not changed in any way. Owner and editors; at most \`MAX_CONVERSATIONS_PER_REPORT\` (default 200) per person and report.

Editing a question is a fork just before it (\`seq\` = the question's seq − 1) and a send of the new text in the fork; regenerating an answer is the same with the question's own text.

**Idempotent by \`id\`**: the same body again answers 200 with the conversation and \`Idempotent-Replayed: true\`; another body with that \`id\` is 422.`,
  security: SECURITY.user,
  middleware: [jsonBody] as const,
  request: {
    params: mainScope.params,
    body: jsonRequest(createConversationBody, 'All optional: `id` (send one, to retry safely), `title`, `visibility` (`shared`), `forkFrom`.'),
  },
  responses: {
    200: {
      description: 'A replay: the conversation an earlier request with this `id` and body created.',
      content: json(conversationSchema),
      headers: { 'Idempotent-Replayed': { description: 'Always `true` here.', schema: { type: 'string', enum: ['true'] } } },
    },
    201: { description: 'Created.', content: json(conversationSchema) },
    ...errors(
      ['invalid_request', 'A malformed body, or `forkFrom.seq` is not 0 or the seq of an answer.'],
      'payload_too_large',
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are a viewer.'],
      'csrf',
      ['not_found', 'No such report, or no such conversation to fork in it (visible to you).'],
      ['conversation_busy', 'An answer up to `forkFrom.seq` is still being generated.'],
      'conversation_limit',
      ['idempotency_conflict', 'A conversation with this `id` exists with another body (or is not yours).'],
      ...SERVER_ERRORS,
    ),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{conversationId}',
  operationId: 'getConversation',
  tags: [TAG],
  summary: 'Read a conversation',
  description: 'The conversation (not its messages: `GET /api/conversations/{conversationId}/messages`).',
  security: SECURITY.user,
  request: { params: conversationScope.params },
  responses: {
    200: { description: 'The conversation.', content: json(conversationSchema) },
    ...errors(['invalid_request', '`conversationId` is not a UUID.'], 'unauthorized', NOT_FOUND, ...SERVER_ERRORS),
  },
});

const MANAGER = "You did not start the conversation and are not the report's owner (for the main conversation: you are not the owner).";

const patchRoute = createRoute({
  method: 'patch',
  path: '/{conversationId}',
  operationId: 'updateConversation',
  tags: [TAG],
  summary: 'Rename, share or unshare a conversation',
  description:
    "Changes `title` and `visibility`. The person who started it, or the report's owner (of a shared one; of the main one, only the owner). Making it private closes everyone else's open views of it at once. The main conversation stays shared.",
  security: SECURITY.user,
  middleware: [jsonBody] as const,
  request: { params: conversationScope.params, body: jsonRequest(patchConversationBody, 'At least one of `title`, `visibility`.') },
  responses: {
    200: { description: 'The conversation.', content: json(conversationSchema) },
    ...errors(
      ['invalid_request', 'A malformed body, or the main conversation made private.'],
      'payload_too_large',
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', MANAGER],
      'csrf',
      NOT_FOUND,
      ...SERVER_ERRORS,
    ),
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/{conversationId}',
  operationId: 'deleteConversation',
  tags: [TAG],
  summary: 'Delete a conversation',
  description:
    "Deletes the conversation and its messages. Not the main one (clear it instead). The person who started it, or the report's owner for a shared one. Needs `If-Match` with the current version; its open views close. Forks of it keep their copies.",
  security: SECURITY.user,
  request: {
    params: conversationScope.params,
    headers: z.object({ 'If-Match': ifMatchHeader('The current version, `"<version>"`: 428 without it, 412 when stale.') }),
  },
  responses: {
    204: { description: 'Deleted.' },
    ...errors(
      ['invalid_request', 'A malformed `If-Match` or `conversationId`.'],
      'unauthorized',
      ['forbidden', `${MANAGER} Or it is the main conversation.`],
      'csrf',
      NOT_FOUND,
      'conversation_busy',
      'precondition_failed',
      'precondition_required',
      ...SERVER_ERRORS,
    ),
  },
});

/** Mounted at /api/reports: the conversations of a report. */
export function reportConversationRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(listRoute, async (c) => {
    return c.json({ conversations: await listConversations(ctx, c.get('caller'), c.req.valid('param').reportId) }, 200);
  });
  app.openapi(createConversationRoute, async (c) => {
    const body = c.req.valid('json');
    const { replayed, conversation } = await createConversation(ctx, c.get('caller'), {
      reportId: c.req.valid('param').reportId,
      id: (body.id ?? randomUUID()).toLowerCase(),
      title: body.title,
      visibility: body.visibility,
      forkFrom: body.forkFrom && { conversationId: body.forkFrom.conversationId.toLowerCase(), seq: body.forkFrom.seq },
    });
    if (replayed) return c.json(conversation, 200, { 'Idempotent-Replayed': 'true' });
    return c.json(conversation, 201);
  });
  return app;
}

/** Mounted at /api/conversations: one conversation, by id. */
export function conversationRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(getRoute, async (c) => c.json(await getConversation(ctx, c.get('caller'), c.req.valid('param').conversationId), 200));
  app.openapi(patchRoute, async (c) =>
    c.json(await updateConversation(ctx, c.get('caller'), c.req.valid('param').conversationId, c.req.valid('json')), 200),
  );
  app.openapi(deleteRoute, async (c) => {
    await deleteConversation(ctx, c.get('caller'), c.req.valid('param').conversationId, c.req.valid('header')['If-Match']);
    return c.body(null, 204);
  });
  return app;
}
